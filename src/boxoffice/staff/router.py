"""HTTP for employee login and sessions, employees, roles, the permission matrix and approvals."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials

from boxoffice.access.dependencies import (
    CurrentPrincipal,
    auth_responses,
    bearer,
    check_device_route,
    device_route,
    principal_from_claims,
    staff_with,
    token_claims,
)
from boxoffice.access.principal import Principal
from boxoffice.audit import service as audit
from boxoffice.core.deps import AppDeps, client_ip
from boxoffice.core.envelope import Envelope, ok
from boxoffice.core.errors import PermissionDenied, Unauthenticated
from boxoffice.core.schemas import Page
from boxoffice.core.security import decode_access_token
from boxoffice.staff import service, signin
from boxoffice.staff.schemas import (
    ApprovalGranted,
    EmployeeCreate,
    EmployeeLogin,
    EmployeeRead,
    EmployeeSession,
    EmployeeUpdate,
    Me,
    MembershipsReplace,
    PermissionMatrix,
    PinReset,
    RoleCreate,
    RoleRead,
    RoleUpdate,
    SignedOut,
    StaffTile,
    VerifyPin,
)

router = APIRouter()
E = dict[str, Any]
EmployeeManager = Annotated[Principal, staff_with("employee_manage")]


def _employee(doc: dict[str, Any]) -> E:
    return EmployeeRead.model_validate(doc).model_dump(mode="json")


@router.post(
    "/employees/login",
    tags=["employees"],
    response_model=Envelope[EmployeeSession],
    summary="Sign in: {email, password} in the back office; {employee_id, pin} on a device",
    description=(
        "Without a bearer token this opens a back-office session (email and password only). With a "
        "device's bearer token, {employee_id, pin} (the name tile, then the PIN) opens a session bound "
        "to that device and its store (the employee must work there). Wrong secrets are slowed per "
        "source: five within 15 minutes lock that employee on that device or address for 15 minutes, "
        "each further lockout twice as long (423 E_PIN_LOCKED with Retry-After); devices and addresses "
        "the employee never signed in from share a small daily allowance of wrong attempts."
    ),
    responses=auth_responses(423, 429),
    openapi_extra={"security": [{}, {"HTTPBearer": []}]},  # the device's token is optional
)
async def login(
    request: Request,
    deps: AppDeps,
    body: EmployeeLogin,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> E:
    device = None
    if credentials is not None:
        claims = await token_claims(deps, credentials)
        if claims["typ"] != "device":
            raise PermissionDenied("PIN login on a device needs the device's own token.")
        principal = await principal_from_claims(deps, claims, client_ip(request))
        check_device_route(principal, "employees.pin_login")
        device = principal.device
    employee, token, expires_at = await signin.login(deps, body, ip=client_ip(request), device=device)
    session = EmployeeSession(
        access_token=token,
        expires_at=expires_at,
        employee_id=employee["employee_id"],
        name=employee["name"],
        store_id=device["store_id"] if device else None,
        device_id=device["device_id"] if device else None,
    )
    return ok(request, session.model_dump(mode="json"))


@router.get(
    "/devices/me/staff",
    tags=["employees"],
    response_model=Envelope[list[StaffTile]],
    summary="The name tiles a device shows: who works at its store (tap one, then type the PIN)",
    responses=auth_responses(),
)
async def staff_tiles(
    request: Request,
    deps: AppDeps,
    principal: Annotated[Principal, device_route("employees.pin_login", staff=False)],
) -> E:
    assert principal.device is not None
    tiles = [
        StaffTile.model_validate(e).model_dump(mode="json")
        for e in await signin.staff_at(deps, principal.device)
    ]
    return ok(request, tiles)


@router.post(
    "/employees/logout",
    tags=["employees"],
    response_model=Envelope[SignedOut],
    summary="Sign out: every session of the signed-in employee ends (back office and devices)",
    responses=auth_responses(),
)
async def logout(request: Request, deps: AppDeps, principal: CurrentPrincipal) -> E:
    if principal.employee_id is None:
        raise PermissionDenied("No employee is signed in with this token.")
    await signin.end_sessions(deps, principal.tenant_id, [principal.employee_id])
    await audit.record(deps, principal, "auth.employee.logout", {})
    return ok(request, SignedOut(employee_id=principal.employee_id).model_dump(mode="json"))


@router.post(
    "/employees/refresh",
    tags=["employees"],
    response_model=Envelope[EmployeeSession],
    summary="A fresh access token for a back-office session, up to 12 hours after sign-in",
    description="Accepts the session's last token even if it has just expired; device sessions log in again.",
    responses=auth_responses(),
)
async def refresh(
    request: Request,
    deps: AppDeps,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> E:
    if credentials is None:
        raise Unauthenticated("Authorization: Bearer <token> is required.")
    claims = decode_access_token(
        deps.settings.jwt_secret, credentials.credentials, now=deps.clock.now(), allow_expired=True
    )
    employee, token, expires_at = await signin.refresh(deps, claims)
    session = EmployeeSession(
        access_token=token, expires_at=expires_at, employee_id=employee["employee_id"], name=employee["name"]
    )
    return ok(request, session.model_dump(mode="json"))


@router.get(
    "/employees/me",
    tags=["employees"],
    response_model=Envelope[Me],
    summary="The signed-in employee and their permissions (at the device's store, on a device)",
    responses=auth_responses(),
)
async def me(request: Request, principal: Annotated[Principal, device_route("employees.me")]) -> E:
    if principal.employee is None:
        raise PermissionDenied("No employee is signed in on this device.")
    store_id = principal.device_store_id
    permissions = principal.permissions_at(store_id) if store_id else principal.all_permissions()
    result = Me(
        employee_id=principal.employee["employee_id"],
        name=principal.employee["name"],
        email=principal.employee["email"],
        tenant_id=principal.tenant_id,
        store_id=store_id,
        device_id=principal.device_id,
        store_ids=sorted(principal.grants),
        permissions=sorted(permissions),
        grants={store: sorted(perms) for store, perms in principal.grants.items()},
    )
    return ok(request, result.model_dump(mode="json"))


@router.get(
    "/employees",
    tags=["employees"],
    response_model=Envelope[Page[EmployeeRead]],
    summary="Employees of the stores the caller manages",
    responses=auth_responses(),
)
async def list_employees(request: Request, deps: AppDeps, principal: EmployeeManager) -> E:
    employees = await service.list_employees(deps, principal)
    return ok(
        request,
        Page[EmployeeRead](items=[EmployeeRead.model_validate(e) for e in employees]).model_dump(mode="json"),
    )


@router.post(
    "/employees",
    tags=["employees"],
    response_model=Envelope[EmployeeRead],
    status_code=201,
    summary="Add an employee with store memberships",
    responses=auth_responses(404, 409),
)
async def create_employee(
    request: Request, deps: AppDeps, body: EmployeeCreate, principal: EmployeeManager
) -> E:
    return ok(request, _employee(await service.create_employee(deps, principal, body)))


@router.get(
    "/employees/{employee_id}",
    tags=["employees"],
    response_model=Envelope[EmployeeRead],
    summary="One employee",
    responses=auth_responses(404),
)
async def get_employee(request: Request, deps: AppDeps, employee_id: str, principal: EmployeeManager) -> E:
    return ok(request, _employee(await service.get_employee(deps, principal, employee_id)))


@router.patch(
    "/employees/{employee_id}",
    tags=["employees"],
    response_model=Envelope[EmployeeRead],
    summary="Change name, email or password",
    responses=auth_responses(404, notes={409: "E_CONFLICT: another employee of the tenant has that email"}),
)
async def update_employee(
    request: Request, deps: AppDeps, employee_id: str, body: EmployeeUpdate, principal: EmployeeManager
) -> E:
    return ok(request, _employee(await service.update_employee(deps, principal, employee_id, body)))


@router.put(
    "/employees/{employee_id}/memberships",
    tags=["employees"],
    response_model=Envelope[EmployeeRead],
    summary="Replace the employee's roles at the stores the caller manages",
    responses=auth_responses(404),
)
async def replace_memberships(
    request: Request, deps: AppDeps, employee_id: str, body: MembershipsReplace, principal: EmployeeManager
) -> E:
    return ok(
        request, _employee(await service.replace_memberships(deps, principal, employee_id, body.memberships))
    )


@router.post(
    "/employees/{employee_id}/reset_pin",
    tags=["employees"],
    response_model=Envelope[EmployeeRead],
    summary="Set a new PIN (also lifts a lockout)",
    responses=auth_responses(404, 409),
)
async def reset_pin(
    request: Request, deps: AppDeps, employee_id: str, body: PinReset, principal: EmployeeManager
) -> E:
    return ok(request, _employee(await service.reset_pin(deps, principal, employee_id, body.pin)))


@router.post(
    "/employees/{employee_id}/suspend",
    tags=["employees"],
    response_model=Envelope[EmployeeRead],
    summary="Suspend an employee: their sessions end on the next request",
    responses=auth_responses(404, 409),
)
async def suspend_employee(
    request: Request, deps: AppDeps, employee_id: str, principal: EmployeeManager
) -> E:
    return ok(
        request, _employee(await service.set_employee_status(deps, principal, employee_id, "suspended"))
    )


@router.post(
    "/employees/{employee_id}/reactivate",
    tags=["employees"],
    response_model=Envelope[EmployeeRead],
    summary="Reactivate a suspended employee",
    responses=auth_responses(404, 409),
)
async def reactivate_employee(
    request: Request, deps: AppDeps, employee_id: str, principal: EmployeeManager
) -> E:
    return ok(request, _employee(await service.set_employee_status(deps, principal, employee_id, "active")))


@router.get(
    "/roles",
    tags=["roles"],
    response_model=Envelope[Page[RoleRead]],
    summary="Built-in and custom roles",
    responses=auth_responses(),
)
async def list_roles(request: Request, deps: AppDeps, principal: EmployeeManager) -> E:
    roles = await service.list_roles(deps, principal.tenant_id)
    return ok(
        request, Page[RoleRead](items=[RoleRead.model_validate(r) for r in roles]).model_dump(mode="json")
    )


@router.post(
    "/roles",
    tags=["roles"],
    response_model=Envelope[RoleRead],
    status_code=201,
    summary="Create a custom role",
    responses=auth_responses(409),
)
async def create_role(request: Request, deps: AppDeps, body: RoleCreate, principal: EmployeeManager) -> E:
    return ok(
        request,
        RoleRead.model_validate(await service.create_role(deps, principal, body)).model_dump(mode="json"),
    )


@router.patch(
    "/roles/{role_id}",
    tags=["roles"],
    response_model=Envelope[RoleRead],
    summary="Rename a custom role or change its permissions",
    responses=auth_responses(404, 409),
)
async def update_role(
    request: Request, deps: AppDeps, role_id: str, body: RoleUpdate, principal: EmployeeManager
) -> E:
    role = await service.update_role(deps, principal, role_id, body)
    return ok(request, RoleRead.model_validate(role).model_dump(mode="json"))


@router.delete(
    "/roles/{role_id}",
    tags=["roles"],
    response_model=Envelope[dict[str, str]],
    summary="Delete a custom role that nobody holds",
    responses=auth_responses(404, 409),
)
async def delete_role(request: Request, deps: AppDeps, role_id: str, principal: EmployeeManager) -> E:
    await service.delete_role(deps, principal, role_id)
    return ok(request, {"role_id": role_id, "status": "deleted"})


@router.get(
    "/permissions/matrix",
    tags=["roles"],
    response_model=Envelope[PermissionMatrix],
    summary="Every permission and which roles hold it",
    responses=auth_responses(),
)
async def permission_matrix(request: Request, deps: AppDeps, principal: EmployeeManager) -> E:
    roles = await service.list_roles(deps, principal.tenant_id)
    matrix = PermissionMatrix(
        permissions=service.all_permissions(), roles=[RoleRead.model_validate(r) for r in roles]
    )
    return ok(request, matrix.model_dump(mode="json"))


@router.post(
    "/approvals/verify_pin",
    tags=["approvals"],
    response_model=Envelope[ApprovalGranted],
    summary="A supervisor's PIN → a single-use approval token for one action, store and target",
    description=(
        "Only an employee holding the action's permission at the store can approve. The token lasts "
        "five minutes and works once, for the named action, store and target."
    ),
    responses=auth_responses(404, 423, 429),
)
async def verify_pin(
    request: Request,
    deps: AppDeps,
    body: VerifyPin,
    principal: Annotated[Principal, device_route("approvals.verify_pin")],
) -> E:
    approval, token, approver = await service.verify_pin(deps, principal, body)
    granted = ApprovalGranted(
        approval_token=token,
        expires_at=approval["expires_at"],
        action=approval["action"],
        store_id=approval["store_id"],
        approver_id=approver["employee_id"],
        approver_name=approver["name"],
    )
    return ok(request, granted.model_dump(mode="json"))
