"""Signing in and checking secrets: passwords in the back office, PINs on a paired device with the
employee named first (a name tile, then the PIN), and supervisors' PINs for approvals.

Failures are slowed per source and budgeted per employee and per tenant (`staff/lockout.py` says
how, and why that bounds guessing however many devices or addresses an attacker has); a burst of
wrong secrets across a tenant, or an employee's budget running out, raises an owner alert.
Sessions carry the employee's `session_version`: sign-out, a password or PIN change, a change of
roles and a suspension bump it, and every session issued before ends on its next request.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from boxoffice.access.principal import ALL_STORES
from boxoffice.alerts import service as alerts
from boxoffice.audit import service as audit
from boxoffice.core import ratelimit
from boxoffice.core.db import Document
from boxoffice.core.deps import Deps
from boxoffice.core.errors import PermissionDenied, PinLocked, Unauthenticated, ValidationFailed
from boxoffice.core.repository import Scope
from boxoffice.core.security import issue_access_token, verify_secret
from boxoffice.staff import lockout
from boxoffice.staff.repository import (
    AuthFailureRepository,
    EmployeeRepository,
    MembershipRepository,
    employee_by_email_unscoped,
)
from boxoffice.staff.schemas import EmployeeLogin, PasswordLogin

#: A back-office session may be refreshed up to this long after the password was typed.
SESSION_MAX_AGE = timedelta(hours=12)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def source_of(device: Document | None, ip: str | None) -> str:
    """Where a guess comes from: the device for a PIN typed on one, else the network address."""
    return f"device:{device['device_id']}" if device is not None else f"ip:{ip or '-'}"


def _state(doc: Document | None) -> lockout.SourceState:
    if doc is None:
        return lockout.SourceState()
    return lockout.SourceState(
        doc.get("window_start"),
        int(doc.get("failures", 0)),
        doc.get("locked_until"),
        int(doc.get("lockouts", 0)),
        bool(doc.get("trusted", False)),
    )


def _fields(state: lockout.SourceState) -> dict[str, Any]:
    return {
        "window_start": state.window_start,
        "failures": state.failures,
        "locked_until": state.locked_until,
        "lockouts": state.lockouts,
        "trusted": state.trusted,
    }


def _day_end(now: datetime) -> datetime:
    return datetime.fromtimestamp((int(now.timestamp()) // 86_400 + 1) * 86_400, UTC)


def _budget_keys(employee: Document, now: datetime) -> tuple[str, str]:
    day = int(now.timestamp()) // 86_400
    return (
        f"pin_budget:{employee['tenant_id']}:{employee['employee_id']}:{day}",
        f"pin_budget:{employee['tenant_id']}:*:{day}",
    )


def _locked(until: datetime, now: datetime, why: str) -> PinLocked:
    retry = max(1, int((until - now).total_seconds()))
    return PinLocked(why, headers={"Retry-After": str(retry)}, details={"retry_after_seconds": retry})


async def check_secret(
    deps: Deps,
    employee: Document,
    secret: str,
    *,
    method: str,
    device: Document | None,
    ip: str | None,
    event_type: str,
) -> None:
    """Verify the employee's password or PIN from this source, or raise: 423 while the source is
    slowed or the budgets for strangers are spent, 401 when it is wrong (counted and audited)."""
    now = deps.clock.now()
    tenant_id = str(employee["tenant_id"])
    source = source_of(device, ip)
    repo = AuthFailureRepository(deps.db, Scope(tenant_id))
    key = f"{tenant_id}:{employee['employee_id']}:{source}"
    doc = await repo.find_one({"_id": key}, with_id=True)
    state = _state(doc)
    if lockout.is_locked(state, now) and state.locked_until is not None:
        raise _locked(state.locked_until, now, "Too many wrong attempts from here; wait and try again.")
    own_key, tenant_key = _budget_keys(employee, now)
    spent = {own_key: 0, tenant_key: 0}
    if not state.trusted:
        spent = await ratelimit.counts(deps.db, [own_key, tenant_key])
        if (
            spent[own_key] >= lockout.UNTRUSTED_DAILY_BUDGET
            or spent[tenant_key] >= lockout.TENANT_UNTRUSTED_DAILY_BUDGET
        ):
            raise _locked(_day_end(now), now, "Sign in from a device or network you have used before.")
    stored = employee.get("password_hash") if method == "password" else employee.get("pin_hash")
    if await verify_secret(stored, secret):
        if doc is None or state != lockout.after_success(state):
            await repo.update_one(
                {"_id": key},
                {
                    "$set": {
                        **_fields(lockout.after_success(state)),
                        "employee_id": employee["employee_id"],
                        "source": source,
                    },
                    "$inc": {"version": 1},
                },
                upsert=True,
            )
        return
    state, after = await _count_failure(repo, key, doc, employee, source, now)
    exhausted = False
    if not state.trusted:
        end = _day_end(now)
        own = await ratelimit.take_from_cap(deps.db, own_key, lockout.UNTRUSTED_DAILY_BUDGET, end)
        whole = await ratelimit.take_from_cap(deps.db, tenant_key, lockout.TENANT_UNTRUSTED_DAILY_BUDGET, end)
        # (`spent` was read just before: this failure took the last of the allowance, or none was left)
        exhausted = not own or spent[own_key] + 1 >= lockout.UNTRUSTED_DAILY_BUDGET
        exhausted = exhausted or not whole or spent[tenant_key] + 1 >= lockout.TENANT_UNTRUSTED_DAILY_BUDGET
    common: dict[str, Any] = {
        "tenant_id": tenant_id,
        "store_id": device["store_id"] if device else None,
        "device_id": device["device_id"] if device else None,
        "actor_id": employee["employee_id"],
        "ip": ip,
    }
    await audit.append(
        deps.db,
        deps.clock,
        event_type=event_type,
        payload={"method": method, "source": source, "trusted_source": state.trusted},
        **common,
    )
    if after.locked_until is not None and not lockout.is_locked(state, now):
        await audit.append(
            deps.db,
            deps.clock,
            event_type="auth.employee.locked",
            payload={"until": after.locked_until, "source": source, "lockouts": after.lockouts},
            **common,
        )
    await _watch_for_guessing(deps, employee, now, exhausted=exhausted)
    raise Unauthenticated("The email, password or PIN is wrong.")


async def _count_failure(
    repo: AuthFailureRepository,
    key: str,
    doc: Document | None,
    employee: Document,
    source: str,
    now: datetime,
) -> tuple[lockout.SourceState, lockout.SourceState]:
    """Count one failure with a compare-and-set on the pair's `version` (addressed by `_id`), so
    concurrent wrong guesses all count. Returns the state before and after."""
    if doc is None:
        await repo.update_one(
            {"_id": key},
            {
                "$setOnInsert": {
                    **_fields(lockout.SourceState()),
                    "employee_id": employee["employee_id"],
                    "source": source,
                    "version": 0,
                }
            },
            upsert=True,
        )
        doc = await repo.find_one({"_id": key}, with_id=True)
    for _ in range(20):
        assert doc is not None
        before = _state(doc)
        after = lockout.after_failure(before, now)
        changed = await repo.update_one(
            {"_id": key, "version": int(doc.get("version", 0))},
            {"$set": _fields(after), "$inc": {"version": 1}},
        )
        if changed:
            return before, after
        doc = await repo.find_one({"_id": key}, with_id=True)
    raise RuntimeError("sign-in failure counter too contended")


async def _watch_for_guessing(deps: Deps, employee: Document, now: datetime, *, exhausted: bool) -> None:
    """Tell the owner early: a burst of wrong secrets across the tenant in an hour, or one
    employee's budget for strangers spent (someone is guessing their PIN or password)."""
    tenant_id = str(employee["tenant_id"])
    hour = int(now.timestamp()) // 3_600
    burst = await ratelimit.bump(deps.db, f"pin_burst:{tenant_id}:{hour}", now + HOUR)
    if burst == lockout.TENANT_BURST_ALERT:
        await alerts.raise_alert(
            deps,
            tenant_id,
            kind="pin_burst",
            cause_key=str(hour),
            store_id=None,
            title="Many wrong PINs and passwords",
            detail=f"{burst} wrong PINs or passwords in one hour across your stores: someone may be "
            "guessing. The audit log lists each attempt with its device and address.",
            links={"audit_event_type": "auth.employee.login_failed"},
        )
    if exhausted:
        day = int(now.timestamp()) // 86_400
        await alerts.raise_alert(
            deps,
            tenant_id,
            kind="account_guessing",
            cause_key=f"{employee['employee_id']}:{day}",
            store_id=None,
            title=f"Someone is guessing {employee['name']}'s PIN or password",
            detail="Today's allowance of wrong attempts from new devices and addresses is spent: only "
            "devices and networks they have signed in from before may still try.",
            links={"employee_id": str(employee["employee_id"])},
        )


