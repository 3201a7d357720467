"""Run the migration steps: in order, each once, by one process at a time.

A process that finds steps pending takes the `migrations` lease (core/lease.py) and applies them
one by one, recording each when it has finished (so a step that fails, or whose process dies, is
run again next time: steps are idempotent). It renews the lease while a step runs. The others wait,
looking again every moment, until every step is recorded — or until the holder's lease lapses,
when one of them takes over. At start-up (`run_at_start`) the API does this before it serves; a
database that does not answer then is noted, and the steps are tried again in the background.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from pymongo.errors import PyMongoError

from boxoffice.core.deps import Deps
from boxoffice.core.lease import Lease
from boxoffice.core.logging import get_logger
from boxoffice.migrations import repository
from boxoffice.ops.settings import OpsSettings

log = get_logger(__name__)

LEASE = "migrations"
WAIT_POLL_SECONDS = 0.5
RETRY_SECONDS = 30.0


@dataclass(frozen=True)
class Context:
    deps: Deps
    ops: OpsSettings


@dataclass(frozen=True)
class Step:
    """`id` orders the steps (`0001_…`, never renumbered once released); `apply` does the work and
    says what it did, and must be safe to run again on a database where it ran (wholly or in part);
    `plan` says what `apply` would do, without writing (for `--dry-run`)."""

    id: str
    description: str
    apply: Callable[[Context], Awaitable[str]]
    plan: Callable[[Context], Awaitable[str]]


@dataclass(frozen=True)
class StepStatus:
    step: Step
    applied_at: datetime | None
    note: str


@dataclass(frozen=True)
class Applied:
    step_id: str
    note: str
    took_ms: int


def check_order(steps: Sequence[Step]) -> None:
    ids = [s.id for s in steps]
    if ids != sorted(ids) or len(set(ids)) != len(ids):
        raise ValueError(f"migration steps must be listed once each, in id order: {ids}")


async def status(ctx: Context, steps: Sequence[Step]) -> list[StepStatus]:
    done = await repository.applied(ctx.deps.db)
    return [
        StepStatus(
            s, done[s.id].get("applied_at") if s.id in done else None, str(done.get(s.id, {}).get("note", ""))
        )
        for s in steps
    ]


async def pending(ctx: Context, steps: Sequence[Step]) -> list[Step]:
    done = await repository.applied(ctx.deps.db)
    return [s for s in steps if s.id not in done]


async def plans(ctx: Context, steps: Sequence[Step]) -> list[tuple[Step, str]]:
    """What each pending step would do (nothing is written)."""
    return [(s, await s.plan(ctx)) for s in await pending(ctx, steps)]


async def _renewing(lease: Lease, work: Awaitable[str]) -> str:
    async def heartbeat() -> None:
        while True:
            await asyncio.sleep(lease.ttl.total_seconds() / 3)
            with contextlib.suppress(PyMongoError):
                await lease.hold()

    beat = asyncio.create_task(heartbeat())
    try:
        return await work
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat


async def migrate(
    ctx: Context,
    steps: Sequence[Step],
    holder: str,
    *,
    on_applied: Callable[[Applied], None] | None = None,
    poll: float = WAIT_POLL_SECONDS,
) -> list[Applied]:
    """Apply every pending step, or wait while another process does. Returns what this process
    applied (nothing, when another did it all). A step that raises stops here, unrecorded."""
    check_order(steps)
    lease = Lease(ctx.deps.db, ctx.deps.clock, LEASE, holder)
    done: list[Applied] = []
    waiting_logged = False
    while await pending(ctx, steps):
        if not await lease.hold():
            if not waiting_logged:
                log.info("migrations_waiting", holder=lease.holder)
                waiting_logged = True
            await asyncio.sleep(poll)
            continue
        try:
            for step in await pending(ctx, steps):  # read again under the lease
                started = time.perf_counter()
                log.info("migration_started", step=step.id)
                note = await _renewing(lease, step.apply(ctx))
                took_ms = int((time.perf_counter() - started) * 1000)
                await repository.record(
                    ctx.deps.db,
                    step_id=step.id,
                    description=step.description,
                    at=ctx.deps.clock.now(),
                    took_ms=took_ms,
                    holder=holder,
                    note=note,
                )
                log.info("migration_applied", step=step.id, took_ms=took_ms, note=note)
                applied = Applied(step.id, note, took_ms)
                done.append(applied)
                if on_applied is not None:
                    on_applied(applied)
        finally:
            with contextlib.suppress(PyMongoError):
                await lease.release()
    return done


async def run_at_start(ctx: Context, steps: Sequence[Step], holder: str) -> bool:
    """Start-up: migrate (or wait for the replica that does). False when the database did not
    answer (the caller tries again later); a failing step raises, and the process does not start."""
    try:
        await migrate(ctx, steps, holder)
    except PyMongoError as exc:
        log.warning("migrations_pending", reason=type(exc).__name__)
        return False
    return True


async def keep_trying(ctx: Context, steps: Sequence[Step], holder: str, every: float = RETRY_SECONDS) -> None:
    """After a start-up that could not reach the database: try again until the steps have run."""
    while True:
        await asyncio.sleep(every)
        if await run_at_start(ctx, steps, holder):
            return
