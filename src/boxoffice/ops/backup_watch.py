"""The API's side of backups: the age of the last good backup as metrics (read from the
`backup_status` document the backup job writes), and the `backup_stale` alert, raised in every
tenant's back office while the last good backup is older than BACKUP_STALE_HOURS (26 by default: a
daily job that missed one run) and resolved when a good one arrives.

The alert loop runs on one replica (a lease), every few minutes, and costs one read by `_id` while
nothing changes; each replica's `/metrics` re-reads the document at most every half minute.
"""

from __future__ import annotations

import math
import time as monotonic
from datetime import datetime, timedelta

from pymongo.errors import PyMongoError

from boxoffice.alerts.schemas import AlertKind
from boxoffice.alerts.service import raise_alert, resolve_alert
from boxoffice.core.background import Pass
from boxoffice.core.clock import Clock
from boxoffice.core.db import Database, Document
from boxoffice.core.deps import Deps
from boxoffice.core.logging import get_logger
from boxoffice.core.metrics import Metrics
from boxoffice.ops import repository as store
from boxoffice.ops.settings import OpsSettings
from boxoffice.reports.repository import tenant_ids_unscoped

log = get_logger(__name__)

KIND: AlertKind = "backup_stale"
CAUSE = "backup"
EVERY_SECONDS = 900.0
#: How long a replica's metrics reuse the status document they last read.
METRICS_TTL_SECONDS = 30.0


def age(status: Document | None, now: datetime) -> timedelta | None:
    """Since the last good backup — or, when there never was one, since the job (or the watch)
    started counting. None when nothing has reported at all."""
    if status is None:
        return None
    since = status.get("last_good_at") or status.get("since")
    return now - since if isinstance(since, datetime) else None


def is_stale(status: Document | None, now: datetime, ops: OpsSettings) -> bool:
    found = age(status, now)
    return found is not None and found > timedelta(hours=ops.backup_stale_hours)


class BackupGauges:
    """Fills the backup gauges of one app's metrics from the status document, read at most every
    METRICS_TTL_SECONDS; a database that does not answer leaves them as they were."""

    def __init__(self, metrics: Metrics, clock: Clock) -> None:
        self.metrics = metrics
        self.clock = clock
        self._read_at: float | None = None
        self._status: Document | None = None

    async def refresh(self, db: Database) -> None:
        now_mono = monotonic.monotonic()
        if self._read_at is None or now_mono - self._read_at >= METRICS_TTL_SECONDS:
            try:
                self._status = await store.read_status(db)
                self._read_at = now_mono
            except PyMongoError:
                return
        self.show(self._status)

    def show(self, status: Document | None) -> None:
        found = age(status, self.clock.now())
        self.metrics.backup_age.set(found.total_seconds() if found is not None else math.nan)
        last = (status or {}).get("last_good_at")
        self.metrics.backup_last_success.set(last.timestamp() if isinstance(last, datetime) else math.nan)


async def watch(deps: Deps, ops: OpsSettings) -> Pass:
    """One pass of the alert loop."""
    now = deps.clock.now()
    status = await store.read_status(deps.db)
    if status is None:
        if deps.settings.environment == "development":
            return Pass(busy=False)  # `make run` has no backup job: nothing to expect
        # A stack whose backup job never reported: count from now, so it alerts a day on.
        await store.status_started(deps.db, now=now, method="none yet", environment=deps.settings.environment)
        return Pass(busy=False)
    stale = is_stale(status, now, ops)
    if stale:
        await _raise_everywhere(deps, status, now, ops)
        if not status.get("alerted"):
            await store.set_alerted(deps.db, True)
    elif status.get("alerted"):
        for tenant_id in await tenant_ids_unscoped(deps.db):
            await resolve_alert(deps, tenant_id, kind=KIND, cause_key=CAUSE)
        await store.set_alerted(deps.db, False)
        log.info("backup_fresh_again")
    return Pass(busy=False)


async def _raise_everywhere(deps: Deps, status: Document, now: datetime, ops: OpsSettings) -> None:
    found = age(status, now)
    hours = int(found.total_seconds() // 3600) if found else 0
    last = status.get("last_good_at")
    detail = (
        f"The last good backup was taken {hours} hours ago ({last.isoformat()}); "
        if isinstance(last, datetime)
        else f"No good backup has been recorded in {hours} hours; "
    )
    error = str(status.get("last_error") or "")
    detail += f"the last attempt failed: {error}" if error else "the backup job has not reported since."
    log.warning("backup_stale", hours=hours, limit_hours=ops.backup_stale_hours)
    for tenant_id in await tenant_ids_unscoped(deps.db):
        await raise_alert(
            deps,
            tenant_id,
            kind=KIND,
            cause_key=CAUSE,
            store_id=None,
            title=f"Backups are more than {ops.backup_stale_hours} hours old",
            detail=detail,
        )
