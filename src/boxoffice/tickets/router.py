"""HTTP for tickets: finding and reading them, their timeline, and gate scans."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from boxoffice.access.dependencies import auth_responses, device_route
from boxoffice.access.principal import Principal
from boxoffice.core.deps import AppDeps
from boxoffice.core.envelope import Envelope, ok
from boxoffice.core.errors import InvalidSig, NotFound, ValidationFailed
from boxoffice.core.repository import Scope
from boxoffice.core.schemas import Page
from boxoffice.tickets import redeem
from boxoffice.tickets.issuance import ticket_view
from boxoffice.tickets.keys import KeyCache
from boxoffice.tickets.qr import InvalidSignature, normalize_short_code, verify
from boxoffice.tickets.repository import TicketRepository
from boxoffice.tickets.schemas import RedeemIn, RedeemResult, TicketRead, TicketTimeline
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
    page = Page[TicketRead](items=[TicketRead.model_validate(_shown(principal, t, now)) for t in tickets])
    return ok(request, page.model_dump(mode="json"))


def _shown(principal: Principal, ticket: dict[str, Any], now: Any) -> dict[str, Any]:
    """A ticket as this caller may see it: a device reads the QR token only of tickets it sold
    itself (to print them again); a gate never needs one, and another till's token is a copy
    of someone's ticket. The back office sees it."""
    view = ticket_view(ticket, now)
    if principal.device is not None and ticket.get("device_id") != principal.device_id:
        view["qr_token"] = None
    return view


@router.get(
    "/tickets/{ticket_id}",
    response_model=Envelope[TicketRead],
    summary="One ticket",
    responses=auth_responses(404),
)
async def get_ticket(
    request: Request, deps: AppDeps, ticket_id: str, principal: TicketReader
) -> dict[str, Any]:
    ticket = await TicketRepository(deps.db, _scope(principal)).by_ticket_id(ticket_id, {"_id": 0})
    if ticket is None:
        raise NotFound("Ticket not found.")
    view = TicketRead.model_validate(_shown(principal, ticket, deps.clock.now()))
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
    ticket = await TicketRepository(deps.db, _scope(principal)).by_ticket_id(ticket_id, {"_id": 0})
    if ticket is None:
        raise NotFound("Ticket not found.")
    body = {
        "ticket": _shown(principal, ticket, deps.clock.now()),
        "events": await timeline(deps, principal.tenant_id, ticket),
    }
    return ok(request, TicketTimeline.model_validate(body).model_dump(mode="json"))


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
    responses=auth_responses(409),
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
    redeem.check_device(principal, body.device_id)
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