async def find_named(
    deps: Deps, *, tenant_id: str | None, employee_id: str | None, email: str | None
) -> Document | None:
    """The employee a sign-in names: by id on a device (the name tile), else by email."""
    if employee_id is not None and tenant_id is not None:
        return await EmployeeRepository(deps.db, Scope(tenant_id)).find_one({"employee_id": employee_id})
    if email is not None:
        employee = await employee_by_email_unscoped(deps.db, email)
        if employee is not None and tenant_id is not None and employee["tenant_id"] != tenant_id:
            return None
        return employee
    return None


async def refuse_unknown(
    deps: Deps, secret: str, device: Document | None, ip: str | None, event: str
) -> NoReturn:
    """A sign-in naming nobody we know: as slow as a real check, audited when the tenant is known."""
    await verify_secret(None, secret)
    if device is not None:
        await audit.append(
            deps.db,
            deps.clock,
            tenant_id=device["tenant_id"],
            store_id=device["store_id"],
            device_id=device["device_id"],
            ip=ip,
            event_type=event,
            payload={"reason": "unknown_employee"},
        )
    raise Unauthenticated("The email, password or PIN is wrong.")


async def refuse_suspended(
    deps: Deps, employee: Document, device: Document | None, ip: str | None
) -> NoReturn:
    await audit.append(
        deps.db,
        deps.clock,
        tenant_id=str(employee["tenant_id"]),
        store_id=device["store_id"] if device else None,
        device_id=device["device_id"] if device else None,
        actor_id=str(employee["employee_id"]),
        ip=ip,
        event_type="auth.employee.suspended_refused",
        payload={},
    )
    raise PermissionDenied("This employee is suspended.")


