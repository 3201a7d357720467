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
from boxoffice.tenancy.repository import DeviceRepository
from boxoffice.tickets.redemption import remaining_of
from boxoffice.tickets.repository import TicketRepository

FIELDS = ["qr_hash", "type", "remaining", "valid_from", "valid_to", "zone_mask"]
TYPE_CODES = {"single": "s", "multi": "m", "timepass": "t", "credit": "c"}
#: A delta overlaps the previous one by this much: a write stamped just before the previous
#: bootstrap may have landed just after it.
OVERLAP = timedelta(seconds=10)
#: A gate's download is recorded on its device at most this often.
CONTACT_RESOLUTION = timedelta(minutes=1)


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


def _queries(store_id: str, now: datetime, window: int, since: datetime | None) -> list[dict[str, Any]]:
    """A full download: the active tickets that may pass in the window. A delta: every change to
    what the gate may admit since `since` — tickets written or changed (a sale however late its
    upload, a use, a refund: `updated_at` is server time, whatever the business time), tickets
    that expired, and tickets whose validity came into the window."""
    horizon = now + timedelta(minutes=window)
    current = {"store_id": store_id, "valid_to": {"$gt": now}, "valid_from": {"$lt": horizon}}
    if since is None:
        return [{**current, "status": "active"}]
    start = since - OVERLAP
    return [
        {**current, "updated_at": {"$gte": start}},
        {"store_id": store_id, "valid_to": {"$gte": start, "$lte": now}},
        {
            "store_id": store_id,
            "valid_to": {"$gt": now},
            "valid_from": {"$gte": start + timedelta(minutes=window), "$lt": horizon},
        },
    ]


async def _note_contact(deps: Deps, device: Document, now: datetime) -> None:
    """Record the gate's download (at most once a minute), addressed by `_id`: the sync judges how
    long a device had been out of touch when it made an op by its last contact."""
    last = device.get("bootstrap_at")
    if last is not None and now - last < CONTACT_RESOLUTION:
        return
    repo = DeviceRepository(deps.db, Scope(str(device["tenant_id"])))
    found = await repo.find_one({"device_id": device["device_id"]}, {"_id": 1})
    if found is not None:
        await repo.update_one({"_id": found["_id"]}, {"$set": {"bootstrap_at": now}})


async def bootstrap(deps: Deps, device: Document, window: int, since: datetime | None) -> dict[str, Any]:
    tenant_id, store_id = str(device["tenant_id"]), str(device["store_id"])
    effective = await settings.effective(deps, tenant_id, store_id)
    values = effective["values"]
    now = deps.clock.now()
    await _note_contact(deps, device, now)
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
    repo = TicketRepository(deps.db, Scope(tenant_id, frozenset({store_id})))
    found: dict[str, Document] = {}
    for filters in _queries(store_id, now, window, since):
        for ticket in await repo.find_many(filters, projection=projection):
            found.setdefault(ticket["qr_token"], ticket)
    for ticket in found.values():
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
