"""A store's pricing context — the store, its effective settings, its packages and active rules —
cached per API process and checked on every use against the tenant's `pricing` change counter,
which every write to stores, settings, packages and rules moves on (`ScopedRepository.bumps`).

So a quote or a sale reads one small document by `_id` instead of five (the store, two settings
levels, packages, rules), and a change made through any replica applies to the very next sale.
The cached documents are shared between requests: read them, never change them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from boxoffice.catalog.repository import PackageRepository, RuleRepository
from boxoffice.core.db import Document
from boxoffice.core.deps import Deps
from boxoffice.core.repository import Scope, versions_of
from boxoffice.settings import service as settings_service
from boxoffice.tenancy.repository import StoreRepository

COUNTER = "pricing"


@dataclass(frozen=True)
class StoreContext:
    store: Document
    settings: dict[str, Any]  # the effective values
    packages: list[Document]  # every package the store sees, active or not
    rules: list[Document]  # the active rules the store sees


class ContextCache:
    """(tenant, store) → (counter value it was read under, context)."""

    MAX_ENTRIES = 5_000

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], tuple[int, StoreContext]] = {}

    def get(self, key: tuple[str, str], version: int) -> StoreContext | None:
        entry = self._entries.get(key)
        return entry[1] if entry is not None and entry[0] == version else None

    def put(self, key: tuple[str, str], version: int, context: StoreContext) -> None:
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (version, context)


contexts = ContextCache()


async def store_context(deps: Deps, tenant_id: str, store_id: str) -> StoreContext:
    """The caller must already have checked that it may see `store_id`. The counter is read before
    the documents: a change written meanwhile moves it past what is cached here, so the next call
    reads again."""
    version = (await versions_of(deps.db, tenant_id)).get(COUNTER, 0)
    key = (tenant_id, store_id)
    cached = contexts.get(key, version)
    if cached is not None:
        return cached
    scope = Scope(tenant_id)
    store = await StoreRepository(deps.db, scope).get({"store_id": store_id}, "Store")
    settings = (await settings_service.effective(deps, tenant_id, store_id))["values"]
    packages = await PackageRepository(deps.db, scope).for_store(store_id, active_only=False)
    rules = await RuleRepository(deps.db, scope).for_store(store_id, active_only=True)
    context = StoreContext(store, settings, packages, rules)
    contexts.put(key, version, context)
    return context