async def login(
    deps: Deps, body: EmployeeLogin, *, ip: str | None, device: Document | None
) -> tuple[Document, str, datetime]:
    """The back office signs in with email and password only; a PIN opens a session only on a
    paired device, for the employee named on it, who must work at its store."""
    await ratelimit.hit(
        deps.db, deps.clock, ratelimit.EMPLOYEE_LOGIN, device["device_id"] if device else ip or "-"
    )
    is_password = isinstance(body, PasswordLogin)
    if device is None and not is_password:
        raise ValidationFailed(
            "The back office signs in with email and password; PINs work on a paired device."
        )
    if device is not None and is_password:
        raise ValidationFailed("On a device, tap your name and type your PIN.")
    secret = body.password if isinstance(body, PasswordLogin) else body.pin
    employee = await find_named(
        deps,
        tenant_id=device["tenant_id"] if device else None,
        employee_id=None if is_password else getattr(body, "employee_id", None),
        email=body.email if isinstance(body, PasswordLogin) else None,
    )
    if employee is None:
        await refuse_unknown(deps, secret, device, ip, "auth.employee.login_failed")
    method = "password" if is_password else "pin"
    await check_secret(
        deps, employee, secret, method=method, device=device, ip=ip, event_type="auth.employee.login_failed"
    )
    if employee.get("status") != "active":
        await refuse_suspended(deps, employee, device, ip)
    now = deps.clock.now()
    claims: dict[str, Any] = {
        "typ": "employee",
        "sub": employee["employee_id"],
        "tid": employee["tenant_id"],
        "auth_time": int(now.timestamp()),
        "sv": int(employee.get("session_version", 0)),
    }
    if device is not None:
        if not await works_at(deps, employee, str(device["store_id"])):
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


