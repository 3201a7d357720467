"""After the sale: refunds and reprints, which act on both a sale and its tickets."""
