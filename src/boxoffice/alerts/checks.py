"""Checks that run in the background and raise alerts (alerts/kinds.py), each on one replica at a
time under a lease (core/background.py):

- every few minutes, devices holding unsynced ops past the offline limit (`unsynced_ops`): one
  indexed read of the devices whose last upload left ops on them — nothing when none do;
- nightly, every tenant's audit chain (`audit_chain_broken`): `audit.service.verify`, once per
  local day after NIGHT_HOUR (a day claimed by one atomic counter, so a restart or a second
  replica does not run it again), a tenant at a time with a pause between them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from boxoffice.alerts import kinds
from boxoffice.alerts.repository import devices_holding_ops_unscoped
from boxoffice.audit import service as audit
from boxoffice.core import ratelimit
from boxoffice.core.background import Background, Pass
from boxoffice.core.deps import Deps
from boxoffice.core.lease import Lease
from boxoffice.core.logging import get_logger
from boxoffice.reports.repository import tenant_ids_unscoped

log = get_logger(__name__)

UNSYNCED_LOOP = "alerts_unsynced_ops"
#: How often devices holding ops are looked at (backing off to MOST while none are late).
UNSYNCED_FIRST_IDLE_SECONDS = 60.0
UNSYNCED_MOST_IDLE_SECONDS = 300.0

AUDIT_LOOP = "alerts_audit_verify"
#: The local hour (settings TZ) from which the night's verify runs.
NIGHT_HOUR = 3
AUDIT_IDLE_SECONDS = 3600.0
#: Between two tenants' walks, so requests waiting on the database get through.
TENANT_PAUSE_SECONDS = 0.2


async def unsynced_ops_pass(deps: Deps) -> Pass:
    """Raise `unsynced_ops` for each device past its store's offline limit. Not `busy` (the next
    pass need not come at once); `due_in`: when the next device holding ops falls due."""
    now = deps.clock.now()
    limits: dict[tuple[str, str], timedelta] = {}
    due: list[float] = []
    for device in await devices_holding_ops_unscoped(deps.db):
        since = kinds.unsynced_since(device)
        if since is None or device.get("status") == "revoked":
            continue
        key = (str(device["tenant_id"]), str(device["store_id"]))
        if key not in limits:
            values = await kinds.store_values(deps, *key)
            limits[key] = timedelta(minutes=int(values["redemption"]["max_offline_minutes"]))
        late_at = since + limits[key]
        if now - since > limits[key]:
            await kinds.check_unsynced_ops(deps, device, limits[key])
        else:
            due.append((late_at - now).total_seconds() + 1)
    return Pass(busy=False, due_in=min(due) if due else None)


def night_of(now: datetime, tz: str) -> str | None:
    """The local day whose verify is due at `now` (None before NIGHT_HOUR)."""
    local = now.astimezone(ZoneInfo(tz))
    return local.date().isoformat() if local.hour >= NIGHT_HOUR else None


async def audit_verify_pass(deps: Deps, *, pause: float = TENANT_PAUSE_SECONDS) -> Pass:
    """Once a night: walk every tenant's audit chain; a broken one raises `audit_chain_broken`."""
    now = deps.clock.now()
    night = night_of(now, deps.settings.tz)
    if night is None:
        return Pass(busy=False)
    claim = await ratelimit.bump(deps.db, f"audit_verify:{night}", now + timedelta(days=3))
    if claim != 1:  # this night's walk has been made (or is being made)
        return Pass(busy=False)
    broken = 0
    for n, tenant_id in enumerate(await tenant_ids_unscoped(deps.db)):
        if n:
            await asyncio.sleep(pause)
        result = await audit.verify(deps.db, tenant_id, deps.clock)
        if result.broken is not None:
            broken += 1
            await kinds.audit_chain_broken(deps, tenant_id, result.broken)
    log.info("audit_verify_done", night=night, broken=broken)
    return Pass(busy=False)


def background(deps: Deps, lease: Callable[[str], Lease]) -> list[Background]:
    """The two checks, as leased loops."""
    return [
        Background(
            lease(UNSYNCED_LOOP),
            lambda: unsynced_ops_pass(deps),
            first_idle=UNSYNCED_FIRST_IDLE_SECONDS,
            most_idle=UNSYNCED_MOST_IDLE_SECONDS,
            initial_delay=UNSYNCED_FIRST_IDLE_SECONDS,
        ),
        Background(
            lease(AUDIT_LOOP),
            lambda: audit_verify_pass(deps),
            first_idle=AUDIT_IDLE_SECONDS,
            most_idle=AUDIT_IDLE_SECONDS,
            initial_delay=120.0,
        ),
    ]
