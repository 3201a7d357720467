"""HTTP for stores, site keys, device pairing and login, and device administration."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from boxoffice.access.dependencies import auth_responses, device_route, staff_with
from boxoffice.access.policy import DeviceType
from boxoffice.access.principal import Principal
from boxoffice.core import ratelimit
from boxoffice.core.deps import AppDeps, client_ip
from boxoffice.core.envelope import Envelope, ok
from boxoffice.core.errors import PermissionDenied
from boxoffice.core.pagination import Cursor, Limit, page_filter, page_of
from boxoffice.core.schemas import Page
from boxoffice.tenancy import service
from boxoffice.tenancy.repository import DeviceRepository
from boxoffice.tenancy.schemas import (
    DeviceAction,
    DeviceLoggedIn,
    DeviceLogin,
    DeviceRead,
    DeviceRegister,
    DeviceRegistered,
    DeviceStatus,
    DeviceTokenRotated,
    DeviceUpdate,
    SiteKeyCreate,
    SiteKeyCreated,
    SiteKeyRead,
    StoreCreate,
    StoreRead,
    StoreUpdate,
)

router = APIRouter()
E = dict[str, Any]


def _device(doc: dict[str, Any]) -> E:
    return DeviceRead.model_validate(doc).model_dump(mode="json")


# ---- pairing and login (no bearer token) ------------------------------------------------------


@router.post(
    "/auth/device/register",
    tags=["devices"],
    response_model=Envelope[DeviceRegistered],
    status_code=201,
    summary="Pair a device with a store's site key; returns its token once",
    responses=auth_responses(429),
)
async def register_device(request: Request, deps: AppDeps, body: DeviceRegister) -> E:
    ip = client_ip(request)
    await ratelimit.hit(deps.db, deps.clock, ratelimit.REGISTER, ip or "-")
    device, token = await service.register_device(deps, body, ip)
    result = DeviceRegistered.model_validate({**device, "device_token": token})
    return ok(request, result.model_dump(mode="json"))


@router.post(
    "/auth/device/login",
    tags=["devices"],
    response_model=Envelope[DeviceLoggedIn],
    summary="Exchange a device token for a 15-minute access token",
    responses=auth_responses(429),
)
async def login_device(request: Request, deps: AppDeps, body: DeviceLogin) -> E:
    ip = client_ip(request)
    await ratelimit.hit(deps.db, deps.clock, ratelimit.DEVICE_LOGIN, ip or "-")
    device, token, expires_at = await service.login_device(
        deps, body.device_id, body.device_token, ip, body.purpose
    )
    result = DeviceLoggedIn(
        access_token=token, expires_at=expires_at, device=DeviceRead.model_validate(device)
    )
    return ok(request, result.model_dump(mode="json"))


@router.get(
    "/devices/me",
    tags=["devices"],
    response_model=Envelope[DeviceRead],
    summary="The calling device",
    responses=auth_responses(),
)
async def device_me(
    request: Request, principal: Annotated[Principal, device_route("devices.me", staff=False)]
) -> E:
    assert principal.device is not None
    return ok(request, _device(principal.device))


# ---- stores ------------------------------------------------------------------------------------


@router.get(
    "/stores",
    tags=["stores"],
    response_model=Envelope[Page[StoreRead]],
    summary="Stores the caller may see (a device: its own store)",
    responses=auth_responses(),
)
async def list_stores(
    request: Request, deps: AppDeps, principal: Annotated[Principal, device_route("stores.read")]
) -> E:
    stores = await service.list_stores(deps, principal.visible_scope())
    page = Page[StoreRead](items=[StoreRead.model_validate(s) for s in stores])
    return ok(request, page.model_dump(mode="json"))


@router.get(
    "/stores/{store_id}",
    tags=["stores"],
    response_model=Envelope[StoreRead],
    summary="One store",
    responses=auth_responses(404),
)
async def get_store(
    request: Request,
    deps: AppDeps,
    store_id: str,
    principal: Annotated[Principal, device_route("stores.read")],
) -> E:
    store = await service.get_store(deps, principal.visible_scope(), store_id)
    return ok(request, StoreRead.model_validate(store).model_dump(mode="json"))


@router.post(
    "/stores",
    tags=["stores"],
    response_model=Envelope[StoreRead],
    status_code=201,
    summary="Open a store (needs settings_write at every store)",
    responses=auth_responses(),
)
async def create_store(
    request: Request,
    deps: AppDeps,
    body: StoreCreate,
    principal: Annotated[Principal, staff_with("settings_write")],
) -> E:
    if principal.stores_with("settings_write") is not None:
        raise PermissionDenied("Opening a store needs settings_write at every store.")
    store = await service.create_store(deps, principal, body)
    return ok(request, StoreRead.model_validate(store).model_dump(mode="json"))


@router.patch(
    "/stores/{store_id}",
    tags=["stores"],
    response_model=Envelope[StoreRead],
    summary="Change a store's details (receipt header/footer, time zone, paper width, ...)",
    responses=auth_responses(404),
)
async def update_store(
    request: Request,
    deps: AppDeps,
    store_id: str,
    body: StoreUpdate,
    principal: Annotated[Principal, staff_with("settings_write")],
) -> E:
    store = await service.update_store(
        deps, principal, principal.scope_with("settings_write"), store_id, body
    )
    return ok(request, StoreRead.model_validate(store).model_dump(mode="json"))


# ---- site keys ---------------------------------------------------------------------------------


@router.post(
    "/stores/{store_id}/site_keys",
    tags=["devices"],
    response_model=Envelope[SiteKeyCreated],
    status_code=201,
    summary="Create a site key devices pair with; the key is shown once",
    responses=auth_responses(404),
)
async def create_site_key(
    request: Request,
    deps: AppDeps,
    store_id: str,
    body: SiteKeyCreate,
    principal: Annotated[Principal, staff_with("device_manage")],
) -> E:
    record, key = await service.create_site_key(
        deps, principal, principal.scope_with("device_manage"), store_id, body
    )
    return ok(request, SiteKeyCreated.model_validate({**record, "site_key": key}).model_dump(mode="json"))


@router.get(
    "/stores/{store_id}/site_keys",
    tags=["devices"],
    response_model=Envelope[Page[SiteKeyRead]],
    summary="A store's site keys (never the keys themselves)",
    responses=auth_responses(404),
)
async def list_site_keys(
    request: Request,
    deps: AppDeps,
    store_id: str,
    principal: Annotated[Principal, staff_with("device_manage")],
) -> E:
    keys = await service.list_site_keys(deps, principal.scope_with("device_manage"), store_id)
    return ok(
        request,
        Page[SiteKeyRead](items=[SiteKeyRead.model_validate(k) for k in keys]).model_dump(mode="json"),
    )


@router.post(
    "/site_keys/{site_key_id}/revoke",
    tags=["devices"],
    response_model=Envelope[SiteKeyRead],
    summary="Revoke a site key: no more devices pair with it",
    responses=auth_responses(404),
)
async def revoke_site_key(
    request: Request,
    deps: AppDeps,
    site_key_id: str,
    principal: Annotated[Principal, staff_with("device_manage")],
) -> E:
    record = await service.revoke_site_key(
        deps, principal, principal.scope_with("device_manage"), site_key_id
    )
    return ok(request, SiteKeyRead.model_validate(record).model_dump(mode="json"))


# ---- device administration ----------------------------------------------------------------------


@router.get(
    "/devices",
    tags=["devices"],
    response_model=Envelope[Page[DeviceRead]],
    summary="Devices of the stores the caller manages, newest first",
    responses=auth_responses(),
)
async def list_devices(
    request: Request,
    deps: AppDeps,
    principal: Annotated[Principal, staff_with("device_manage")],
    limit: Limit = 50,
    cursor: Cursor = None,
    store_id: Annotated[str | None, Query(max_length=64)] = None,
    status: DeviceStatus | None = None,
    type: DeviceType | None = None,
) -> E:
    filters: dict[str, Any] = page_filter("device_id", cursor)
    for field, value in (("store_id", store_id), ("status", status), ("type", type)):
        if value is not None:
            filters[field] = value
    repo = DeviceRepository(deps.db, principal.scope_with("device_manage"))
    docs = await repo.find_many(filters, sort=[("device_id", -1)], limit=limit + 1)
    items, next_cursor = page_of(docs, "device_id", limit)
    page = Page[DeviceRead](items=[DeviceRead.model_validate(d) for d in items], next_cursor=next_cursor)
    return ok(request, page.model_dump(mode="json"))


@router.get(
    "/devices/{device_id}",
    tags=["devices"],
    response_model=Envelope[DeviceRead],
    summary="One device",
    responses=auth_responses(404),
)
async def get_device(
    request: Request,
    deps: AppDeps,
    device_id: str,
    principal: Annotated[Principal, staff_with("device_manage")],
) -> E:
    return ok(
        request, _device(await service.get_device(deps, principal.scope_with("device_manage"), device_id))
    )


@router.patch(
    "/devices/{device_id}",
    tags=["devices"],
    response_model=Envelope[DeviceRead],
    summary="Rename a device, edit its notes or capabilities",
    responses=auth_responses(404),
)
async def update_device(
    request: Request,
    deps: AppDeps,
    device_id: str,
    body: DeviceUpdate,
    principal: Annotated[Principal, staff_with("device_manage")],
) -> E:
    device = await service.update_device(
        deps,
        principal,
        principal.scope_with("device_manage"),
        device_id,
        name=body.name,
        notes=body.notes,
        caps=body.caps,
        zones=body.zones,
        simulate_offline=body.simulate_offline,
    )
    return ok(request, _device(device))


def _transition_route(action: Literal["approve", "suspend", "reactivate", "revoke"], summary: str) -> None:
    @router.post(
        f"/devices/{{device_id}}/{action}",
        tags=["devices"],
        response_model=Envelope[DeviceRead],
        summary=summary,
        responses=auth_responses(404, 409),
        name=f"{action}_device",
    )
    async def transition(
        request: Request,
        deps: AppDeps,
        device_id: str,
        principal: Annotated[Principal, staff_with("device_manage")],
        body: DeviceAction | None = None,
    ) -> E:
        reason = body.reason if body else ""
        device = await service.transition_device(
            deps, principal, principal.scope_with("device_manage"), device_id, action, reason
        )
        return ok(request, _device(device))


_transition_route("approve", "Approve a paired device waiting in pending")
_transition_route("suspend", "Suspend a device: every business call answers E_DEVICE_SUSPENDED")
_transition_route("reactivate", "Reactivate a suspended device")
_transition_route("revoke", "Revoke a device for good: it must pair again")


@router.post(
    "/devices/{device_id}/rotate_token",
    tags=["devices"],
    response_model=Envelope[DeviceTokenRotated],
    summary="Issue a new device token (shown once); every existing session of the device ends",
    responses=auth_responses(404, 409),
)
async def rotate_token(
    request: Request,
    deps: AppDeps,
    device_id: str,
    principal: Annotated[Principal, staff_with("device_manage")],
) -> E:
    device, token = await service.rotate_device_token(
        deps, principal, principal.scope_with("device_manage"), device_id
    )
    result = DeviceTokenRotated(
        device_id=device_id, device_token=token, token_version=device["token_version"]
    )
    return ok(request, result.model_dump(mode="json"))
