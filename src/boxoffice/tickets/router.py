"""HTTP for tickets: finding and reading them, their timeline, reprints and refunds."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from boxoffice.access.dependencies import auth_responses, device_route, staff_with
from boxoffice.access.principal import Principal
from boxoffice.core.deps import AppDeps
from boxoffice.core.envelope import Envelope, ok
from boxoffice.core.errors import InvalidSig, ValidationFailed
from boxoffice.core.idempotency import IdempotencyKey, mark_replay
from boxoffice.core.pagination import Cursor, Limit, page_filter, page_of
from boxoffice.core.query import DATE_TIME, list_filters
from boxoffice.core.repository import Scope
from boxoffice.core.schemas import Page
from boxoffice.sales.repository import TicketRepository
from boxoffice.sales.schemas import TicketRead
from boxoffice.sales.service import ticket_view
from boxoffice.tickets import redeem, refunds, reprints
from boxoffice.tickets.keys import KeyCache
from boxoffice.tickets.qr import InvalidSignature, normalize_short_code, verify
from boxoffice.tickets.repository import RefundRepository
from boxoffice.tickets.schemas import (
    RedeemIn,
    RedeemResult,
    RefundCreate,
    RefundRead,
    RefundResult,
    ReprintCreate,
    ReprintResult,
    TicketTimeline,
)
from boxoffice.tickets.timeline import timeline

router = APIRouter(tags=["tickets"])
TicketReader = Annotated[Principal, device_route("tickets.read")]


def _scope(principal: Principal) -> Scope:
    return principal.visible_scope() if principal.device is not None else principal.scope_with("reports_view")


@router.get(
    "/tickets",
    response_model=Envelope[Page[TicketRead]],
    summary="Find tickets by short code, QR token or sale",
    responses=auth_responses(),
)
async def find_tickets(
    request: Request,
    deps: AppDeps,
    principal: TicketReader,
    short_code: Annotated[str | None, Query(max_length=20)] = None,
    qr_token: Annotated[str | None, Query(max_length=200)] = None,
    sale_id: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    filters: dict[str, Any] = {}
    if short_code:
        filters["short_code"] = normalize_short_code(short_code)
    if qr_token:
        cache: KeyCache = request.app.state.qr_keys
        try:
            filters["ticket_id"] = verify(qr_token, (await cache.ring()).secrets)
        except InvalidSignature as exc:
            raise InvalidSig(f"This QR code is not valid: {exc}.") from exc
    if sale_id:
        filters["sale_id"] = sale_id
    if not filters:
        raise ValidationFailed("Give short_code, qr_token or sale_id.")
    tickets = await TicketRepository(deps.db, _scope(principal)).find_many(
        filters, sort=[("ticket_id", 1)], limit=200
    )
    now = deps.clock.now()
    page = Page[TicketRead](items=[TicketRead.model_validate(ticket_view(t, now)) for t in tickets])
    return ok(request, page.model_dump(mode="json"))


@router.get(
    "/tickets/{ticket_id}",
    response_model=Envelope[TicketRead],
    summary="One ticket",
    responses=auth_responses(404),
)
async def get_ticket(
    request: Request, deps: AppDeps, ticket_id: str, principal: TicketReader
) -> dict[str, Any]:
    ticket = await TicketRepository(deps.db, _scope(principal)).get({"ticket_id": ticket_id}, "Ticket")
    view = TicketRead.model_validate(ticket_view(ticket, deps.clock.now()))
    return ok(request, view.model_dump(mode="json"))


@router.get(
    "/tickets/{ticket_id}/timeline",
    response_model=Envelope[TicketTimeline],
    summary="A ticket's story: issued, reprinted, scanned, refunded — in time order",
    responses=auth_responses(404),
)
async def ticket_timeline(
    request: Request, deps: AppDeps, ticket_id: str, principal: TicketReader
) -> dict[str, Any]:
    ticket = await TicketRepository(deps.db, _scope(principal)).get({"ticket_id": ticket_id}, "Ticket")
    body = {
        "ticket": ticket_view(ticket, deps.clock.now()),
        "events": await timeline(deps, principal.tenant_id, ticket),
    }
    return ok(request, TicketTimeline.model_validate(body).model_dump(mode="json"))


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
    summary="Refunds, newest first, by sale, store, device, shift and date range",
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


@router.post(
    "/tickets/redeem",
    response_model=Envelope[RedeemResult],
    summary="Scan a ticket at a gate: PASS or FAIL (a FAIL is a normal answer, not an error)",
    description=(
        "Every attempt is recorded. The first PASS wins: a use is one atomic compare-and-set, so "
        "gates scanning one ticket at the same instant never let it in more often than its quota. "
        "`reason_code` names the FAIL: E_DUPLICATE_USE E_EXPIRED E_NOT_STARTED E_EXHAUSTED "
        "E_INVALID_SIG E_WRONG_DEVICE E_REFUNDED E_CANCELLED."
    ),
    responses=auth_responses(),
)
async def redeem_ticket(
    request: Request,
    deps: AppDeps,
    body: RedeemIn,
    principal: Annotated[Principal, device_route("tickets.redeem", staff=False)],
) -> dict[str, Any]:
    cache: KeyCache = request.app.state.qr_keys
    device = principal.device
    assert device is not None
    ticket = await redeem.find_ticket(
        deps, principal.tenant_id, await cache.ring(), body.qr_token, body.short_code
    )
    now = deps.clock.now()
    rules_cache: redeem.RulesCache = request.app.state.gate_rules
    rules = await rules_cache.get(deps, principal.tenant_id, str(device["store_id"]))
    outcome = await redeem.redeem(
        deps, principal, ticket, at=now, zone=body.zone, amount=body.amount, rules=rules, scan_id=body.scan_id
    )
    return ok(request, RedeemResult.model_validate(redeem.outcome_view(outcome, now)).model_dump(mode="json"))
