"""What a gate needs to decide on its own: its config and a compact allow-list of the tickets
that may pass in the next `window` minutes — hashes of QR tokens, never tokens or keys.

The list comes from the store's kept allow-list (offline/allowlist.py): a bootstrap reads the
settings, the store's change journal (one document) and, when tickets changed since the list was
last brought up to date, those tickets by `_id`. The ETag is fixed before any list is built (the
journal's seq, the last minute time changed the list, the config), so a 304 builds nothing; a full
list is serialized once per version (and layout) and handed out as bytes.

Two layouts of one list: `rows` (a row per ticket, the default) and `packed` (a group per set of
equal values, its tickets' hashes end to end: 10-15% fewer bytes gzipped). Same content, same
`version`; each its own ETag.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from boxoffice.core.db import Document
from boxoffice.core.deps import Deps
from boxoffice.core.envelope import content_etag
from boxoffice.core.repository import Scope
from boxoffice.offline.allowlist import (
    DELTA_REACH,
    FIELDS,
    MINUTE,
    AllowLists,
    Lens,
    minute_of,
    packed,
    unix_ms,
)
from boxoffice.offline.schemas import GateBootstrap, GateLayout
from boxoffice.tenancy.repository import DeviceRepository
from boxoffice.tickets import changes
from boxoffice.tickets.changes import Journal
from boxoffice.tickets.qr import qr_hash

__all__ = ["Answer", "bootstrap", "qr_hash"]

#: A gate's download is recorded on its device at most this often.
CONTACT_RESOLUTION = timedelta(minutes=1)
_VERSION = re.compile(r"^([0-9]{1,12})\.([0-9]{1,12})\.([0-9a-f]{8})$")


@dataclass(frozen=True)
class Answer:
    etag: str
    data: bytes | None  # the envelope's `data`, serialized; None: the caller holds it already (304)


def version(journal: Journal, at: int, lens: Lens) -> str:
    """`<seq>.<minute>.<tag>`: what a delta since this download starts from."""
    return f"{journal.seq}.{at // MINUTE}.{lens.tag}"


def since_of(since: str | None, lens: Lens, journal: Journal, at: int) -> tuple[int, int] | None:
    """The (seq, minute) a delta starts from; None (a full list) for no `since`, one of another
    store, zone set-up or window, or one the journal or DELTA_REACH no longer reaches (an older
    gate's timestamp among them)."""
    found = _VERSION.match(since or "")
    if found is None or found.group(3) != lens.tag:
        return None
    seq, minute = int(found.group(1)), int(found.group(2)) * MINUTE
    if journal.since(seq) is None or not at - DELTA_REACH <= minute <= at:
        return None
    return seq, minute


async def _note_contact(deps: Deps, lists: AllowLists, device: Document, now: datetime) -> None:
    """Record the gate's download (at most once a minute: the device as read, which may be a few
    seconds old, and this process's own note tell), addressed by `_id`: the sync judges how long a
    device had been out of touch when it made an op by its last contact."""
    last = max(
        (t for t in (device.get("bootstrap_at"), lists.contacts.get(device["device_id"])) if t), default=None
    )
    if last is not None and timedelta(0) <= now - last < CONTACT_RESOLUTION:
        return
    repo = DeviceRepository(deps.db, Scope(str(device["tenant_id"])))
    found = await repo.find_one({"device_id": device["device_id"]}, {"_id": 1})
    if found is not None:
        await repo.update_one({"_id": found["_id"]}, {"$set": {"bootstrap_at": now}})
        lists.contacts[device["device_id"]] = now


async def bootstrap(
    deps: Deps,
    lists: AllowLists,
    device: Document,
    window: int,
    since: str | None,
    if_none_match: str | None = None,
    layout: GateLayout = "rows",
) -> Answer:
    tenant_id, store_id = str(device["tenant_id"]), str(device["store_id"])
    effective = await lists.settings(deps, tenant_id, store_id)
    values = effective["values"]
    now = deps.clock.now()
    at = minute_of(now)
    await _note_contact(deps, lists, device, now)
    gate_zones = [str(z) for z in device.get("zones") or []]
    lens = Lens(window * MINUTE, tuple(str(z["zone_id"]) for z in values["zones"]), frozenset(gate_zones))
    caps = device.get("caps") or {}
    config = {
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
    }
    journal = await changes.journal(deps.db, tenant_id, store_id)  # after `now`: see AllowLists.current
    kept = await lists.current(deps.db, tenant_id, store_id, journal, at, unix_ms(now))
    prior = since_of(since, lens, journal, at)
    etag = content_etag(
        {
            "seq": journal.seq,
            "time": kept.plan(lens).signature(at),
            "tag": lens.tag,
            "config": config,
            "since": since if prior else None,
            **({} if layout == "rows" else {"layout": layout}),  # rows: the tag it always had
        }
    )
    if if_none_match == etag:
        return Answer(etag, None)
    head = GateBootstrap.model_validate(
        {
            "version": version(journal, at, lens),
            "full": prior is None,
            "generated_at": now,
            "window_minutes": window,
            "config": config,
            "fields": FIELDS,
            "tickets": [],
            "removed": [],
        }
    ).model_dump(mode="json", exclude={"tickets", "groups", "removed"})
    removed: list[str] = []
    if prior is None:
        listed = kept.full_json(lens, at, layout)
    else:
        noted = journal.since(prior[0]) or set()
        await lists.facts_for(deps.db, tenant_id, kept, noted)
        await lists.reach_back(deps.db, tenant_id, store_id, kept, prior[1])
        entries, removed = lens.delta(kept.facts, noted, prior[1], at)
        listed = _json(entries if layout == "rows" else packed(entries))
    if layout == "rows":  # the answer devices in the field parse: no `groups`
        body = b',"tickets":' + listed
    else:
        body = b',"tickets":[],"groups":' + listed
    data = _json(head)[:-1] + body + b',"removed":' + _json(removed) + b"}"
    return Answer(etag, data)


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
