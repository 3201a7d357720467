"""Employees, roles and memberships; logins with lockout; single-use supervisor approvals.

Nobody can hand out more than they hold: creating or changing an employee or a membership needs
`employee_manage` and every permission being granted, at every store it is granted for.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
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
    PinLocked,
    Unauthenticated,
    ValidationFailed,
)
from boxoffice.core.ids import new_id
from boxoffice.core.repository import Scope
from boxoffice.core.security import (
    hash_secret,
    issue_access_token,
    keyed_lookup,
    new_secret_token,
    sha256_hex,
    verify_secret,
)
from boxoffice.staff.lockout import FailureState, after_failure, is_locked
from boxoffice.staff.repository import (
    ApprovalRepository,
    EmployeeRepository,
    MembershipRepository,
    PinIndexRepository,
    RoleRepository,
    employee_by_email_unscoped,
)
from boxoffice.staff.schemas import (
    EmployeeCreate,
    EmployeeLogin,
    EmployeeUpdate,
    MembershipIn,
    PasswordLogin,
    PinLogin,
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
            "pin_pepper": secrets.token_hex(32),
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


async def _pin_lookup(deps: Deps, tenant_id: str, pin: str) -> str:
    tenant = await TenantRepository(deps.db, Scope(tenant_id)).get({"tenant_id": tenant_id}, "Tenant")
    return keyed_lookup(str(tenant["pin_pepper"]), pin)


# ---- grants -------------------------------------------------------------------------------------


async def load_grants(deps: Deps, tenant_id: str, employee_id: str) -> dict[str, frozenset[str]]:
    scope = Scope(tenant_id)
    memberships = await MembershipRepository(deps.db, scope).find_many({"employee_id": employee_id})
    role_ids = sorted({r for m in memberships for r in m.get("role_ids", [])})
    roles = await RoleRepository(deps.db, scope).find_many({"role_id": {"$in": role_ids}}) if role_ids else []
    return grants_from(memberships, {r["role_id"]: r["permissions"] for r in roles})


# ---- lockout ------------------------------------------------------------------------------------


def _failure_state(employee: Document) -> FailureState:
    return FailureState(
        employee.get("auth_fail_window_start"),
        int(employee.get("auth_fail_count", 0)),
        employee.get("locked_until"),
    )


def _raise_if_locked(employee: Document, now: datetime) -> None:
    state = _failure_state(employee)
    if is_locked(state, now) and state.locked_until is not None:
        retry = max(1, int((state.locked_until - now).total_seconds()))
        raise PinLocked(headers={"Retry-After": str(retry)}, details={"retry_after_seconds": retry})


async def _record_failure(
    deps: Deps, employee: Document, *, method: str, event_type: str, ip: str | None, device: Document | None
) -> None:
    """Count the failure with a compare-and-set on `auth_version`, so concurrent failures all count.

    (Filters never compare with null: the embedded server answers such queries inconsistently.)
    """
    repo = EmployeeRepository(deps.db, Scope(employee["tenant_id"]))
    current = employee
    for _ in range(10):
        now = deps.clock.now()
        before = _failure_state(current)
        after = after_failure(before, now)
        matched = await repo.update_one(
            {"employee_id": current["employee_id"], "auth_version": current.get("auth_version", 0)},
            {
                "$set": {
                    "auth_fail_count": after.failures,
                    "auth_fail_window_start": after.window_start,
                    "locked_until": after.locked_until,
                },
                "$inc": {"auth_version": 1},
            },
        )
        if matched:
            break
        reloaded = await repo.find_one({"employee_id": current["employee_id"]})
        if reloaded is None:
            return
        current = reloaded
    newly_locked = after.locked_until is not None and not is_locked(before, now) and is_locked(after, now)
    common: dict[str, Any] = {
        "tenant_id": employee["tenant_id"],
        "store_id": device["store_id"] if device else None,
        "device_id": device["device_id"] if device else None,
        "actor_id": employee["employee_id"],
        "ip": ip,
    }
    await audit.append(
        deps.db,
        deps.clock,
        event_type=event_type,
        payload={"method": method, "failures": after.failures},
        **common,
    )
    if newly_locked:
        await audit.append(
            deps.db,
            deps.clock,
            event_type="auth.employee.locked",
            payload={"until": after.locked_until},
            **common,
        )


async def _clear_failures(deps: Deps, employee: Document) -> None:
    if employee.get("auth_fail_count"):
        await EmployeeRepository(deps.db, Scope(employee["tenant_id"])).update_one(
            {"employee_id": employee["employee_id"]},
            {"$set": {"auth_fail_count": 0, "auth_fail_window_start": None}, "$inc": {"auth_version": 1}},
        )


# ---- login --------------------------------------------------------------------------------------


async def _find_by_pin(deps: Deps, tenant_id: str, pin: str) -> Document | None:
    entry = await PinIndexRepository(deps.db, Scope(tenant_id)).find_one(
        {"pin_lookup": await _pin_lookup(deps, tenant_id, pin)}
    )
    if entry is None:
        return None
    return await EmployeeRepository(deps.db, Scope(tenant_id)).find_one({"employee_id": entry["employee_id"]})


async def _find_employee(
    deps: Deps, email: str | None, pin: str | None, tenant_id: str | None
) -> Document | None:
    if email is not None:
        employee = await employee_by_email_unscoped(deps.db, email)
        if employee is not None and tenant_id is not None and employee["tenant_id"] != tenant_id:
            return None
        return employee
    if pin is not None and tenant_id is not None:
        return await _find_by_pin(deps, tenant_id, pin)
    return None


async def _audit_unknown_failure(
    deps: Deps, device: Document | None, ip: str | None, event_type: str
) -> None:
    """A failure that names no known employee is still recorded when the tenant is known (a device)."""
    if device is not None:
        await audit.append(
            deps.db,
            deps.clock,
            tenant_id=device["tenant_id"],
            store_id=device["store_id"],
            device_id=device["device_id"],
            ip=ip,
            event_type=event_type,
            payload={"method": "pin", "reason": "no_match"},
        )


async def login(
    deps: Deps, body: EmployeeLogin, *, ip: str | None, device: Document | None
) -> tuple[Document, str, datetime]:
    """Back-office login (email + password or PIN), or a PIN login bound to the calling device."""
    await ratelimit.hit(
        deps.db, deps.clock, ratelimit.EMPLOYEE_LOGIN, device["device_id"] if device else ip or "-"
    )
    if device is None and body.email is None:
        raise ValidationFailed("Give the email with the password or PIN.")
    method = "password" if isinstance(body, PasswordLogin) else "pin"
    secret = body.password if isinstance(body, PasswordLogin) else body.pin
    pin = body.pin if isinstance(body, PinLogin) else None
    employee = await _find_employee(deps, body.email, pin, device["tenant_id"] if device else None)
    if employee is None:
        await verify_secret(None, secret)
        await _audit_unknown_failure(deps, device, ip, "auth.employee.login_failed")
        raise Unauthenticated("The email, password or PIN is wrong.")
    now = deps.clock.now()
    _raise_if_locked(employee, now)
    stored = employee.get("password_hash") if method == "password" else employee.get("pin_hash")
    if not await verify_secret(stored, secret):
        await _record_failure(
            deps, employee, method=method, event_type="auth.employee.login_failed", ip=ip, device=device
        )
        raise Unauthenticated("The email, password or PIN is wrong.")
    if employee.get("status") != "active":
        raise PermissionDenied("This employee is suspended.")
    await _clear_failures(deps, employee)
    claims: dict[str, Any] = {
        "typ": "employee",
        "sub": employee["employee_id"],
        "tid": employee["tenant_id"],
        "auth_time": int(now.timestamp()),
    }
    if device is not None:
        grants = await load_grants(deps, employee["tenant_id"], employee["employee_id"])
        at_store = grants.get(ALL_STORES, frozenset()) | grants.get(device["store_id"], frozenset())
        if not at_store:
            raise PermissionDenied("This employee does not work at this device's store.")
        claims.update({"did": device["device_id"], "sid": device["store_id"], "tv": device["token_version"]})
    token, expires_at = issue_access_token(deps.settings.jwt_secret, claims, now=now)
    await audit.append(
        deps.db,
        deps.clock,
        tenant_id=employee["tenant_id"],
        store_id=device["store_id"] if device else None,
        device_id=device["device_id"] if device else None,
        actor_id=employee["employee_id"],
        ip=ip,
        event_type="auth.employee.login",
        payload={"method": method, "on_device": device is not None},
    )
    return employee, token, expires_at


async def refresh(deps: Deps, claims: dict[str, Any]) -> tuple[Document, str, datetime]:
    """A fresh token for a back-office session, up to SESSION_MAX_AGE after the real sign-in,
    while the employee is still active."""
    now = deps.clock.now()
    if claims.get("typ") != "employee" or claims.get("did"):
        raise PermissionDenied("Only back-office sessions are refreshed; devices log in again.")
    auth_time = int(claims.get("auth_time", 0))
    if now.timestamp() - auth_time > SESSION_MAX_AGE.total_seconds():
        raise Unauthenticated("This session is too old; sign in again.")
    employee = await EmployeeRepository(deps.db, Scope(str(claims["tid"]))).find_one(
        {"employee_id": claims["sub"]}
    )
    if employee is None or employee.get("status") != "active":
        raise Unauthenticated("This session has ended; sign in again.")
    fresh = {
        "typ": "employee",
        "sub": employee["employee_id"],
        "tid": employee["tenant_id"],
        "auth_time": auth_time,
    }
    token, expires_at = issue_access_token(deps.settings.jwt_secret, fresh, now=now)
    return employee, token, expires_at


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


async def _claim_pin(deps: Deps, scope: Scope, employee_id: str, pin: str) -> None:
    try:
        await PinIndexRepository(deps.db, scope).insert(
            {"pin_lookup": await _pin_lookup(deps, scope.tenant_id, pin), "employee_id": employee_id}
        )
    except DuplicateKeyError as exc:
        raise Conflict("That PIN is already used by another employee; choose another.") from exc


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
    """Claim the PIN first, then insert the employee, then the memberships: a failed insert gives
    the PIN back, so nothing half-made is left behind."""
    employee_id = new_id()
    if pin is not None:
        await _claim_pin(deps, scope, employee_id, pin)
    doc = {
        "employee_id": employee_id,
        "name": name,
        "email": email.lower(),
        "password_hash": await hash_secret(password) if password else None,
        "pin_hash": await hash_secret(pin) if pin else None,
        "status": "active",
        "created_at": deps.clock.now(),
        "auth_fail_count": 0,
        "auth_fail_window_start": None,
        "locked_until": None,
        "auth_version": 0,
    }
    try:
        saved = await EmployeeRepository(deps.db, scope).insert(doc)
    except DuplicateKeyError as exc:
        await PinIndexRepository(deps.db, scope).delete_one({"employee_id": employee_id})
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
    return await _change_employee(
        deps, principal, employee_id, changes, "employee.updated", {"fields": shown}
    )


async def set_employee_status(deps: Deps, principal: Principal, employee_id: str, status: str) -> Document:
    if employee_id == principal.employee_id:
        raise Conflict("You cannot change your own status.")
    event = "employee.suspended" if status == "suspended" else "employee.reactivated"
    return await _change_employee(deps, principal, employee_id, {"status": status}, event, {})


async def reset_pin(deps: Deps, principal: Principal, employee_id: str, pin: str) -> Document:
    await _get_managed(deps, principal, employee_id)
    _guard_target(principal, await load_grants(deps, principal.tenant_id, employee_id))
    scope = Scope(principal.tenant_id)
    index = PinIndexRepository(deps.db, scope)
    lookup = await _pin_lookup(deps, principal.tenant_id, pin)
    existing = await index.find_one({"pin_lookup": lookup})
    if existing is None:
        await _claim_pin(deps, scope, employee_id, pin)
    elif existing["employee_id"] != employee_id:
        raise Conflict("That PIN is already used by another employee; choose another.")
    changes = {
        "pin_hash": await hash_secret(pin),
        "auth_fail_count": 0,
        "auth_fail_window_start": None,
        "locked_until": None,
        "auth_version": 0,
    }
    result = await _change_employee(deps, principal, employee_id, changes, "employee.pin_reset", {})
    # The old PIN stops finding this employee only after the new one is in place.
    await index.delete_many({"employee_id": employee_id, "pin_lookup": {"$ne": lookup}})
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


async def create_role(deps: Deps, principal: Principal, body: RoleCreate) -> Document:
    _require_tenant_wide(principal, "employee_manage")
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
    if body.permissions is not None:
        missing = set(body.permissions) - principal.grants.get(ALL_STORES, frozenset())
        if missing:
            raise PermissionDenied(
                f"You cannot grant permissions you do not hold: {', '.join(sorted(missing))}."
            )
    after = await repo.find_one_and_update({"role_id": role_id}, {"$set": changes}) if changes else before
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
    approver = await _find_employee(deps, body.email, body.pin, principal.tenant_id)
    if approver is None:
        await verify_secret(None, body.pin)
        await audit.record(
            deps,
            principal,
            "approval.pin_failed",
            {"action": body.action, "reason": "no_match"},
            store_id=store_id,
            device_id=principal.device_id,
        )
        raise Unauthenticated("That PIN is wrong.")
    now = deps.clock.now()
    _raise_if_locked(approver, now)
    if not await verify_secret(approver.get("pin_hash"), body.pin):
        await _record_failure(
            deps,
            approver,
            method="pin",
            event_type="approval.pin_failed",
            ip=principal.ip,
            device=principal.device,
        )
        raise Unauthenticated("That PIN is wrong.")
    if approver.get("status") != "active":
        raise PermissionDenied("This employee is suspended.")
    await _clear_failures(deps, approver)
    grants = await load_grants(deps, principal.tenant_id, approver["employee_id"])
    if body.action not in grants.get(ALL_STORES, frozenset()) | grants.get(store_id, frozenset()):
        raise PermissionDenied(f"{approver['name']} cannot approve {body.action.replace('_', ' ')} here.")
    token = new_secret_token("ap")
    approval = {
        "approval_id": new_id(),
        "token_hash": sha256_hex(token),
        "store_id": store_id,
        "action": body.action,
        "target_type": body.context.target_type or "",
        "target_id": body.context.target_id or "",
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
            "requested_by": principal.actor_id,
        },
        subjects=[body.context.target_id] if body.context.target_id else None,
    )
    return saved, token, approver


async def consume_approval(
    deps: Deps,
    *,
    tenant_id: str,
    token: str,
    action: str,
    store_id: str,
    target_id: str | None,
    retry_key: str = "",
) -> Document:
    """Use an approval once: it must match action, store and (when it names one) target, and be fresh.
    A retry of the same request (same Idempotency-Key, `retry_key`) may present it again."""
    now = deps.clock.now()
    repo = ApprovalRepository(deps.db, Scope(tenant_id))
    match = {
        "token_hash": sha256_hex(token),
        "action": action,
        "store_id": store_id,
        "target_id": {"$in": ["", target_id or ""]},
    }
    used = await repo.find_one_and_update(
        {**match, "used": False, "expires_at": {"$gt": now}},
        {"$set": {"used": True, "used_at": now, "used_for": target_id or "", "used_key": retry_key}},
    )
    if used is None and retry_key:
        used = await repo.find_one({**match, "used": True, "used_key": retry_key})
    if used is None:
        raise ApprovalRequired(
            "A valid manager approval for this action is required (each approval works once)."
        )
    return used


async def approval_is_valid(deps: Deps, *, tenant_id: str, token: str, action: str, store_id: str) -> bool:
    """For a preview (a quote): would this approval be accepted now? Does not use it up."""
    found = await ApprovalRepository(deps.db, Scope(tenant_id)).find_one(
        {
            "token_hash": sha256_hex(token),
            "action": action,
            "store_id": store_id,
            "used": False,
            "expires_at": {"$gt": deps.clock.now()},
        }
    )
    return found is not None
