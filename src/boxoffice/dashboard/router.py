"""HTTP for the dashboard: one request answers the whole page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from boxoffice.access.dependencies import auth_responses, staff_with
from boxoffice.access.principal import Principal
from boxoffice.core.deps import AppDeps
from boxoffice.core.envelope import Envelope, ok
from boxoffice.dashboard import service
from boxoffice.dashboard.schemas import Dashboard

router = APIRouter(tags=["dashboard"])
Viewer = Annotated[Principal, staff_with(service.PERMISSION)]


@router.get(
    "/dashboard",
    response_model=Envelope[Dashboard],
    summary="One store's day so far: sales, gate scans, open shifts, devices, alerts, sales by hour",
    description="Today in the store's time zone against the same weekday last week, read from the "
    "report summaries (figures appear within seconds of a sale, as in the reports; today's sales "
    "equal the sales report's for today). Needs reports_view at the store; without `store_id`, the "
    "first of the viewer's stores. Cheap enough to poll every 15 seconds.",
    responses=auth_responses(404),
)
async def get_dashboard(
    request: Request,
    deps: AppDeps,
    principal: Viewer,
    store_id: Annotated[
        str | None, Query(max_length=64, description="The store (default: the viewer's first, by name)")
    ] = None,
) -> dict[str, Any]:
    answer = await service.dashboard(deps, principal, store_id)
    return ok(request, Dashboard.model_validate(answer).model_dump(mode="json"))
