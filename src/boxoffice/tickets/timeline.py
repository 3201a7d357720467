"""A ticket's story in time order: issued, printed again, scanned, refunded — and anything else
the audit log says about it."""

from __future__ import annotations

from typing import Any

from boxoffice.audit.repository import AuditRepository
from boxoffice.core.db import Document
from boxoffice.core.deps import Deps
from boxoffice.core.repository import Scope
from boxoffice.tickets.repository import RedemptionRepository, RefundRepository, ReprintRepository

#: Audit events already told by the collections (shown once, from the richer record).
TOLD_BY_COLLECTIONS = frozenset({"sale.completed", "reprint.created", "refund.created"})


def _event(at: Any, kind: str, summary: str, **more: Any) -> dict[str, Any]:
    return {"at": at, "kind": kind, "summary": summary, **more}


async def timeline(deps: Deps, tenant_id: str, ticket: Document) -> list[dict[str, Any]]:
    scope = Scope(tenant_id)
    ticket_id = ticket["ticket_id"]
    events = [
        _event(
            ticket["created_at"],
            "issued",
            f"Sold and printed ({ticket['name']}, {ticket['price']} satang, {ticket['payment_method']})",
            device_id=ticket.get("device_id"),
            actor_id=ticket.get("issued_by"),
            details={"sale_id": ticket["sale_id"], "lot_no": ticket.get("lot_no")},
        )
    ]
    for reprint in await ReprintRepository(deps.db, scope).find_many(
        {"ticket_id": ticket_id, "status": "completed"}
    ):
        events.append(
            _event(
                reprint["created_at"],
                "printed",
                f"Reprinted ({reprint['reason_code']})",
                device_id=reprint["device_id"],
                actor_id=reprint.get("printed_by"),
                details={
                    "reprint_id": reprint["reprint_id"],
                    "reason_code": reprint["reason_code"],
                    "reason_text": reprint.get("reason_text"),
                    "approver_id": reprint["approver_id"],
                },
            )
        )
    for scan in await RedemptionRepository(deps.db, scope).find_many({"ticket_id": {"$eq": ticket_id}}):
        metadata = scan.get("metadata") or {}
        events.append(
            _event(
                scan["ts"],
                "redeemed",
                f"Scanned: {scan['result'].upper()}" + (f" ({scan['reason']})" if scan.get("reason") else ""),
                device_id=scan.get("device_id"),
                details={
                    "redemption_id": scan["redemption_id"],
                    "result": scan["result"],
                    "reason": scan.get("reason"),
                    "remaining_after": scan.get("remaining_after"),
                    "offline": bool(metadata.get("offline")),
                    "offline_conflict": bool(metadata.get("offline_conflict")),
                    "zone": metadata.get("zone"),
                },
            )
        )
    if ticket.get("refund_id"):
        refund = await RefundRepository(deps.db, scope).find_one({"refund_id": ticket["refund_id"]})
        if refund is not None:
            events.append(
                _event(
                    refund["created_at"],
                    "refunded",
                    f"Refunded {ticket.get('refunded_amount', 0)} satang by {refund['method']} "
                    f"({refund['reason_code']})",
                    device_id=refund["device_id"],
                    actor_id=refund.get("refunded_by"),
                    details={
                        "refund_id": refund["refund_id"],
                        "amount": ticket.get("refunded_amount"),
                        "reason_code": refund["reason_code"],
                        "reason_text": refund.get("reason_text"),
                        "approver_id": refund["approver_id"],
                    },
                )
            )
    for entry in await AuditRepository(deps.db, scope).find_many({"subjects": ticket_id}, limit=500):
        if entry["event_type"] in TOLD_BY_COLLECTIONS:
            continue
        events.append(
            _event(
                entry["ts"],
                "audit",
                entry["event_type"],
                device_id=entry.get("device_id"),
                actor_id=entry.get("actor_id"),
                details={"audit_id": entry["audit_id"], "seq": entry["seq"], **entry.get("payload", {})},
            )
        )
    return sorted(events, key=lambda e: e["at"])
