"""Tenants, stores, site keys and devices (pairing, login, lifecycle)."""
