"""Every query on employees, roles, memberships, sign-in failures and approvals."""

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


class AuthFailureRepository(ScopedRepository):
    """Wrong secrets per (employee, source), keyed `_id = tenant:employee:source` (staff/lockout.py)."""

    collection_name = C.AUTH_FAILURES
    store_scoped = False


class ApprovalRepository(ScopedRepository):
    collection_name = C.APPROVALS


async def employee_by_email_unscoped(db: Database, email: str) -> Document | None:
    """Back-office login names no tenant: emails are unique across tenants."""
    return decode_doc(await db[C.EMPLOYEES].find_one({"email": email.lower()}, {"_id": 0}))
