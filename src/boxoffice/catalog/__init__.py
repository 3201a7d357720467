"""Packages, pricing rules and the pricing engine (pricing.py is pure: no I/O)."""
