"""HTTP for packages, pricing rules and quotes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from boxoffice.access.dependencies import auth_responses, device_route, staff_with
from boxoffice.access.principal import Principal
from boxoffice.catalog import service
from boxoffice.catalog.schemas import (
    PackageCreate,
    PackageRead,
    PackageUpdate,
    QuoteOut,
    QuoteRequest,
    RuleCreate,
    RuleRead,
    RuleUpdate,
)
from boxoffice.core.deps import AppDeps
from boxoffice.core.envelope import Envelope, content_etag, ok, ok_or_not_modified
from boxoffice.core.errors import NotFound
from boxoffice.core.schemas import Page

router = APIRouter()
E = dict[str, Any]
CatalogWriter = Annotated[Principal, staff_with("catalog_write")]
StoreQuery = Annotated[str | None, Query(max_length=64, description="Only what is sold at this store")]


def _package(doc: dict[str, Any]) -> E:
    return PackageRead.model_validate(doc).model_dump(mode="json", by_alias=True)


def _rule(doc: dict[str, Any]) -> E:
    return RuleRead.model_validate(doc).model_dump(mode="json", by_alias=True)


@router.get(
    "/catalog/packages",
    tags=["catalog"],
    response_model=Envelope[Page[PackageRead]],
    summary="Packages: for a device, what it may sell now (with an ETag); for staff, the catalog",
    description=(
        "A POS or kiosk gets only active packages inside their window, shown on its device type and "
        "not reserved for other devices, for its own store. Send the last ETag in If-None-Match to get "
        "304 Not Modified when nothing changed. Staff with catalog_write or reports_view get every "
        "package (add include_inactive=true for archived ones)."
    ),
    responses={**auth_responses(404), 304: {"description": "Not modified since the ETag in If-None-Match"}},
)
async def list_packages(
    request: Request,
    response: Response,
    deps: AppDeps,
    principal: Annotated[Principal, device_route("catalog.read")],
    store_id: StoreQuery = None,
    include_inactive: bool = False,
) -> Response | E:
    if principal.device is not None:
        if store_id is not None and store_id != principal.device["store_id"]:
            raise NotFound("Store not found.")
        items = await service.device_packages(deps, principal.device)
    else:
        items = await service.list_packages(
            deps, service.readable_scope(principal), store_id, include_inactive
        )
    page = Page[PackageRead](items=[PackageRead.model_validate(d) for d in items])
    body = page.model_dump(mode="json", by_alias=True)
    return ok_or_not_modified(request, response, body, content_etag(body))


@router.post(
    "/catalog/packages",
    tags=["catalog"],
    response_model=Envelope[PackageRead],
    status_code=201,
    summary="Add a package",
    responses=auth_responses(404),
)
async def create_package(request: Request, deps: AppDeps, body: PackageCreate, principal: CatalogWriter) -> E:
    return ok(request, _package(await service.create_package(deps, principal, body)))


@router.get(
    "/catalog/packages/{package_id}",
    tags=["catalog"],
    response_model=Envelope[PackageRead],
    summary="One package",
    responses=auth_responses(404),
)
async def get_package(
    request: Request, deps: AppDeps, package_id: str, principal: Annotated[Principal, staff_with(None)]
) -> E:
    return ok(
        request, _package(await service.get_package(deps, service.readable_scope(principal), package_id))
    )


@router.patch(
    "/catalog/packages/{package_id}",
    tags=["catalog"],
    response_model=Envelope[PackageRead],
    summary="Change a package (price, window, zones, ...)",
    responses=auth_responses(404),
)
async def update_package(
    request: Request, deps: AppDeps, package_id: str, body: PackageUpdate, principal: CatalogWriter
) -> E:
    return ok(request, _package(await service.update_package(deps, principal, package_id, body)))


@router.delete(
    "/catalog/packages/{package_id}",
    tags=["catalog"],
    response_model=Envelope[PackageRead],
    summary="Archive a package (kept for the sales that used it; no longer sold)",
    responses=auth_responses(404),
)
async def archive_package(request: Request, deps: AppDeps, package_id: str, principal: CatalogWriter) -> E:
    return ok(request, _package(await service.archive_package(deps, principal, package_id)))


@router.get(
    "/pricing/rules",
    tags=["pricing"],
    response_model=Envelope[Page[RuleRead]],
    summary="Pricing rules: a device gets the active ones of its store (to price offline); staff all",
    responses=auth_responses(404),
)
async def list_rules(
    request: Request,
    deps: AppDeps,
    principal: Annotated[Principal, device_route("catalog.read")],
    store_id: StoreQuery = None,
) -> E:
    if principal.device is not None:
        if store_id is not None and store_id != principal.device["store_id"]:
            raise NotFound("Store not found.")
        rules = [
            r
            for r in await service.list_rules(deps, principal.visible_scope(), principal.device["store_id"])
            if r["active"]
        ]
    else:
        rules = await service.list_rules(deps, service.readable_scope(principal), store_id)
    return ok(
        request,
        Page[RuleRead](items=[RuleRead.model_validate(r) for r in rules]).model_dump(
            mode="json", by_alias=True
        ),
    )


@router.post(
    "/pricing/rules",
    tags=["pricing"],
    response_model=Envelope[RuleRead],
    status_code=201,
    summary="Add a pricing rule; one that would conflict silently is refused with E_RULE_CONFLICT",
    responses=auth_responses(404, 409),
)
async def create_rule(request: Request, deps: AppDeps, body: RuleCreate, principal: CatalogWriter) -> E:
    return ok(request, _rule(await service.create_rule(deps, principal, body)))


@router.patch(
    "/pricing/rules/{rule_id}",
    tags=["pricing"],
    response_model=Envelope[RuleRead],
    summary="Change a pricing rule (checked for conflicts again)",
    responses=auth_responses(404, 409),
)
async def update_rule(
    request: Request, deps: AppDeps, rule_id: str, body: RuleUpdate, principal: CatalogWriter
) -> E:
    return ok(request, _rule(await service.update_rule(deps, principal, rule_id, body)))


@router.delete(
    "/pricing/rules/{rule_id}",
    tags=["pricing"],
    response_model=Envelope[RuleRead],
    summary="Retire a pricing rule (kept, inactive, for the sales that used it)",
    responses=auth_responses(404),
)
async def delete_rule(request: Request, deps: AppDeps, rule_id: str, principal: CatalogWriter) -> E:
    return ok(request, _rule(await service.delete_rule(deps, principal, rule_id)))


@router.post(
    "/pricing/quote",
    tags=["pricing"],
    response_model=Envelope[QuoteOut],
    summary="Price a cart exactly as a sale will be priced",
    description=(
        "Base or time-of-day price, line rules, cart rules, promo code, manual discount (with the "
        "manual_discount permission or a supervisor's approval_token), never below zero, then taxes "
        "per line, half-up to the satang. The admin's preview and POST /v1/sales use this same function."
    ),
    responses=auth_responses(404),
)
async def quote(
    request: Request,
    deps: AppDeps,
    body: QuoteRequest,
    principal: Annotated[Principal, device_route("pricing.quote")],
) -> E:
    result = await service.quote_cart(deps, principal, body)
    return ok(request, QuoteOut.model_validate(result).model_dump(mode="json"))
