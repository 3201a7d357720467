"""Tickets as a sale issues them and as the API shows them (sales issue through this module)."""

from __future__ import annotations

from datetime import datetime

from boxoffice.core.db import Document
from boxoffice.tickets.qr import qr_hash
from boxoffice.tickets.refund_rules import effective_status

TICKET_FIELDS = (
    "ticket_id",
    "sale_id",
    "store_id",
    "package_id",
    "name",
    "type",
    "quota_or_minutes",
    "used",
    "status",
    "valid_from",
    "valid_to",
    "short_code",
    "qr_token",
    "price",
    "payment_method",
    "printed_count",
    "zones",
    "shift_id",
    "issued_by",
    "lot_no",
    "created_at",
    "refunded_amount",
)


def ticket_documents(sale: Document) -> list[Document]:
    """The tickets a sale issues, from the plan it carries: the same documents on every attempt.

    `created_at` is business time (when the sale was made: an offline POS's sale may be hours old
    when it is uploaded). `updated_at` is the server-time change stamp gates fetch deltas by, so it
    must not lie before the write: it is the end of the lease of the attempt that writes them (the
    insert, a retry or the sweeper each claim the sale for a lease from the server's now), which is
    never earlier than the write itself — at worst the tickets show in a minute's worth of deltas.

    A ticket's `_id` is its ticket_id: its compare-and-set (a gate's scan) is addressed by `_id`,
    the one write filter the embedded server serves without a scan, even by a caller that read or
    listed the ticket without it."""
    changed_at = sale.get("lease_until") or sale["created_at"]
    return [
        {
            "_id": planned["ticket_id"],
            **planned,
            "qr_hash": qr_hash(planned["qr_token"]),  # what gates' allow-lists hold (offline/allowlist.py)
            "sale_id": sale["sale_id"],
            "store_id": sale["store_id"],
            "device_id": sale["device_id"],
            "shift_id": sale["shift_id"],
            "issued_by": sale["issued_by"],
            "payment_method": sale["payment_method"],
            "lot_no": sale["short_ref"],
            "status": "active",
            "used": 0,
            "passes": 0,
            "event_seq": 1,
            "printed_count": 1,
            "created_at": sale["created_at"],
            "updated_at": max(changed_at, sale["created_at"]),
        }
        for planned in sale["ticket_plan"]
    ]


def ticket_view(ticket: Document, now: datetime | None = None) -> Document:
    """What the API shows of a ticket; given `now`, an active ticket past its validity shows as
    expired."""
    view = {k: ticket.get(k) for k in TICKET_FIELDS}
    if now is not None:
        view["status"] = effective_status(ticket, now)
    return view
