"""HTTP for alerts: the back office's list of what needs attention, and acknowledging one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from boxoffice.access.dependencies import auth_responses, staff_with
from boxoffice.access.principal import Principal
from boxoffice.alerts import service
from boxoffice.alerts.repository import AlertRepository
from boxoffice.alerts.schemas import AlertAcknowledge, AlertKind, AlertRead, AlertStatus
from boxoffice.core.deps import AppDeps
from boxoffice.core.envelope import Envelope, ok
from boxoffice.core.pagination import Cursor, Limit, page_filter, page_of
from boxoffice.core.schemas import Page

router = APIRouter(tags=["alerts"])
Reader = Annotated[Principal, staff_with(service.PERMISSION)]
E = dict[str, Any]


@router.get(
    "/alerts",
    response_model=Envelope[Page[AlertRead]],
    summary="What needs attention, newest first: alerts of the stores the caller may see",
    description="Tenant-wide alerts (no store, e.g. a failing webhook endpoint) are listed only "
    "for callers who hold reports_view at every store.",
    responses=auth_responses(),
)
async def list_alerts(
    request: Request,
    deps: AppDeps,
    principal: Reader,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: AlertStatus | None = None,
    kind: Annotated[AlertKind | None, Query()] = None,
    store_id: Annotated[str | None, Query(max_length=64)] = None,
) -> E:
    filters: dict[str, Any] = page_filter("alert_id", cursor)
    for field, value in (("status", status), ("kind", kind), ("store_id", store_id)):
        if value is not None:
            filters[field] = value
    docs = await AlertRepository(deps.db, principal.scope_with(service.PERMISSION)).find_many(
        filters, sort=[("alert_id", -1)], limit=limit + 1
    )
    items, next_cursor = page_of(docs, "alert_id", limit)
    page = Page[AlertRead](items=[AlertRead.model_validate(d) for d in items], next_cursor=next_cursor)
    return ok(request, page.model_dump(mode="json"))


@router.post(
    "/alerts/{alert_id}/acknowledge",
    response_model=Envelope[AlertRead],
    summary="Acknowledge an alert (who, when and the note are kept and audited; repeating it is a no-op)",
    description="Idempotent: an alert already acknowledged is answered as it is, with the first "
    "acknowledgement's person, time and note. A resolved alert can still be acknowledged.",
    responses=auth_responses(404, 409),
)
async def acknowledge_alert(
    request: Request, deps: AppDeps, alert_id: str, body: AlertAcknowledge, principal: Reader
) -> E:
    alert = await service.acknowledge(deps, principal, alert_id, body.note)
    return ok(request, service.public(alert))
