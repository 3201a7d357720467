"""Every query on employees, roles, memberships, PIN lookups and approvals."""

from __future__ import annotations

from boxoffice.core.db import C, Database, Document, decode_doc
from boxoffice.core.repository import ScopedRepository


class EmployeeRepository(ScopedRepository):
    collection_name = C.EMPLOYEES
    store_scoped = False


class RoleRepository(ScopedRepository):
    collection_name = C.ROLES
    store_scoped = False


class MembershipRepository(ScopedRepository):
    """Membership store_id is a store, or "*" for every store of the tenant (owners)."""

    collection_name = C.MEMBERSHIPS
    store_scoped = False  # a store-limited admin filters explicitly (it must see "*" rows too)


class PinIndexRepository(ScopedRepository):
    """(tenant_id, pin_lookup) is unique: one PIN finds one employee, and PINs are not shared."""

    collection_name = C.PIN_INDEX
    store_scoped = False


class ApprovalRepository(ScopedRepository):
    collection_name = C.APPROVALS


async def employee_by_email_unscoped(db: Database, email: str) -> Document | None:
    """Back-office login names no tenant: emails are unique across tenants."""
    return decode_doc(await db[C.EMPLOYEES].find_one({"email": email.lower()}, {"_id": 0}))