async def works_at(deps: Deps, employee: Document, store_id: str) -> bool:
    memberships = await MembershipRepository(deps.db, Scope(str(employee["tenant_id"]))).find_many(
        {"employee_id": employee["employee_id"], "active": True}
    )
    return any(m["store_id"] in (ALL_STORES, store_id) for m in memberships)


async def staff_at(deps: Deps, device: Document) -> list[Document]:
    """The name tiles a device shows: active employees who work at its store, by name."""
    tenant = Scope(str(device["tenant_id"]))
    memberships = await MembershipRepository(deps.db, tenant).find_many(
        {"store_id": {"$in": [ALL_STORES, str(device["store_id"])]}, "active": True}
    )
    ids = sorted({m["employee_id"] for m in memberships})
    if not ids:
        return []
    return await EmployeeRepository(deps.db, tenant).find_many(
        {"employee_id": {"$in": ids}, "status": "active"},
        sort=[("name", 1)],
        projection={"_id": 0, "employee_id": 1, "name": 1},
    )


def session_is_current(employee: Document, claims: dict[str, Any]) -> bool:
    return int(claims.get("sv", 0)) == int(employee.get("session_version", 0))


async def refresh(deps: Deps, claims: dict[str, Any]) -> tuple[Document, str, datetime]:
    """A fresh token for a back-office session, up to SESSION_MAX_AGE after the real sign-in,
    while the employee is still active and has not signed out (or changed password or roles)."""
    now = deps.clock.now()
    if claims.get("typ") != "employee" or claims.get("did"):
        raise PermissionDenied("Only back-office sessions are refreshed; devices log in again.")
    auth_time = int(claims.get("auth_time", 0))
    if now.timestamp() - auth_time > SESSION_MAX_AGE.total_seconds():
        raise Unauthenticated("This session is too old; sign in again.")
    employee = await EmployeeRepository(deps.db, Scope(str(claims["tid"]))).find_one(
        {"employee_id": claims["sub"]}
    )
    if employee is None or employee.get("status") != "active" or not session_is_current(employee, claims):
        raise Unauthenticated("This session has ended; sign in again.")
    fresh = {
        "typ": "employee",
        "sub": employee["employee_id"],
        "tid": employee["tenant_id"],
        "auth_time": auth_time,
        "sv": int(employee.get("session_version", 0)),
    }
    token, expires_at = issue_access_token(deps.settings.jwt_secret, fresh, now=now)
    return employee, token, expires_at


async def end_sessions(deps: Deps, tenant_id: str, employee_ids: list[str]) -> None:
    """Every session these employees hold ends on its next request (back office and devices)."""
    if employee_ids:
        await EmployeeRepository(deps.db, Scope(tenant_id)).update_many(
            {"employee_id": {"$in": sorted(set(employee_ids))}}, {"$inc": {"session_version": 1}}
        )


async def forget_failures(deps: Deps, tenant_id: str, employee_id: str) -> None:
    """A new PIN or password: the old one's failures and lockouts no longer mean anything."""
    await AuthFailureRepository(deps.db, Scope(tenant_id)).delete_many({"employee_id": employee_id})
