"""FastAPI dependencies that turn a bearer token into a Principal and guard routes by it.

`DeviceRoute("sales.create")` admits devices per the route table (and staff in the back office);
`StaffWith("device_manage")` admits back-office employee sessions holding the permission.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from boxoffice.access.policy import DEVICE_ROUTES, device_route_denial
from boxoffice.access.principal import Principal
from boxoffice.audit import service as audit
from boxoffice.core.context import current_context
from boxoffice.core.db import Document
from boxoffice.core.deps import AppDeps, Deps, client_ip
from boxoffice.core.errors import DeviceSuspended, PermissionDenied, Unauthenticated
from boxoffice.core.repository import Scope
from boxoffice.core.security import decode_access_token
from boxoffice.staff.repository import EmployeeRepository
from boxoffice.staff.service import session_grants
from boxoffice.tenancy.service import authenticate_device

bearer = HTTPBearer(
    auto_error=False,
    description="An access token from /v1/auth/device/login or /v1/employees/login.",
)


async def token_claims(
    deps: AppDeps, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> dict[str, Any]:
    if credentials is None:
        raise Unauthenticated("Authorization: Bearer <token> is required.")
    claims = decode_access_token(deps.settings.jwt_secret, credentials.credentials, now=deps.clock.now())
    if claims.get("typ") not in ("device", "employee"):
        raise Unauthenticated("The access token is not valid.")
    return claims


Claims = Annotated[dict[str, Any], Depends(token_claims)]


async def current_principal(request: Request, deps: AppDeps, claims: Claims) -> Principal:
    return await principal_from_claims(deps, claims, client_ip(request))


async def sync_principal(request: Request, deps: AppDeps, claims: Claims) -> Principal:
    """For /v1/sync/batch only: a suspended device still uploads what it did before."""
    return await principal_from_claims(deps, claims, client_ip(request), uploading=True)


async def principal_from_claims(
    deps: Deps, claims: dict[str, Any], ip: str | None, *, uploading: bool = False
) -> Principal:
    """Who verified claims belong to, checked against the database now (device status, token
    version, employee status, current grants)."""
    if claims.get("scp") == "sync" and not uploading:
        raise DeviceSuspended("This device is suspended; it may only upload its offline work.")
    tenant_id = str(claims["tid"])
    ctx = current_context()
    if ctx is not None:
        ctx.tenant_id = tenant_id
    device_id = claims["sub"] if claims["typ"] == "device" else claims.get("did")
    device = None
    if device_id:
        if ctx is not None:
            ctx.device_id = str(device_id)
        device = await authenticate_device(
            deps, tenant_id, str(device_id), claims.get("tv"), ip, allow_suspended=uploading
        )
    if claims["typ"] == "device":
        return Principal(tenant_id=tenant_id, ip=ip, device=device)
    employee_id = str(claims["sub"])
    if ctx is not None:
        ctx.employee_id = employee_id
    return await employee_principal(
        deps, tenant_id, employee_id, ip, device, session_version=int(claims.get("sv", 0))
    )


async def employee_principal(
    deps: Deps,
    tenant_id: str,
    employee_id: str,
    ip: str | None,
    device: Document | None,
    *,
    session_version: int | None = None,
) -> Principal:
    """An active employee with their current grants; on a device, only those at its store. With
    `session_version` (from a token), a session their sign-out, password change, role change or
    suspension ended is refused. A suspended employee's attempt is audited with device and address."""
    employee = await EmployeeRepository(deps.db, Scope(tenant_id)).find_one({"employee_id": employee_id})
    if employee is None:
        raise Unauthenticated("This session has ended; sign in again.")
    if employee.get("status") != "active":
        await audit.append(
            deps.db,
            deps.clock,
            tenant_id=tenant_id,
            store_id=device["store_id"] if device else None,
            device_id=device["device_id"] if device else None,
            actor_id=employee_id,
            ip=ip,
            event_type="auth.employee.suspended_refused",
            payload={},
        )
        raise Unauthenticated("This session has ended; sign in again.")
    if session_version is not None and session_version != int(employee.get("session_version", 0)):
        raise Unauthenticated("This session has ended; sign in again.")
    grants = await session_grants(deps, employee)
    if device is not None:
        store = str(device["store_id"])
        grants = {store: grants.get("*", frozenset()) | grants.get(store, frozenset())}
    return Principal(tenant_id=tenant_id, ip=ip, device=device, employee=employee, grants=grants)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def check_device_route(principal: Principal, route: str) -> None:
    """A device may call `route` if its type and caps allow it and, with an employee signed in on
    it, that employee holds the route's permission at the device's store."""
    assert principal.device is not None
    denial = device_route_denial(
        route,
        str(principal.device["type"]),
        principal.device.get("caps", {}),
        employee_signed_in=principal.employee is not None,
    )
    if denial:
        raise PermissionDenied(denial)
    _, _, permission = DEVICE_ROUTES[route]
    store = str(principal.device["store_id"])
    if principal.employee is not None and permission and permission not in principal.permissions_at(store):
        raise PermissionDenied(f"This needs the {permission} permission.")


def device_route(route: str, *, staff: bool = True) -> Any:
    """A business route: devices per DEVICE_ROUTES; back-office staff too unless `staff=False`."""

    async def guard(principal: CurrentPrincipal) -> Principal:
        if principal.device is not None:
            check_device_route(principal, route)
        elif not staff:
            raise PermissionDenied("Only a device can call this endpoint.")
        return principal

    guard.device_route = route  # type: ignore[attr-defined]  # lets tests find every device route
    return Depends(guard)


def staff_with(permission: str | None) -> Any:
    """A back-office route: an employee session not bound to a device, holding `permission` somewhere."""

    async def guard(principal: CurrentPrincipal) -> Principal:
        if not principal.is_back_office:
            raise PermissionDenied("This is a back-office endpoint; devices cannot call it.")
        if permission is not None:
            principal.scope_with(permission)  # raises when held at no store
        return principal

    return Depends(guard)


#: Error responses every authenticated route can give, for the OpenAPI schema.
def auth_responses(*extra: int, notes: dict[int, str] | None = None) -> dict[int | str, dict[str, Any]]:
    """The error answers a route documents: 400, 401 and 403 always, `extra` codes with their usual
    meaning, `notes` codes with the route's own words."""
    from boxoffice.core.envelope import ErrorEnvelope

    described = {
        400: "E_VALIDATION: the request does not match the schema",
        401: "E_UNAUTHENTICATED: missing, expired or ended session",
        403: "E_PERMISSION, E_DEVICE_SUSPENDED, E_DEVICE_REVOKED or E_APPROVAL_REQUIRED",
        404: "E_NOT_FOUND: no such record for this caller (other tenants' records look the same)",
        409: "E_CONFLICT: the record's state does not allow this",
        423: "E_PIN_LOCKED: too many wrong PINs or passwords; Retry-After says for how long",
        429: "E_RATE_LIMITED: too many attempts; Retry-After says when to retry",
    }
    described |= notes or {}
    codes = (400, 401, 403, *extra, *(notes or {}))
    return {code: {"model": ErrorEnvelope, "description": described[code]} for code in codes}
