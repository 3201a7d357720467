"""Sales, shifts and (later) refunds: the money, reconciled to the satang."""
