"""HTTP for the Fraud Watch: a store's day per employee and device, with its flags explained."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from boxoffice.access.dependencies import auth_responses, staff_with
from boxoffice.access.principal import Principal
from boxoffice.core.deps import AppDeps
from boxoffice.core.envelope import Envelope, ok
from boxoffice.fraud import service
from boxoffice.fraud.schemas import EntityKind, FraudReport

router = APIRouter(tags=["reports"])
Reporter = Annotated[Principal, staff_with(service.PERMISSION)]


@router.get(
    "/reports/fraud",
    response_model=Envelope[FraudReport],
    summary="Fraud Watch: each employee's and device's day against their own 28-day baseline",
    description=(
        "Per employee and per device active at the store that local day: reprints, refunds, manual "
        "discounts, approvals given, gate duplicate_use FAILs (online and offline), offline conflicts "
        "and after-hours sales (outside the store's `hours` setting), each with its z-score against the "
        "entity's previous 28 local days (zeros included) and the median of the store's other "
        "employees or devices that day. A metric is flagged when z ≥ the `fraud.z_threshold` setting "
        "and the count reaches its floor (`fraud.floors`); each flag is explained in words and links "
        "to its records. The flags of a day that is over are raised as `fraud_flag` alerts, once. "
        "Read from summaries kept on write: a few indexed reads per store."
    ),
    responses=auth_responses(404),
    operation_id="report_fraud",
)
async def fraud_report(
    request: Request,
    deps: AppDeps,
    principal: Reporter,
    day: Annotated[
        str | None,
        Query(pattern=r"^\d{4}-\d{2}-\d{2}$", description="Local day (default: today in each store's zone)"),
    ] = None,
    store_id: Annotated[
        str | None, Query(max_length=64, description="One store (default: every store the caller may see)")
    ] = None,
    entity: Annotated[EntityKind | None, Query(description="Employees or devices (default: both)")] = None,
) -> dict[str, Any]:
    answer = await service.report(deps, principal, day=day, store_id=store_id, entity=entity)
    return ok(request, FraudReport.model_validate(answer).model_dump(mode="json"))
