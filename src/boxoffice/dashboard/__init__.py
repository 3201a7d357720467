"""The back office's home: one store's day so far, in one request."""
