"""Tenant settings with per-store overrides, resolved into one effective set with an ETag."""
