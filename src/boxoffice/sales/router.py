"""HTTP for shifts (on the POS, and in the back office) and sales."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from boxoffice.access.dependencies import auth_responses, device_route, staff_with
from boxoffice.access.principal import Principal
from boxoffice.core.clock import isoformat_z
from boxoffice.core.deps import AppDeps
from boxoffice.core.envelope import Envelope, ok
from boxoffice.core.errors import NotFound
from boxoffice.core.idempotency import IdempotencyKey, mark_replay
from boxoffice.core.pagination import Cursor, Limit, page_filter, page_of
from boxoffice.core.query import DATE_TIME, list_filters
from boxoffice.core.repository import Scope
from boxoffice.core.schemas import Page, PaymentMethod
from boxoffice.sales import service, shifts
from boxoffice.sales.repository import SaleRepository, ShiftRepository
from boxoffice.sales.schemas import (
    CashMovementIn,
    SaleCreate,
    SaleRead,
    SaleWithTickets,
    ShiftClose,
    ShiftCorrection,
    ShiftOpen,
    ShiftRead,
)
from boxoffice.settings import service as settings_service
from boxoffice.settings.receipt import ReceiptData, ReceiptLine
from boxoffice.settings.schemas import ReceiptPreview
from boxoffice.tenancy.service import get_store
from boxoffice.tickets.issuance import ticket_view
from boxoffice.tickets.keys import KeyCache
from boxoffice.tickets.repository import TicketRepository

router = APIRouter()
E = dict[str, Any]


def _shift(doc: dict[str, Any]) -> E:
    return ShiftRead.model_validate(doc).model_dump(mode="json")


# ---- shifts on the POS ---------------------------------------------------------------------------


@router.post(
    "/shifts/open",
    tags=["shifts"],
    response_model=Envelope[ShiftRead],
    status_code=201,
    summary="Open a shift on this POS with its cash float",
    responses=auth_responses(409),
)
async def open_shift(
    request: Request,
    deps: AppDeps,
    body: ShiftOpen,
    principal: Annotated[Principal, device_route("shifts.open", staff=False)],
) -> E:
    return ok(request, _shift(await shifts.open_shift(deps, principal, body.cash_open)))


@router.get(
    "/shifts/current",
    tags=["shifts"],
    response_model=Envelope[ShiftRead],
    summary="This POS's open shift with its running totals",
    responses=auth_responses(409),
)
async def current_shift(
    request: Request, deps: AppDeps, principal: Annotated[Principal, device_route("shifts.open", staff=False)]
) -> E:
    shift = await shifts.require_open(deps, principal)
    return ok(request, _shift(await shifts.view(deps, principal.tenant_id, shift)))


@router.post(
    "/shifts/close",
    tags=["shifts"],
    response_model=Envelope[ShiftRead],
    summary="Close this POS's shift with the counted cash: totals are frozen in a snapshot",
    responses=auth_responses(409),
)
async def close_shift(
    request: Request,
    deps: AppDeps,
    body: ShiftClose,
    principal: Annotated[Principal, device_route("shifts.close", staff=False)],
) -> E:
    return ok(request, _shift(await shifts.close_shift(deps, principal, body.cash_counted)))


@router.post(
    "/shifts/pay_in",
    tags=["shifts"],
    response_model=Envelope[ShiftRead],
    summary="Cash put into the drawer (with a reason) — once per Idempotency-Key",
    description="Same key and body: the first answer again, with `Idempotent-Replayed: true`; "
    "another body under the key: 409 E_IDEMPOTENCY_MISMATCH; the first still running: 409 "
    "E_IN_PROGRESS with Retry-After. Keys belong to the device and the employee signed in on it.",
    responses=auth_responses(409),
)
async def pay_in(
    request: Request,
    response: Response,
    deps: AppDeps,
    body: CashMovementIn,
    key: IdempotencyKey,
    principal: Annotated[Principal, device_route("shifts.close", staff=False)],
) -> E:
    answer, replayed = await shifts.cash_movement(deps, principal, "pay_in", body, key)
    mark_replay(response, replayed)
    return ok(request, _shift(answer))


@router.post(
    "/shifts/pay_out",
    tags=["shifts"],
    response_model=Envelope[ShiftRead],
    summary="Cash taken out of the drawer (with a reason) — once per Idempotency-Key, never below zero",
    description="Refused with 409 E_INSUFFICIENT_CASH (details: drawer_cash, amount) when the drawer "
    "should hold less than the amount: float + cash sales - cash refunds + pay-ins - pay-outs. "
    "Idempotency as for pay_in.",
    responses=auth_responses(409),
)
async def pay_out(
    request: Request,
    response: Response,
    deps: AppDeps,
    body: CashMovementIn,
    key: IdempotencyKey,
    principal: Annotated[Principal, device_route("shifts.close", staff=False)],
) -> E:
    answer, replayed = await shifts.cash_movement(deps, principal, "pay_out", body, key)
    mark_replay(response, replayed)
    return ok(request, _shift(answer))


# ---- shifts in the back office --------------------------------------------------------------------


@router.get(
    "/shifts",
    tags=["shifts"],
    response_model=Envelope[Page[ShiftRead]],
    summary="Shifts of the stores the caller reports on, newest first",
    responses=auth_responses(),
)
async def list_shifts(
    request: Request,
    deps: AppDeps,
    principal: Annotated[Principal, staff_with("reports_view")],
    limit: Limit = 50,
    cursor: Cursor = None,
    store_id: Annotated[str | None, Query(max_length=64)] = None,
    device_id: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(pattern="^(open|closed)$")] = None,
    from_: Annotated[str | None, Query(alias="from", description="Opened at or after", **DATE_TIME)] = None,
    to: Annotated[str | None, Query(description="Opened before", **DATE_TIME)] = None,
) -> E:
    filters = {
        **list_filters("open_at", from_, to, store_id=store_id, device_id=device_id, status=status),
        **page_filter("shift_id", cursor),
    }
    docs = await ShiftRepository(deps.db, principal.scope_with("reports_view")).find_many(
        filters, sort=[("shift_id", -1)], limit=limit + 1
    )
    items, next_cursor = page_of(docs, "shift_id", limit)
    views = [ShiftRead.model_validate(v) for v in await shifts.views(deps, principal.tenant_id, items)]
    return ok(request, Page[ShiftRead](items=views, next_cursor=next_cursor).model_dump(mode="json"))


@router.get(
    "/shifts/{shift_id}",
    tags=["shifts"],
    response_model=Envelope[ShiftRead],
    summary="One shift with its snapshot history",
    responses=auth_responses(404),
)
async def get_shift(
    request: Request,
    deps: AppDeps,
    shift_id: str,
    principal: Annotated[Principal, staff_with("reports_view")],
) -> E:
    shift = await ShiftRepository(deps.db, principal.scope_with("reports_view")).get(
        {"shift_id": shift_id}, "Shift"
    )
    return ok(request, _shift(await shifts.view(deps, principal.tenant_id, shift)))


@router.post(
    "/shifts/{shift_id}/correct",
    tags=["shifts"],
    response_model=Envelope[ShiftRead],
    summary="Correct a closed shift's counted cash (audited; earlier snapshots are kept)",
    responses=auth_responses(404, 409),
)
async def correct_shift(
    request: Request,
    deps: AppDeps,
    shift_id: str,
    body: ShiftCorrection,
    principal: Annotated[Principal, staff_with("shift_close")],
) -> E:
    return ok(
        request, _shift(await shifts.correct_count(deps, principal, shift_id, body.cash_counted, body.reason))
    )


# ---- sales ---------------------------------------------------------------------------------------


@router.post(
    "/sales",
    tags=["sales"],
    response_model=Envelope[SaleWithTickets],
    status_code=201,
    summary="Sell: price the cart, take payment, issue signed tickets — once per Idempotency-Key",
    description=(
        "Same key and same body: the first answer again, with `Idempotent-Replayed: true`. Same key, "
        "other body: 409 E_IDEMPOTENCY_MISMATCH. Same key while the first is still running: 409 "
        "E_IN_PROGRESS with Retry-After. A client_total that differs from the server's price: 409 "
        "E_CONFLICT with the server's quote in details. Keys are kept with their sales, for good."
    ),
    responses=auth_responses(404, 409),
)
async def create_sale(
    request: Request,
    response: Response,
    deps: AppDeps,
    body: SaleCreate,
    key: IdempotencyKey,
    principal: Annotated[Principal, device_route("sales.create", staff=False)],
) -> E:
    cache: KeyCache = request.app.state.qr_keys
    sale, is_new = await service.begin_sale(deps, principal, key, body, await cache.ring())
    result, replayed = await service.settle(deps, principal, sale, body, is_new)
    mark_replay(response, replayed)
    return ok(request, SaleWithTickets.model_validate(result).model_dump(mode="json"))


def _sales_scope(principal: Principal) -> Scope:
    if principal.device is not None:
        return principal.visible_scope()
    return principal.scope_with("reports_view")


SalesReader = Annotated[Principal, device_route("sales.read")]


async def sales_filters(
    from_: Annotated[
        str | None, Query(alias="from", description="Inclusive, ISO-8601 with a zone.", **DATE_TIME)
    ] = None,
    to: Annotated[str | None, Query(description="Exclusive, ISO-8601 with a zone.", **DATE_TIME)] = None,
    store_id: Annotated[str | None, Query(max_length=64)] = None,
    device_id: Annotated[str | None, Query(max_length=64)] = None,
    employee_id: Annotated[str | None, Query(max_length=64)] = None,
    payment_method: PaymentMethod | None = None,
) -> dict[str, Any]:
    """The sales query: date range on created_at, then equality filters."""
    return list_filters(
        "created_at",
        from_,
        to,
        store_id=store_id,
        device_id=device_id,
        issued_by=employee_id,
        payment_method=payment_method,
    )


SalesQuery = Annotated[dict[str, Any], Depends(sales_filters)]


async def _search_sales(
    deps: AppDeps, principal: Principal, query: dict[str, Any], cursor: str | None, limit: int
) -> list[dict[str, Any]]:
    query = {**query, **page_filter("sale_id", cursor)}
    if principal.device is not None:
        query["device_id"] = principal.device_id  # a device sees its own sales
    return await SaleRepository(deps.db, _sales_scope(principal)).find_many(
        query, sort=[("sale_id", -1)], limit=limit
    )


@router.get(
    "/sales",
    tags=["sales"],
    response_model=Envelope[Page[SaleRead]],
    summary="Sales, newest first, by date range, store, device, staff and payment type",
    responses=auth_responses(),
)
async def list_sales(
    request: Request,
    deps: AppDeps,
    principal: SalesReader,
    query: SalesQuery,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> E:
    items, next_cursor = page_of(
        await _search_sales(deps, principal, query, cursor, limit + 1), "sale_id", limit
    )
    page = Page[SaleRead](
        items=[SaleRead.model_validate(service.sale_view(d)) for d in items], next_cursor=next_cursor
    )
    return ok(request, page.model_dump(mode="json"))


@router.get(
    "/sales/export.csv",
    tags=["sales"],
    summary="The filtered sales as CSV",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {}}, "description": "CSV with a header row"},
        **auth_responses(),
    },
)
async def export_sales(deps: AppDeps, principal: SalesReader, query: SalesQuery) -> StreamingResponse:
    docs = await _search_sales(deps, principal, query, None, 0)

    async def rows() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            [
                "sale_id",
                "short_ref",
                "created_at",
                "store_id",
                "device_id",
                "issued_by",
                "shift_id",
                "status",
                "payment_method",
                "subtotal",
                "discount_total",
                "tax_total",
                "grand_total",
                "fee_total",
                "amount_due",
                "tickets",
            ]
        )
        for d in docs:
            writer.writerow(
                [
                    d["sale_id"],
                    d["short_ref"],
                    isoformat_z(d["created_at"]),
                    d["store_id"],
                    d["device_id"],
                    d.get("issued_by") or "",
                    d.get("shift_id") or "",
                    d["status"],
                    d["payment_method"],
                    d["subtotal"],
                    d["discount_total"],
                    d["tax_total"],
                    d["grand_total"],
                    d.get("fee_total", 0),
                    d.get("amount_due", d["grand_total"]),
                    len(d["ticket_ids"]),
                ]
            )
        yield buffer.getvalue()

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="sales.csv"'},
    )


@router.get(
    "/sales/{sale_id}",
    tags=["sales"],
    response_model=Envelope[SaleWithTickets],
    summary="One sale with its tickets",
    responses=auth_responses(404),
)
async def get_sale(request: Request, deps: AppDeps, sale_id: str, principal: SalesReader) -> E:
    sale = await SaleRepository(deps.db, _sales_scope(principal)).get({"sale_id": sale_id}, "Sale")
    if principal.device is not None and sale["device_id"] != principal.device_id:
        raise NotFound("Sale not found.")
    tickets = await TicketRepository(deps.db, Scope(principal.tenant_id)).find_many(
        {"sale_id": sale_id}, sort=[("ticket_id", 1)]
    )
    now = deps.clock.now()
    body = {"sale": service.sale_view(sale), "tickets": [ticket_view(t, now) for t in tickets]}
    return ok(request, SaleWithTickets.model_validate(body).model_dump(mode="json"))


@router.get(
    "/sales/{sale_id}/receipt",
    tags=["sales"],
    response_model=Envelope[ReceiptPreview],
    summary="The sale's receipt as the store's printer prints it (text and ESC/POS bytes)",
    description="Lines, discounts, VAT, the payment type's fee and the amount paid, with the store's "
    "receipt settings. `paper_width` 58 or 80 (mm); the `receipt` setting's width if omitted.",
    responses=auth_responses(404),
)
async def sale_receipt(
    request: Request,
    deps: AppDeps,
    sale_id: str,
    principal: SalesReader,
    paper_width: Annotated[
        int | None, Query(json_schema_extra={"enum": [58, 80]}, description="58 or 80 mm")
    ] = None,
) -> E:
    sale = await SaleRepository(deps.db, _sales_scope(principal)).get({"sale_id": sale_id}, "Sale")
    if principal.device is not None and sale["device_id"] != principal.device_id:
        raise NotFound("Sale not found.")
    store = await get_store(deps, Scope(principal.tenant_id), str(sale["store_id"]))
    values = (await settings_service.effective(deps, principal.tenant_id, str(sale["store_id"])))["values"]
    names = {t["code"]: t["name"] for t in values["payment_types"]}
    printed = ReceiptData(
        store_name=store["name"],
        tax_id=store.get("tax_id"),
        sale_ref=f"Sale {sale['short_ref']}",
        printed_at=isoformat_z(sale["created_at"])[:16].replace("T", " "),
        lines=[ReceiptLine(line["name"], int(line["qty"]), int(line["net_total"])) for line in sale["lines"]],
        subtotal=int(sale["subtotal"]),
        discount_total=int(sale["discount_total"]),
        tax_total=int(sale["tax_total"]),
        grand_total=int(sale["grand_total"]),
        fee_total=int(sale.get("fee_total") or 0),
        payment=str(names.get(sale["payment_method"]) or sale["payment_method"]),
        tendered=int(sale["amount_tendered"]),
        change=int(sale["change"]),
        qr_text=f"{len(sale['ticket_ids'])} ticket(s)",
    )
    return ok(request, settings_service.print_receipt(store, values["receipt"], printed, paper_width))
