"""The append-only audit log, one hash chain per tenant."""
