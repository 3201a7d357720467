"""HTTP for refunds and reprints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from boxoffice.access.dependencies import auth_responses, device_route, staff_with
from boxoffice.access.principal import Principal
from boxoffice.aftersale import refunds, reprints
from boxoffice.aftersale.schemas import RefundCreate, RefundRead, RefundResult, ReprintCreate, ReprintResult
from boxoffice.core.deps import AppDeps
from boxoffice.core.envelope import Envelope, ok
from boxoffice.core.idempotency import IdempotencyKey, mark_replay
from boxoffice.core.pagination import Cursor, Limit, page_filter, page_of
from boxoffice.core.query import DATE_TIME, list_filters
from boxoffice.core.schemas import Page
from boxoffice.tickets.repository import RefundRepository

router = APIRouter(tags=["tickets"])


REPRINT_DOC = (
    "Needs an approval token for action `reprint` (POST /v1/approvals/verify_pin, target the ticket) "
    "and a reprint reason code from the `reasons` setting. Capped per device and per staff member each "
    "day (429 E_CAP_EXCEEDED with Retry-After) and rate limited. Same Idempotency-Key and body: the "
    "first answer again, with `Idempotent-Replayed: true`."
)


@router.post(
    "/tickets/reprint",
    response_model=Envelope[ReprintResult],
    status_code=201,
    summary="Reprint a ticket (approved, with a reason; counted on the ticket)",
    description=REPRINT_DOC,
    responses=auth_responses(404, 409, 429),
)
async def reprint_ticket(
    request: Request,
    response: Response,
    deps: AppDeps,
    body: ReprintCreate,
    key: IdempotencyKey,
    principal: Annotated[Principal, device_route("tickets.reprint")],
) -> dict[str, Any]:
    result, replayed = await reprints.create_reprint(deps, principal, key, body)
    mark_replay(response, replayed)
    return ok(request, ReprintResult.model_validate(result).model_dump(mode="json"))


router.add_api_route(
    "/reprints",
    reprint_ticket,
    methods=["POST"],
    response_model=Envelope[ReprintResult],
    status_code=201,
    summary="Reprint a ticket (same as POST /v1/tickets/reprint)",
    description=REPRINT_DOC,
    responses=auth_responses(404, 409, 429),
    operation_id="create_reprint_alias",
)

REFUND_DOC = (
    "Refunds the whole sale, or the chosen tickets of it. Needs an approval token for action `refund` "
    "(POST /v1/approvals/verify_pin, target the sale) and a refund reason code. A ticket already used "
    "is not refunded; a partly used multi-visit or credit ticket refunds its unused share or nothing "
    "(the `refunds` setting); if any chosen ticket cannot be refunded the answer is 409 listing why, "
    "and nothing is refunded. Refunded tickets stop passing at once, and the refund counts in this "
    "POS's open shift (cash refunds lower the expected cash). Same Idempotency-Key and body: the "
    "first answer again, with `Idempotent-Replayed: true`."
)


@router.post(
    "/tickets/refund",
    response_model=Envelope[RefundResult],
    status_code=201,
    summary="Refund a sale or some of its tickets (approved, with a reason)",
    description=REFUND_DOC,
    responses=auth_responses(404, 409, 429),
)
async def refund_tickets(
    request: Request,
    response: Response,
    deps: AppDeps,
    body: RefundCreate,
    key: IdempotencyKey,
    principal: Annotated[Principal, device_route("refunds.create")],
) -> dict[str, Any]:
    result, replayed = await refunds.create_refund(deps, principal, key, body)
    mark_replay(response, replayed)
    return ok(request, RefundResult.model_validate(result).model_dump(mode="json"))


router.add_api_route(
    "/refunds",
    refund_tickets,
    methods=["POST"],
    response_model=Envelope[RefundResult],
    status_code=201,
    summary="Refund a sale or some of its tickets (same as POST /v1/tickets/refund)",
    description=REFUND_DOC,
    responses=auth_responses(404, 409, 429),
    operation_id="create_refund_alias",
)


@router.get(
    "/refunds",
    response_model=Envelope[Page[RefundRead]],
    summary="Refunds, newest first, by sale, store, device, employee, shift and date range",
    responses=auth_responses(),
)
async def list_refunds(
    request: Request,
    deps: AppDeps,
    principal: Annotated[Principal, staff_with("reports_view")],
    limit: Limit = 50,
    cursor: Cursor = None,
    sale_id: Annotated[str | None, Query(max_length=64)] = None,
    store_id: Annotated[str | None, Query(max_length=64)] = None,
    device_id: Annotated[str | None, Query(max_length=64)] = None,
    shift_id: Annotated[str | None, Query(max_length=64)] = None,
    employee_id: Annotated[str | None, Query(description="Who refunded", max_length=64)] = None,
    from_: Annotated[str | None, Query(alias="from", description="Inclusive", **DATE_TIME)] = None,
    to: Annotated[str | None, Query(description="Exclusive", **DATE_TIME)] = None,
) -> dict[str, Any]:
    filters = {
        **list_filters(
            "created_at",
            from_,
            to,
            sale_id=sale_id,
            store_id=store_id,
            device_id=device_id,
            shift_id=shift_id,
            refunded_by=employee_id,
        ),
        "status": "completed",
        **page_filter("refund_id", cursor),
    }
    docs = await RefundRepository(deps.db, principal.scope_with("reports_view")).find_many(
        filters, sort=[("refund_id", -1)], limit=limit + 1
    )
    items, next_cursor = page_of(docs, "refund_id", limit)
    page = Page[RefundRead](
        items=[RefundRead.model_validate(refunds.refund_view(d)) for d in items], next_cursor=next_cursor
    )
    return ok(request, page.model_dump(mode="json"))
