"""Tickets: QR signing and the key store (issuance and redemption build on these)."""
