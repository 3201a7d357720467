"""Every query on `settings`: one document per tenant (store_id "") and per overriding store."""

from __future__ import annotations

from boxoffice.core.db import C
from boxoffice.core.repository import ScopedRepository

TENANT_LEVEL = ""


class SettingsRepository(ScopedRepository):
    collection_name = C.SETTINGS
    bumps = "pricing"  # catalog/context.py caches a store's effective settings
    store_scoped = False  # the tenant level (store_id "") is read by every store's callers
