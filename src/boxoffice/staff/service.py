"""Employees, roles and memberships; logins with lockout; single-use supervisor approvals.

Nobody can hand out more than they hold: creating or changing an employee or a membership needs
`employee_manage` and every permission being granted, at every store it is granted for.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from boxoffice.access.policy import BUILTIN_ROLES, PERMISSIONS
from boxoffice.access.principal import ALL_STORES, Principal, grants_from
from boxoffice.audit import service as audit
from boxoffice.core import ratelimit
from boxoffice.core.db import Document
from boxoffice.core.deps import Deps
from boxoffice.core.errors import (
    ApprovalRequired,
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from boxoffice.core.ids import new_id
from boxoffice.core.repository import Scope
from boxoffice.core.security import (
    hash_secret,
    new_secret_token,
    sha256_hex,
)
from boxoffice.staff import signin
from boxoffice.staff.repository import (
    ApprovalRepository,
    EmployeeRepository,
    MembershipRepository,
    RoleRepository,
)
from boxoffice.staff.schemas import (
    EmployeeCreate,
    EmployeeUpdate,
    MembershipIn,
    RoleCreate,
    RoleUpdate,
    VerifyPin,
)
from boxoffice.tenancy.repository import StoreRepository, TenantRepository

APPROVAL_TTL = timedelta(minutes=5)
#: A back-office session may be refreshed up to this long after the password was typed.
SESSION_MAX_AGE = timedelta(hours=12)


# ---- tenants ------------------------------------------------------------------------------------


async def create_tenant(
    deps: Deps,
    *,
    name: str,
    legal_name: str,
    tz: str,
    owner_name: str,
    owner_email: str,
    owner_password: str,
    owner_pin: str | None,
    tenant_id: str | None = None,
) -> dict[str, Any]:
    """A tenant with the built-in roles and its owner (every permission at every store)."""
    tenant_id = tenant_id or new_id()
    scope = Scope(tenant_id)
    now = deps.clock.now()
    await TenantRepository(deps.db, scope).insert(
        {
            "tenant_id": tenant_id,
            "name": name,
            "legal_name": legal_name,
            "tz": tz,
            "currency": "THB",
            "billing_plan": "standard",
            "status": "active",
            "created_at": now,
        }
    )
    role_ids: dict[str, str] = {}
    for role_name, permissions in BUILTIN_ROLES.items():
        role_ids[role_name] = new_id()
        await RoleRepository(deps.db, scope).insert(
            {
                "role_id": role_ids[role_name],
                "name": role_name,
                "permissions": list(permissions),
                "builtin": True,
            }
        )
    owner = await _insert_employee(
        deps,
        scope,
        name=owner_name,
        email=owner_email,
        password=owner_password,
        pin=owner_pin,
        memberships=[MembershipIn(store_id=ALL_STORES, role_ids=[role_ids["Owner"]])],
    )
    await audit.append(
        deps.db,
        deps.clock,
        tenant_id=tenant_id,
        event_type="tenant.created",
        actor_id=owner["employee_id"],
        payload={"name": name, "owner_email": owner_email.lower()},
    )
    return {"tenant_id": tenant_id, "owner_id": owner["employee_id"], "role_ids": role_ids}


# ---- grants -------------------------------------------------------------------------------------


class GrantsCache:
    """An employee's grants by (tenant, employee, session_version), per API process. Every change
    of a membership or of a role's permissions moves the session_version of everyone it touches
    (signin.end_sessions), so an entry under the employee's current session_version is current:
    a signed-in request reads the employee document (it must, for suspension and sign-out) and
    nothing more."""

    MAX_ENTRIES = 20_000

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str, int], dict[str, frozenset[str]]] = {}

    def get(self, key: tuple[str, str, int]) -> dict[str, frozenset[str]] | None:
        return self._entries.get(key)

    def put(self, key: tuple[str, str, int], grants: dict[str, frozenset[str]]) -> None:
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = grants


grants_seen = GrantsCache()


async def session_grants(deps: Deps, employee: Document) -> dict[str, frozenset[str]]:
    """The grants of the employee as this document of them stands (see GrantsCache)."""
    key = (str(employee["tenant_id"]), str(employee["employee_id"]), int(employee.get("session_version", 0)))
    grants = grants_seen.get(key)
    if grants is None:
        grants = await load_grants(deps, key[0], key[1])
        grants_seen.put(key, grants)
    return grants


async def load_grants(deps: Deps, tenant_id: str, employee_id: str) -> dict[str, frozenset[str]]:
    scope = Scope(tenant_id)
    memberships = await MembershipRepository(deps.db, scope).find_many({"employee_id": employee_id})
    role_ids = sorted({r for m in memberships for r in m.get("role_ids", [])})
    roles = await RoleRepository(deps.db, scope).find_many({"role_id": {"$in": role_ids}}) if role_ids else []
    return grants_from(memberships, {r["role_id"]: r["permissions"] for r in roles})


# ---- employees ----------------------------------------------------------------------------------


async def _role_permissions(deps: Deps, tenant_id: str) -> dict[str, list[str]]:
    roles = await RoleRepository(deps.db, Scope(tenant_id)).find_many()
    return {r["role_id"]: list(r["permissions"]) for r in roles}


async def _check_grantable(deps: Deps, principal: Principal, memberships: list[MembershipIn]) -> None:
    """Each membership's store must be the principal's to manage, its roles must exist, and its
    permissions must all be held by the principal at that store."""
    roles = await _role_permissions(deps, principal.tenant_id)
    stores = {s["store_id"] for s in await StoreRepository(deps.db, Scope(principal.tenant_id)).find_many()}
    for membership in memberships:
        if membership.store_id != ALL_STORES and membership.store_id not in stores:
            raise NotFound(f"Store {membership.store_id} not found.")
        held = (
            principal.grants.get(ALL_STORES, frozenset())
            if membership.store_id == ALL_STORES
            else principal.permissions_at(membership.store_id)
        )
        if "employee_manage" not in held:
            raise PermissionDenied("You cannot manage employees at that store.")
        for role_id in membership.role_ids:
            if role_id not in roles:
                raise NotFound(f"Role {role_id} not found.")
            missing = set(roles[role_id]) - held
            if missing:
                raise PermissionDenied(
                    f"You cannot grant permissions you do not hold: {', '.join(sorted(missing))}."
                )


def _guard_target(principal: Principal, target_grants: dict[str, frozenset[str]]) -> None:
    """Managing someone who holds more than you (an owner, say) is refused."""
    for store, perms in target_grants.items():
        held = (
            principal.grants.get(ALL_STORES, frozenset())
            if store == ALL_STORES
            else principal.permissions_at(store)
        )
        if not perms <= held:
            raise PermissionDenied("This employee holds permissions you do not; ask an owner.")


async def _insert_employee(
    deps: Deps,
    scope: Scope,
    *,
    name: str,
    email: str,
    password: str | None,
    pin: str | None,
    memberships: list[MembershipIn],
) -> Document:
    """Insert the employee, then the memberships. PINs need not be unique (the employee is named
    before the PIN is typed), so nothing here can tell anyone whose PIN is whose."""
    employee_id = new_id()
    doc = {
        "employee_id": employee_id,
        "name": name,
        "email": email.lower(),
        "password_hash": await hash_secret(password) if password else None,
        "pin_hash": await hash_secret(pin) if pin else None,
        "status": "active",
        "created_at": deps.clock.now(),
        "session_version": 0,
    }
    try:
        saved = await EmployeeRepository(deps.db, scope).insert(doc)
    except DuplicateKeyError as exc:
        raise Conflict("That email is already used by another employee.") from exc
    for membership in memberships:
        await MembershipRepository(deps.db, scope).insert(
            {"employee_id": employee_id, **membership.model_dump()}
        )
    return saved


async def employee_view(deps: Deps, scope: Scope, employee: Document) -> Document:
    memberships = await MembershipRepository(deps.db, scope).find_many(
        {"employee_id": employee["employee_id"]}, sort=[("store_id", 1)]
    )
    return {
        **employee,
        "has_pin": bool(employee.get("pin_hash")),
        "has_password": bool(employee.get("password_hash")),
        "memberships": memberships,
    }


async def create_employee(deps: Deps, principal: Principal, body: EmployeeCreate) -> Document:
    scope = principal.scope_with("employee_manage")
    await _check_grantable(deps, principal, body.memberships)
    saved = await _insert_employee(
        deps,
        Scope(principal.tenant_id),
        name=body.name,
        email=str(body.email),
        password=body.password,
        pin=body.pin,
        memberships=body.memberships,
    )
    await audit.record(
        deps,
        principal,
        "employee.created",
        {
            "employee_id": saved["employee_id"],
            "memberships": [m.model_dump() for m in body.memberships],
        },
    )
    return await employee_view(deps, Scope(scope.tenant_id), saved)


async def _visible_employee_ids(deps: Deps, scope: Scope) -> list[str] | None:
    """None: every employee of the tenant; else those with a membership at one of the stores."""
    if scope.store_ids is None:
        return None
    rows = await MembershipRepository(deps.db, Scope(scope.tenant_id)).find_many(
        {"store_id": {"$in": sorted(scope.store_ids)}}
    )
    return sorted({r["employee_id"] for r in rows})


async def list_employees(deps: Deps, principal: Principal) -> list[Document]:
    scope = principal.scope_with("employee_manage")
    ids = await _visible_employee_ids(deps, scope)
    filters: dict[str, Any] = {} if ids is None else {"employee_id": {"$in": ids}}
    employees = await EmployeeRepository(deps.db, Scope(scope.tenant_id)).find_many(
        filters, sort=[("name", 1)]
    )
    return [await employee_view(deps, Scope(scope.tenant_id), e) for e in employees]


async def _get_managed(deps: Deps, principal: Principal, employee_id: str) -> Document:
    scope = principal.scope_with("employee_manage")
    ids = await _visible_employee_ids(deps, scope)
    if ids is not None and employee_id not in ids:
        raise NotFound("Employee not found.")
    return await EmployeeRepository(deps.db, Scope(scope.tenant_id)).get(
        {"employee_id": employee_id}, "Employee"
    )


async def get_employee(deps: Deps, principal: Principal, employee_id: str) -> Document:
    employee = await _get_managed(deps, principal, employee_id)
    return await employee_view(deps, Scope(principal.tenant_id), employee)


async def _change_employee(
    deps: Deps,
    principal: Principal,
    employee_id: str,
    changes: dict[str, Any],
    event_type: str,
    payload: dict[str, Any],
) -> Document:
    employee = await _get_managed(deps, principal, employee_id)
    _guard_target(principal, await load_grants(deps, principal.tenant_id, employee_id))
    repo = EmployeeRepository(deps.db, Scope(principal.tenant_id))
    try:
        updated = (
            await repo.find_one_and_update({"employee_id": employee_id}, {"$set": changes})
            if changes
            else employee
        )
    except DuplicateKeyError as exc:
        raise Conflict("That email is already used by another employee.") from exc
    if updated is None:
        # the embedded server answers a unique-index clash of find-and-modify with no document
        if "email" in changes and await repo.find_one({"email": changes["email"]}, {"_id": 1}):
            raise Conflict("That email is already used by another employee.")
        raise NotFound("Employee not found.")
    await audit.record(deps, principal, event_type, {"employee_id": employee_id, **payload})
    return await employee_view(deps, Scope(principal.tenant_id), updated)


async def update_employee(
    deps: Deps, principal: Principal, employee_id: str, body: EmployeeUpdate
) -> Document:
    changes: dict[str, Any] = {}
    if body.name is not None:
        changes["name"] = body.name
    if body.email is not None:
        changes["email"] = str(body.email).lower()
    if body.password is not None:
        changes["password_hash"] = await hash_secret(body.password)
    shown = sorted(k.replace("password_hash", "password") for k in changes)
    result = await _change_employee(
        deps, principal, employee_id, changes, "employee.updated", {"fields": shown}
    )
    if body.password is not None:  # a new password ends every session the old one opened
        await signin.end_sessions(deps, principal.tenant_id, [employee_id])
        await signin.forget_failures(deps, principal.tenant_id, employee_id)
    return result


async def set_employee_status(deps: Deps, principal: Principal, employee_id: str, status: str) -> Document:
    if employee_id == principal.employee_id:
        raise Conflict("You cannot change your own status.")
    event = "employee.suspended" if status == "suspended" else "employee.reactivated"
    result = await _change_employee(deps, principal, employee_id, {"status": status}, event, {})
    await signin.end_sessions(deps, principal.tenant_id, [employee_id])
    return result


async def reset_pin(deps: Deps, principal: Principal, employee_id: str, pin: str) -> Document:
    """A new PIN (any PIN: they need not be unique, so the answer says nothing about others');
    the employee's sessions end, device ones included."""
    await _get_managed(deps, principal, employee_id)
    _guard_target(principal, await load_grants(deps, principal.tenant_id, employee_id))
    changes = {"pin_hash": await hash_secret(pin)}
    result = await _change_employee(deps, principal, employee_id, changes, "employee.pin_reset", {})
    await signin.end_sessions(deps, principal.tenant_id, [employee_id])
    await signin.forget_failures(deps, principal.tenant_id, employee_id)  # a fresh start everywhere
    return result


async def replace_memberships(
    deps: Deps, principal: Principal, employee_id: str, memberships: list[MembershipIn]
) -> Document:
    """Replace the memberships at the stores the caller manages; other stores are left alone."""
    await _get_managed(deps, principal, employee_id)
    _guard_target(principal, await load_grants(deps, principal.tenant_id, employee_id))
    await _check_grantable(deps, principal, memberships)
    scope = Scope(principal.tenant_id)
    repo = MembershipRepository(deps.db, scope)
    managed = principal.stores_with("employee_manage")
    wanted = {m.store_id: m for m in memberships}
    for current in await repo.find_many({"employee_id": employee_id}):
        store = current["store_id"]
        mine = managed is None or store in managed
        if mine and store not in wanted:
            await repo.delete_one({"employee_id": employee_id, "store_id": store})
    for store, membership in wanted.items():
        await repo.update_one(
            {"employee_id": employee_id, "store_id": store},
            {"$set": {"role_ids": membership.role_ids, "active": membership.active}},
            upsert=True,
        )
    await signin.end_sessions(deps, principal.tenant_id, [employee_id])  # they sign in with the new roles
    employee = await EmployeeRepository(deps.db, scope).get({"employee_id": employee_id}, "Employee")
    await audit.record(
        deps,
        principal,
        "employee.memberships_changed",
        {"employee_id": employee_id, "memberships": [m.model_dump() for m in memberships]},
    )
    return await employee_view(deps, scope, employee)


# ---- roles --------------------------------------------------------------------------------------


async def list_roles(deps: Deps, tenant_id: str) -> list[Document]:
    return await RoleRepository(deps.db, Scope(tenant_id)).find_many(sort=[("builtin", -1), ("name", 1)])


def _require_tenant_wide(principal: Principal, permission: str) -> None:
    if principal.stores_with(permission) is not None:
        raise PermissionDenied("Roles are tenant-wide: this needs employee_manage at every store.")


def _within_own(principal: Principal, permissions: Iterable[str], verb: str) -> None:
    """Nobody grants, removes or edits permissions beyond their own (held at every store: roles
    are tenant-wide)."""
    missing = set(permissions) - principal.grants.get(ALL_STORES, frozenset())
    if missing:
        raise PermissionDenied(
            f"You cannot {verb} permissions you do not hold: {', '.join(sorted(missing))}."
        )


async def create_role(deps: Deps, principal: Principal, body: RoleCreate) -> Document:
    _require_tenant_wide(principal, "employee_manage")
    _within_own(principal, body.permissions, "grant")
    repo = RoleRepository(deps.db, Scope(principal.tenant_id))
    if await repo.find_one({"name": body.name}):
        raise Conflict(f"A role named {body.name!r} already exists.")
    role = await repo.insert(
        {"role_id": new_id(), "name": body.name, "permissions": body.permissions, "builtin": False}
    )
    await audit.record(
        deps,
        principal,
        "role.created",
        {"role_id": role["role_id"], "name": body.name, "permissions": body.permissions},
    )
    return role


async def update_role(deps: Deps, principal: Principal, role_id: str, body: RoleUpdate) -> Document:
    _require_tenant_wide(principal, "employee_manage")
    repo = RoleRepository(deps.db, Scope(principal.tenant_id))
    before = await repo.get({"role_id": role_id}, "Role")
    if before["builtin"]:
        raise Conflict("Built-in roles cannot be changed; create a custom role instead.")
    changes = body.model_dump(exclude_none=True)
    _within_own(principal, before["permissions"], "edit a role holding")  # renaming included
    if body.permissions is not None:
        _within_own(principal, body.permissions, "grant")
    after = await repo.find_one_and_update({"role_id": role_id}, {"$set": changes}) if changes else before
    if body.permissions is not None:  # its holders sign in again with what it now grants
        holders = await MembershipRepository(deps.db, Scope(principal.tenant_id)).find_many(
            {"role_ids": role_id}, projection={"_id": 0, "employee_id": 1}
        )
        await signin.end_sessions(deps, principal.tenant_id, [m["employee_id"] for m in holders])
    await audit.record(
        deps,
        principal,
        "role.updated",
        {"role_id": role_id, "before": {k: before.get(k) for k in changes}, "after": changes},
    )
    return after or before


async def delete_role(deps: Deps, principal: Principal, role_id: str) -> None:
    _require_tenant_wide(principal, "employee_manage")
    scope = Scope(principal.tenant_id)
    role = await RoleRepository(deps.db, scope).get({"role_id": role_id}, "Role")
    if role["builtin"]:
        raise Conflict("Built-in roles cannot be deleted.")
    _within_own(principal, role["permissions"], "delete a role holding")
    if await MembershipRepository(deps.db, scope).count({"role_ids": role_id}):
        raise Conflict("This role is still assigned; remove it from every employee first.")
    await RoleRepository(deps.db, scope).delete_one({"role_id": role_id})
    await audit.record(deps, principal, "role.deleted", {"role_id": role_id, "name": role["name"]})


def all_permissions() -> list[str]:
    return list(PERMISSIONS)


# ---- approvals ----------------------------------------------------------------------------------


async def verify_pin(deps: Deps, principal: Principal, body: VerifyPin) -> tuple[Document, str, Document]:
    """A supervisor's PIN → a single-use approval token for one action at one store (and target)."""
    store_id = principal.device_store_id or body.store_id
    if store_id is None:
        raise ValidationFailed("store_id is required for back-office callers.")
    if not principal.visible_scope().allows_store(store_id):
        raise NotFound("Store not found.")
    await ratelimit.hit(deps.db, deps.clock, ratelimit.VERIFY_PIN, principal.actor_id or principal.ip or "-")
    approver = await signin.find_named(
        deps, tenant_id=principal.tenant_id, employee_id=body.employee_id, email=body.email
    )
    if approver is None:
        await signin.refuse_unknown(deps, body.pin, principal.device, principal.ip, "approval.pin_failed")
    await signin.check_secret(
        deps,
        approver,
        body.pin,
        method="pin",
        device=principal.device,
        ip=principal.ip,
        event_type="approval.pin_failed",
    )
    if approver.get("status") != "active":
        await signin.refuse_suspended(deps, approver, principal.device, principal.ip)
    now = deps.clock.now()
    grants = await load_grants(deps, principal.tenant_id, approver["employee_id"])
    if body.action not in grants.get(ALL_STORES, frozenset()) | grants.get(store_id, frozenset()):
        raise PermissionDenied(f"{approver['name']} cannot approve {body.action.replace('_', ' ')} here.")
    await ratelimit.hit(deps.db, deps.clock, ratelimit.APPROVALS_GIVEN, str(approver["employee_id"]))
    token = new_secret_token("ap")
    approval = {
        "approval_id": new_id(),
        "token_hash": sha256_hex(token),
        "store_id": store_id,
        "action": body.action,
        "target_type": body.context.target_type or "",
        "target_id": body.context.target_id or "",
        # What a manual discount may be at most, in one unit (the other is 0 and never matches).
        "discount_amount": body.context.amount if body.context.amount is not None else -1,
        "discount_percent_bp": body.context.percent_bp if body.context.percent_bp is not None else -1,
        "refund_method": body.context.refund_method or "",
        "approver_id": approver["employee_id"],
        "requested_by": principal.actor_id,
        "device_id": principal.device_id,
        "created_at": now,
        "expires_at": now + APPROVAL_TTL,
        "used": False,
        "used_at": None,
    }
    saved = await ApprovalRepository(deps.db, Scope(principal.tenant_id)).insert(approval)
    await audit.append(
        deps.db,
        deps.clock,
        tenant_id=principal.tenant_id,
        store_id=store_id,
        device_id=principal.device_id,
        actor_id=approver["employee_id"],
        ip=principal.ip,
        event_type="approval.granted",
        payload={
            "approval_id": saved["approval_id"],
            "action": body.action,
            "target_type": body.context.target_type,
            "target_id": body.context.target_id,
            "amount": body.context.amount,
            "percent_bp": body.context.percent_bp,
            "refund_method": body.context.refund_method,
            "requested_by": principal.actor_id,
        },
        subjects=[body.context.target_id] if body.context.target_id else None,
    )
    return saved, token, approver


def _approval_match(
    token: str,
    action: str,
    store_id: str,
    target_id: str | None,
    discount: tuple[int, int] | None,
    refund_method: str | None = None,
) -> dict[str, Any]:
    """An approval works for its action and store, for exactly the target it names, and for a
    manual discount up to the amount or percent it names (the other unit is -1: never enough)."""
    match: dict[str, Any] = {
        "token_hash": sha256_hex(token),
        "action": action,
        "store_id": store_id,
        "target_id": target_id or "",
    }
    if refund_method is not None:
        match["refund_method"] = refund_method
    if discount is not None:
        amount, percent_bp = discount
        if amount:
            match["discount_amount"] = {"$gte": amount}
        if percent_bp:
            match["discount_percent_bp"] = {"$gte": percent_bp}
        if not amount and not percent_bp:
            match["discount_amount"] = {"$gte": -1}  # a zero discount: any manual-discount approval
    return match


async def consume_approval(
    deps: Deps,
    *,
    tenant_id: str,
    token: str,
    action: str,
    store_id: str,
    target_id: str | None,
    retry_key: str = "",
    discount: tuple[int, int] | None = None,
    refund_method: str | None = None,
) -> Document:
    """Use an approval once, before anything it pays for is written: it must match action, store,
    target and (a manual discount) size, and be fresh. A retry of the same request (same scoped
    Idempotency-Key, `retry_key`) may present it again."""
    now = deps.clock.now()
    repo = ApprovalRepository(deps.db, Scope(tenant_id))
    match = _approval_match(token, action, store_id, target_id, discount, refund_method)
    found = await repo.find_one(match, with_id=True)  # token hash indexed; the use: a CAS on _id
    used = None
    if found is not None and not found["used"] and found["expires_at"] > now:
        used = await repo.find_one_and_update(
            {"_id": found["_id"], "used": False},
            {"$set": {"used": True, "used_at": now, "used_for": target_id or "", "used_key": retry_key}},
        )
        if used is None:  # taken meanwhile: by this same request's retry, or by another one
            found = await repo.find_one({"_id": found["_id"]})
    if used is None and found is not None and retry_key and found.get("used_key") == retry_key:
        used = found
    if used is None:
        raise ApprovalRequired(
            "A valid manager approval for this action is required (each approval works once, for what "
            "it names)."
        )
    return used


async def approval_is_valid(
    deps: Deps,
    *,
    tenant_id: str,
    token: str,
    action: str,
    store_id: str,
    discount: tuple[int, int] | None = None,
) -> bool:
    """For a preview (a quote): would this approval be accepted now? Does not use it up."""
    found = await ApprovalRepository(deps.db, Scope(tenant_id)).find_one(
        _approval_match(token, action, store_id, None, discount)
    )
    return found is not None and not found["used"] and found["expires_at"] > deps.clock.now()
