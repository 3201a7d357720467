"""The caller of a request: a device, an employee, or an employee logged in on a device."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from boxoffice.core.db import Document
from boxoffice.core.errors import PermissionDenied
from boxoffice.core.repository import Scope

ALL_STORES = "*"


def grants_from(
    memberships: list[Document], role_permissions: Mapping[str, list[str]]
) -> dict[str, frozenset[str]]:
    """Per store (or "*"), the union of the permissions of the active memberships' roles."""
    grants: dict[str, set[str]] = {}
    for membership in memberships:
        if not membership.get("active", True):
            continue
        perms = grants.setdefault(str(membership["store_id"]), set())
        for role_id in membership.get("role_ids", []):
            perms.update(role_permissions.get(role_id, []))
    return {store: frozenset(perms) for store, perms in grants.items()}


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    ip: str | None
    device: Document | None = None
    employee: Document | None = None
    grants: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def device_id(self) -> str | None:
        return str(self.device["device_id"]) if self.device else None

    @property
    def device_store_id(self) -> str | None:
        return str(self.device["store_id"]) if self.device else None

    @property
    def employee_id(self) -> str | None:
        return str(self.employee["employee_id"]) if self.employee else None

    @property
    def actor_id(self) -> str | None:
        """Who the audit log names: the employee if any, else the device."""
        return self.employee_id or self.device_id

    @property
    def is_back_office(self) -> bool:
        return self.employee is not None and self.device is None

    def permissions_at(self, store_id: str) -> frozenset[str]:
        if self.device is not None and store_id != self.device_store_id:
            return frozenset()
        return self.grants.get(ALL_STORES, frozenset()) | self.grants.get(store_id, frozenset())

    def all_permissions(self) -> frozenset[str]:
        return frozenset(p for perms in self.grants.values() for p in perms)

    def stores_with(self, permission: str) -> frozenset[str] | None:
        """The stores where the caller holds `permission`; None means every store of the tenant."""
        if self.device is not None:
            store = self.device_store_id
            return frozenset({store}) if store and permission in self.permissions_at(store) else frozenset()
        if permission in self.grants.get(ALL_STORES, frozenset()):
            return None
        return frozenset(
            store for store, perms in self.grants.items() if permission in perms and store != ALL_STORES
        )

    def scope_with(self, permission: str) -> Scope:
        stores = self.stores_with(permission)
        if stores is not None and not stores:
            raise PermissionDenied(f"This needs the {permission} permission.")
        return Scope(self.tenant_id, stores)

    def visible_scope(self) -> Scope:
        """What the caller may read at all: a device its store; an employee their stores."""
        if self.device is not None:
            return Scope(self.tenant_id, frozenset({str(self.device["store_id"])}))
        if ALL_STORES in self.grants:
            return Scope(self.tenant_id, None)
        return Scope(self.tenant_id, frozenset(self.grants))

    def require_at(self, permission: str, store_id: str) -> None:
        if permission not in self.permissions_at(store_id):
            raise PermissionDenied(f"This needs the {permission} permission at this store.")
