"""HTTP for finding and reading tickets (by id, short code, QR token or sale)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from boxoffice.access.dependencies import auth_responses, device_route
from boxoffice.access.principal import Principal
from boxoffice.core.deps import AppDeps
from boxoffice.core.envelope import Envelope, ok
from boxoffice.core.errors import InvalidSig, ValidationFailed
from boxoffice.core.repository import Scope
from boxoffice.core.schemas import Page
from boxoffice.sales.repository import TicketRepository
from boxoffice.sales.schemas import TicketRead
from boxoffice.sales.service import ticket_view
from boxoffice.tickets.keys import KeyCache
from boxoffice.tickets.qr import InvalidSignature, normalize_short_code, verify

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
    return ok(
        request,
        Page[TicketRead](items=[TicketRead.model_validate(ticket_view(t)) for t in tickets]).model_dump(
            mode="json"
        ),
    )


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
    return ok(request, TicketRead.model_validate(ticket_view(ticket)).model_dump(mode="json"))
