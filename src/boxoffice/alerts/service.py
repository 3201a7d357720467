"""Alerts: the one way anything that needs a person's attention reaches the back office (a
failing webhook endpoint today; PIN bursts, backups, Fraud Watch and offline double admissions
later).

An alert is raised once per cause: `(kind, cause_key)` names the cause (the kind decides what the
key is: for `webhook_failing`, the endpoint's id). While the alert is unresolved it holds
`open_slot = "open"` under a unique (tenant, kind, cause_key, open_slot) index, so any number of
concurrent raisers make one alert (one upsert with `$setOnInsert`; the others only count a
sighting). Resolving moves the slot to the alert's own id: a later recurrence of the same cause
raises a new alert. Kinds whose cause never clears simply never resolve, and stay raised once.

A new alert is audited (`alert.raised`) and emitted to the outbox (`alert.raised`, for webhooks).
The raiser that inserted it announces it; if it died before that, the next raiser of the same
cause does, once a short lease has passed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, NamedTuple

from boxoffice.access.principal import Principal
from boxoffice.alerts.repository import OPEN, AlertRepository
from boxoffice.alerts.schemas import AlertKind, AlertRead
from boxoffice.audit import service as audit
from boxoffice.core.db import Document
from boxoffice.core.deps import Deps
from boxoffice.core.errors import Conflict
from boxoffice.core.ids import new_id
from boxoffice.core.repository import Scope
from boxoffice.events import outbox

#: How long the raiser that inserted an alert has to announce it before another raiser may.
ANNOUNCE_LEASE = timedelta(seconds=30)
PERMISSION = "reports_view"


class Raised(NamedTuple):
    alert: Document
    new: bool  # True for the one call that created the alert


def public(alert: Document) -> dict[str, Any]:
    """What the API and the `alert.raised` event show (never the slot or announce bookkeeping)."""
    shown: dict[str, Any] = AlertRead.model_validate(alert).model_dump(mode="json")
    return shown


async def raise_alert(
    deps: Deps,
    tenant_id: str,
    *,
    kind: AlertKind,
    cause_key: str,
    store_id: str | None,
    title: str,
    detail: str,
    links: dict[str, str] | None = None,
) -> Raised:
    """Raise the alert for this cause unless it is already raised and not resolved (then the
    sighting is counted: `occurrences`, `last_seen_at`). Safe to call on every occurrence."""
    repo = AlertRepository(deps.db, Scope(tenant_id))
    for _ in range(3):
        now = deps.clock.now()
        alert_id = new_id()
        fresh: Document = {
            "_id": alert_id,
            "alert_id": alert_id,
            "store_id": store_id,
            "title": title,
            "detail": detail,
            "links": dict(links or {}),
            "status": "open",
            "acknowledged": False,
            "raised_at": now,
            "announced": False,
            "announce_after": now + ANNOUNCE_LEASE,
        }
        if await repo.insert_once(kind, cause_key, fresh, now):
            alert = {
                **fresh,
                "tenant_id": tenant_id,
                "kind": kind,
                "cause_key": cause_key,
                "open_slot": OPEN,
                "last_seen_at": now,
                "occurrences": 1,
            }
            await _announce(deps, tenant_id, alert)
            return Raised(alert, True)
        found = await repo.find_one({"kind": kind, "cause_key": cause_key, "open_slot": OPEN})
        if found is None:
            continue  # resolved between the two calls: this sighting is a new episode
        if not found["announced"] and found["announce_after"] <= now:  # its raiser died first
            claimed = await repo.find_one_and_update(
                {"_id": found["alert_id"], "announced": False, "announce_after": found["announce_after"]},
                {"$set": {"announce_after": now + ANNOUNCE_LEASE}},
            )
            if claimed is not None:
                await _announce(deps, tenant_id, claimed)
        return Raised(found, False)
    raise RuntimeError("alert slot too contended to raise")


async def _announce(deps: Deps, tenant_id: str, alert: Document) -> None:
    """Audit entry and outbox event (under an id derived from the alert: a repeat is ignored)."""
    alert_id = str(alert["alert_id"])
    shown = public(alert)
    await audit.append(
        deps.db,
        deps.clock,
        tenant_id=tenant_id,
        event_type="alert.raised",
        payload={k: shown[k] for k in ("alert_id", "kind", "cause_key", "title", "detail", "links")},
        store_id=alert["store_id"],
        subjects=[alert_id, *alert["links"].values()],
    )
    await outbox.emit_one(
        deps.db,
        tenant_id,
        event_id=f"{alert_id}.alert.raised",
        type="alert.raised",
        store_id=alert["store_id"],
        resource="alert",
        resource_id=alert_id,
        sequence=1,
        at=alert["raised_at"],
        data=shown,
    )
    await AlertRepository(deps.db, Scope(tenant_id)).update_one(
        {"_id": alert_id}, {"$set": {"announced": True}}
    )


async def resolve_alert(deps: Deps, tenant_id: str, *, kind: AlertKind, cause_key: str) -> Document | None:
    """The cause cleared: resolve its unresolved alert (if any), so a recurrence raises a new one.
    Returns the resolved alert, or None when there was none to resolve."""
    repo = AlertRepository(deps.db, Scope(tenant_id))
    found = await repo.find_one({"kind": kind, "cause_key": cause_key, "open_slot": OPEN})
    if found is None:
        return None
    alert_id = str(found["alert_id"])
    resolved = await repo.find_one_and_update(
        {"_id": alert_id, "open_slot": OPEN},
        {"$set": {"open_slot": alert_id, "status": "resolved", "resolved_at": deps.clock.now()}},
    )
    if resolved is None:
        return None  # someone else resolved it just now
    await audit.append(
        deps.db,
        deps.clock,
        tenant_id=tenant_id,
        event_type="alert.resolved",
        payload={"alert_id": alert_id, "kind": kind, "cause_key": cause_key},
        store_id=resolved["store_id"],
        subjects=[alert_id, *resolved["links"].values()],
    )
    return resolved


async def acknowledge(deps: Deps, principal: Principal, alert_id: str, note: str | None) -> Document:
    """A person saw the alert: who, when and their note are kept and audited. Idempotent: an
    alert already acknowledged is answered as it is (the first acknowledgement stands, nothing
    is audited again). A resolved alert can still be acknowledged; it stays resolved."""
    repo = AlertRepository(deps.db, principal.scope_with(PERMISSION))
    for _ in range(5):
        alert = await repo.get({"_id": alert_id}, "Alert")
        if alert["acknowledged"]:
            return alert
        status = "acknowledged" if alert["status"] == "open" else alert["status"]
        changed = await repo.find_one_and_update(
            {"_id": alert_id, "acknowledged": False, "status": alert["status"]},
            {
                "$set": {
                    "acknowledged": True,
                    "acknowledged_at": deps.clock.now(),
                    "acknowledged_by": principal.actor_id,
                    "acknowledge_note": note,
                    "status": status,
                }
            },
        )
        if changed is not None:
            await audit.record(
                deps,
                principal,
                "alert.acknowledged",
                {"alert_id": alert_id, "kind": alert["kind"], "cause_key": alert["cause_key"], "note": note},
                store_id=alert["store_id"],
                subjects=[alert_id],
            )
            return changed
    raise Conflict("The alert is changing right now; try again.")
