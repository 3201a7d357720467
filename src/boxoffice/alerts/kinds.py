"""The alerts the till, the gates and the nightly checks raise, each with its cause and the links
to its records. Each is raised through `service.raise_alert`, so however often its check runs or
its cause is reported, one cause makes one alert.

- `cash_difference`: a shift closed (or its count corrected) short or over by more than
  `shifts.cash_difference_alert`; the cause is the shift, and a correction back within the
  threshold resolves it.
- `offline_double_admission`: an offline upload finds that gates let one ticket in more often
  than it allows (a PASS given offline after its uses were gone, or an earlier offline PASS
  that displaced a later one); the cause is the ticket.
- `unsynced_ops`: a device said it still holds ops and has not uploaded them for longer than
  `redemption.max_offline_minutes`; the cause is the device, resolved when an upload empties it.
- `audit_chain_broken`: the nightly verify finds the tenant's audit chain broken; the cause is the
  first entry where it breaks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from boxoffice.alerts.service import Raised, raise_alert, resolve_alert
from boxoffice.audit.chain import BrokenLink
from boxoffice.core.clock import isoformat_z
from boxoffice.core.db import Document
from boxoffice.core.deps import Deps
from boxoffice.core.money import format_thb
from boxoffice.settings import service as settings


async def store_values(deps: Deps, tenant_id: str, store_id: str) -> dict[str, Any]:
    values: dict[str, Any] = (await settings.effective(deps, tenant_id, store_id))["values"]
    return values


async def cash_difference_threshold(deps: Deps, tenant_id: str, store_id: str) -> int:
    return int((await store_values(deps, tenant_id, store_id))["shifts"]["cash_difference_alert"])


async def check_cash_difference(deps: Deps, tenant_id: str, shift: Document) -> Raised | None:
    """After a close (or a corrected count) is frozen on the shift: raise when the difference is
    past the store's threshold, resolve when a correction brought it back within it."""
    diff = shift.get("cash_diff")
    if diff is None:
        return None
    shift_id, store_id = str(shift["shift_id"]), str(shift["store_id"])
    threshold = await cash_difference_threshold(deps, tenant_id, store_id)
    if abs(int(diff)) <= threshold:
        await resolve_alert(deps, tenant_id, kind="cash_difference", cause_key=shift_id)
        return None
    short_or_over = "short" if int(diff) < 0 else "over"
    links = {"shift_id": shift_id, "device_id": str(shift["device_id"])}
    closed_by = shift.get("closed_by") or shift.get("opened_by")
    if closed_by:
        links["employee_id"] = str(closed_by)
    return await raise_alert(
        deps,
        tenant_id,
        kind="cash_difference",
        cause_key=shift_id,
        store_id=store_id,
        title=f"Cash drawer {short_or_over} by {format_thb(abs(int(diff)))}",
        detail=f"A shift closed with {format_thb(int(shift.get('cash_counted') or 0))} counted against "
        f"{format_thb(int(shift.get('cash_expected') or 0))} expected: {short_or_over} by "
        f"{format_thb(abs(int(diff)))}, more than the {format_thb(threshold)} the store allows "
        "(settings: shifts.cash_difference_alert).",
        links=links,
    )


async def offline_double_admission(
    deps: Deps, tenant_id: str, *, ticket: Document, redemption_id: str, device_id: str, store_id: str
) -> Raised:
    """A ticket let in more often than it allows by gates working offline."""
    code = str(ticket.get("short_code") or ticket["ticket_id"])
    return await raise_alert(
        deps,
        tenant_id,
        kind="offline_double_admission",
        cause_key=str(ticket["ticket_id"]),
        store_id=store_id,
        title=f"Ticket {code} was let in twice offline",
        detail="Gates working offline let this ticket in more often than it allows; the later "
        "entry is kept as a FAIL duplicate_use with offline_conflict, and the offline incidents "
        "name both gates and both times.",
        links={"ticket_id": str(ticket["ticket_id"]), "redemption_id": redemption_id, "device_id": device_id},
    )


def unsynced_since(device: Document) -> datetime | None:
    """When a device last uploaded while saying it still held ops (None: it holds none): those
    ops are at least as old as that upload."""
    if not device.get("holding_ops") and not int(device.get("outbox_remaining") or 0):
        return None
    last: datetime | None = device.get("last_sync_at")
    return last


async def check_unsynced_ops(deps: Deps, device: Document, max_offline: timedelta) -> Raised | None:
    """Raise when the device's unsent ops are older than `max_offline`."""
    since = unsynced_since(device)
    if since is None or deps.clock.now() - since <= max_offline:
        return None
    name = str(device.get("name") or device["device_id"])
    remaining = int(device.get("outbox_remaining") or 0)
    minutes = int(max_offline.total_seconds() // 60)
    return await raise_alert(
        deps,
        str(device["tenant_id"]),
        kind="unsynced_ops",
        cause_key=str(device["device_id"]),
        store_id=str(device["store_id"]),
        title=f"{name} has not uploaded its offline work",
        detail=f"At its last upload ({isoformat_z(since)}) it still held {remaining} ops, and it has "
        f"sent nothing since: more than the {minutes} minutes a device may work offline "
        "(settings: redemption.max_offline_minutes). Sales and gate entries it made are not in the "
        "books until it reconnects.",
        links={"device_id": str(device["device_id"])},
    )


async def device_synced(deps: Deps, tenant_id: str, device_id: str) -> None:
    """An upload left the device's outbox empty: its unsynced-ops alert (if any) is resolved."""
    await resolve_alert(deps, tenant_id, kind="unsynced_ops", cause_key=device_id)


async def audit_chain_broken(deps: Deps, tenant_id: str, broken: BrokenLink) -> Raised:
    return await raise_alert(
        deps,
        tenant_id,
        kind="audit_chain_broken",
        cause_key=f"{broken.seq}:{broken.audit_id}",
        store_id=None,
        title="The audit log's hash chain is broken",
        detail=f"The nightly check found the chain broken at entry {broken.seq}: {broken.reason}. "
        "An entry was changed, removed or inserted outside BoxOffice; `boxoffice audit verify` "
        "shows the same.",
        links={"audit_id": broken.audit_id, "audit_seq": str(broken.seq)},
    )
