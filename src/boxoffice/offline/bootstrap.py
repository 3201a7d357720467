"""What a gate needs to decide on its own: its config and a compact allow-list of the tickets
that may pass in the next `window` minutes — hashes of QR tokens, never tokens or keys."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta
from typing import Any

from boxoffice.core.db import Document, stamp
from boxoffice.core.deps import Deps
from boxoffice.core.repository import Scope
from boxoffice.settings import service as settings
from boxoffice.tickets.redemption import remaining_of
from boxoffice.tickets.repository import TicketRepository

FIELDS = ["qr_hash", "type", "remaining", "valid_from", "valid_to", "zone_mask"]
TYPE_CODES = {"single": "s", "multi": "m", "timepass": "t", "credit": "c"}
#: A delta overlaps the previous one by this much: a write stamped just before the previous
#: bootstrap may have landed just after it.
OVERLAP = timedelta(seconds=10)


def qr_hash(qr_token: str) -> str:
    """132 bits of SHA-256, base64url: enough to tell tickets apart, useless to forge one."""
    return base64.urlsafe_b64encode(hashlib.sha256(qr_token.encode()).digest()).decode()[:22]


def zone_mask(zones: list[str], order: list[str]) -> int:
    """Bit i set: the ticket opens the i-th zone of the config; 0: it opens every zone."""
    return sum(1 << order.index(z) for z in zones if z in order)


def _entry(ticket: Document, now: datetime, order: list[str]) -> list[Any] | None:
    """The allow-list entry, or None when the ticket can no longer pass."""
    if ticket["status"] != "active" or ticket["valid_to"] <= now:
        return None
    left = remaining_of(ticket, now)
    if left == 0:
        return None
    return [
        qr_hash(ticket["qr_token"]),
        TYPE_CODES[ticket["type"]],
        left,
        int(ticket["valid_from"].timestamp()),
        int(ticket["valid_to"].timestamp()),
        zone_mask(ticket.get("zones") or [], order),
    ]


async def bootstrap(deps: Deps, device: Document, window: int, since: datetime | None) -> dict[str, Any]:
    tenant_id, store_id = str(device["tenant_id"]), str(device["store_id"])
    effective = await settings.effective(deps, tenant_id, store_id)
    values = effective["values"]
    now = deps.clock.now()
    filters: dict[str, Any] = {
        "store_id": store_id,
        "valid_to": {"$gt": now},
        "valid_from": {"$lt": now + timedelta(minutes=window)},
    }
    if since is not None:
        filters["updated_at"] = {"$gte": since - OVERLAP}
    else:
        filters["status"] = "active"
    gate_zones = [str(z) for z in device.get("zones") or []]
    projection = {
        "_id": 0,
        "qr_token": 1,
        "type": 1,
        "status": 1,
        "quota_or_minutes": 1,
        "used": 1,
        "first_pass_at": 1,
        "valid_from": 1,
        "valid_to": 1,
        "zones": 1,
    }
    order = [str(z["zone_id"]) for z in values["zones"]]
    tickets: list[list[Any]] = []
    removed: list[str] = []
    for ticket in await TicketRepository(deps.db, Scope(tenant_id, frozenset({store_id}))).find_many(
        filters, projection=projection
    ):
        zones = ticket.get("zones") or []
        if gate_zones and zones and not set(zones) & set(gate_zones):
            continue  # opens nothing this gate serves
        entry = _entry(ticket, now, order)
        if entry is None:
            removed.append(qr_hash(ticket["qr_token"]))
        else:
            tickets.append(entry)
    caps = device.get("caps") or {}
    return {
        "version": stamp(now),
        "full": since is None,
        "generated_at": now,
        "window_minutes": window,
        "config": {
            "store_id": store_id,
            "device_id": device["device_id"],
            "zones": values["zones"],
            "gate_zones": gate_zones,
            "gate_binding": values["features"]["gate_binding"],
            "grace_seconds": values["redemption"]["grace_seconds"],
            "max_offline_minutes": values["redemption"]["max_offline_minutes"],
            "offline_cap": int(caps.get("offline_cap", 0)),
            "settings_version": effective["version"],
            "simulate_offline": bool(device.get("simulate_offline", False)),
        },
        "fields": FIELDS,
        "tickets": tickets,
        "removed": [] if since is None else removed,
    }
