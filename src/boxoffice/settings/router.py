"""HTTP for effective settings (with ETag), per-level reads and writes, and the receipt preview."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response

from boxoffice.access.dependencies import auth_responses, device_route, staff_with
from boxoffice.access.principal import Principal
from boxoffice.core.clock import isoformat_z
from boxoffice.core.deps import AppDeps
from boxoffice.core.envelope import Envelope, ok, ok_or_not_modified
from boxoffice.core.errors import MethodNotAllowed
from boxoffice.settings import service
from boxoffice.settings.receipt import ReceiptData, ReceiptLine
from boxoffice.settings.schemas import EffectiveSettings, ReceiptPreview, Section, SettingsLevel
from boxoffice.tenancy.service import get_store

router = APIRouter(tags=["settings"])
E = dict[str, Any]
SettingsWriter = Annotated[Principal, staff_with("settings_write")]
LevelQuery = Annotated[
    str | None, Query(max_length=64, description="A store's override; omit for tenant defaults")
]


@router.get(
    "/settings/effective",
    response_model=Envelope[EffectiveSettings],
    summary="The settings in force at a store, with a version and an ETag",
    description=(
        "Defaults ← tenant ← store override, per section. Send the last ETag in If-None-Match: 304 "
        "when nothing changed. Client contract: a device keeps using the last settings it fetched "
        "(and their version) while this endpoint is unreachable, and refetches on its next cycle."
    ),
    responses={**auth_responses(404), 304: {"description": "Not modified since the ETag in If-None-Match"}},
)
async def effective(
    request: Request,
    response: Response,
    deps: AppDeps,
    principal: Annotated[Principal, device_route("settings.read")],
    store_id: Annotated[
        str | None,
        Query(
            max_length=64, description="Default: the device's store; staff may omit it for tenant defaults"
        ),
    ] = None,
) -> Response | E:
    store = store_id or principal.device_store_id
    if store is not None:
        await get_store(deps, principal.visible_scope(), store)
    result = await service.effective(deps, principal.tenant_id, store)
    body = EffectiveSettings.model_validate(result).model_dump(mode="json")
    return ok_or_not_modified(request, response, body, result["etag"])


@router.api_route("/settings/effective", methods=["POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
async def effective_is_read_only() -> None:
    """Without this, PUT /settings/effective would reach PUT /settings/{section} and read as a bad section."""
    raise MethodNotAllowed(headers={"Allow": "GET"})


@router.get(
    "/settings",
    response_model=Envelope[SettingsLevel],
    summary="What is set at one level: the tenant defaults, or a store's overrides",
    responses=auth_responses(404),
)
async def get_level(
    request: Request, deps: AppDeps, principal: SettingsWriter, store_id: LevelQuery = None
) -> E:
    if store_id is not None:
        await get_store(deps, principal.visible_scope(), store_id)
    return ok(
        request,
        SettingsLevel.model_validate(await service.level(deps, principal.tenant_id, store_id)).model_dump(
            mode="json"
        ),
    )


@router.put(
    "/settings/{section}",
    response_model=Envelope[SettingsLevel],
    summary="Replace one section at the tenant level or as a store's override (audited, before/after)",
    responses=auth_responses(404),
)
async def put_section(
    request: Request,
    deps: AppDeps,
    section: Section,
    principal: Annotated[
        Principal, staff_with(None)
    ],  # the service checks per section (zones: catalog_write too)
    value: Annotated[Any, Body(description="The section's value; see the Values schema")],
    store_id: LevelQuery = None,
) -> E:
    if store_id is not None:
        await get_store(deps, principal.visible_scope(), store_id)
    result = await service.put_section(deps, principal, section, store_id, value)
    return ok(request, SettingsLevel.model_validate(result).model_dump(mode="json"))


@router.delete(
    "/settings/{section}",
    response_model=Envelope[SettingsLevel],
    summary="Drop a store's override of one section: the tenant default applies again",
    responses=auth_responses(404),
)
async def clear_override(
    request: Request,
    deps: AppDeps,
    section: Section,
    principal: SettingsWriter,
    store_id: Annotated[str, Query(max_length=64)],
) -> E:
    await get_store(deps, principal.visible_scope(), store_id)
    result = await service.clear_override(deps, principal, section, store_id)
    return ok(request, SettingsLevel.model_validate(result).model_dump(mode="json"))


@router.get(
    "/receipts/preview",
    response_model=Envelope[ReceiptPreview],
    summary="A sample receipt rendered with the store's receipt settings, as the printer prints it",
    responses=auth_responses(404),
)
async def receipt_preview(
    request: Request,
    deps: AppDeps,
    principal: Annotated[Principal, device_route("settings.read")],
    store_id: Annotated[str, Query(max_length=64)],
    paper_width: Annotated[
        int | None, Query(json_schema_extra={"enum": [58, 80]}, description="58 or 80 mm")
    ] = None,
) -> E:
    store = await get_store(deps, principal.visible_scope(), store_id)
    values = (await service.effective(deps, principal.tenant_id, store_id))["values"]
    sample = ReceiptData(
        store_name=store["name"],
        tax_id=store.get("tax_id"),
        sale_ref="Sale 7KD2-QX41",
        printed_at=isoformat_z(deps.clock.now())[:16].replace("T", " "),
        lines=[ReceiptLine("Single Entry", 2, 30_000), ReceiptLine("2-Hour Pass", 1, 25_000)],
        subtotal=55_000,
        discount_total=5_500,
        tax_total=3_238,
        grand_total=49_500,
        payment="Cash",
        tendered=50_000,
        change=500,
        qr_text="scan at the gate",
    )
    return ok(request, service.print_receipt(store, values["receipt"], sample, paper_width))
