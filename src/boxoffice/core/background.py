"""Background loops that cost nothing when idle: each runs on one replica under a lease (the others
stand by, reading one small document when the holder's lease should have run out), backs off
exponentially while it finds nothing to do, and can be woken at once by this process (an emitted
event). On the embedded server every query stalls every request, so an idle loop must be quiet.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from pymongo.errors import PyMongoError

from boxoffice.core.lease import Lease
from boxoffice.core.logging import get_logger

log = get_logger(__name__)
T = TypeVar("T")


#: How long each step of shutting down may take: a stop must end before the orchestrator kills the
#: process (Docker waits 10 s), whatever a database driver or a receiver is stuck on.
SHUTDOWN_STEP_SECONDS = 3.0


async def bounded(step: Awaitable[object], what: str, seconds: float | None = None) -> None:
    """Await one shutdown step, giving up (logged) after `seconds` (SHUTDOWN_STEP_SECONDS). Not
    `wait_for`: on its timeout it waits for the step to take its cancellation, which a stuck step
    may never do."""
    limit = SHUTDOWN_STEP_SECONDS if seconds is None else seconds
    running = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({running}, timeout=limit)
    if not done:
        running.cancel()
        log.warning("shutdown_step_timed_out", step=what, seconds=limit)
        return
    failure = None if running.cancelled() else running.exception()
    if failure is not None:
        log.warning("shutdown_step_failed", step=what, reason=type(failure).__name__)


@dataclass(frozen=True)
class Pass:
    """What one pass of a loop found. `busy`: it did work (the next pass comes soon). `due_in`:
    seconds until work it already knows of falls due (a webhook retry), None when there is none."""

    busy: bool
    due_in: float | None = None


class Backoff:
    """Idle waits: `first`, then doubling up to `most`; `reset` after work."""

    def __init__(self, first: float, most: float) -> None:
        self.first = first
        self.most = most
        self.current = first

    def next(self) -> float:
        wait = self.current
        self.current = min(self.current * 2, self.most)
        return wait

    def reset(self) -> None:
        self.current = self.first


class Background:
    """One leased loop. `step` is one turn (claim or renew the lease, then a pass) and answers how
    long to sleep before the next; `run_forever` sleeps that long or until `wake`."""

    def __init__(
        self,
        lease: Lease,
        work: Callable[[], Awaitable[Pass]],
        *,
        first_idle: float,
        most_idle: float,
        busy_pause: float = 0.0,
        initial_delay: float = 0.0,
        most_standby: float | None = None,
    ) -> None:
        self.lease = lease
        self.name = lease.name
        self.work = work
        self.backoff = Backoff(first_idle, most_idle)
        self.busy_pause = busy_pause
        self.initial_delay = initial_delay
        #: A replica standing by looks again when the holder's lease should have run out, and at
        #: least this often.
        self.most_standby = most_standby if most_standby is not None else lease.ttl.total_seconds()
        self._wake = asyncio.Event()
        self.standing_by = False

    def wake(self) -> None:
        """Run the next pass now (this process has new work for it). Ignored while standing by:
        the replica holding the lease finds the work on its own next pass."""
        if not self.standing_by:
            self.backoff.reset()
            self._wake.set()

    async def step(self) -> float:
        try:
            holding = await self.lease.hold()
        except PyMongoError as exc:  # database away: look again later
            log.warning("background_waiting_for_database", loop=self.name, reason=type(exc).__name__)
            return self.backoff.next()
        if not holding:
            if not self.standing_by:
                log.info("background_standing_by", loop=self.name)
            self.standing_by = True
            return min(max(self.lease.seconds_left(), 1.0), self.most_standby)
        if self.standing_by:
            log.info("background_took_over", loop=self.name)
            self.standing_by = False
        try:
            result = await self._renewing(self.work)
        except PyMongoError as exc:
            log.warning("background_waiting_for_database", loop=self.name, reason=type(exc).__name__)
            return self.backoff.next()
        except Exception:  # the loop outlives a bad pass (an odd document, a broken endpoint)
            log.exception("background_pass_failed", loop=self.name)
            return self.backoff.next()
        if result.busy:
            self.backoff.reset()
            delay = self.busy_pause
        else:
            delay = self.backoff.next()
        if result.due_in is not None:
            delay = min(delay, max(result.due_in, 0.0))
        return delay

    async def _renewing(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run `work`, renewing the lease while it lasts (a pass may wait on slow receivers)."""

        async def heartbeat() -> None:
            while True:
                await asyncio.sleep(self.lease.ttl.total_seconds() / 3)
                with contextlib.suppress(PyMongoError):
                    await self.lease.hold()

        beat = asyncio.create_task(heartbeat())
        try:
            return await work()
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat

    async def sleep(self, seconds: float) -> None:
        """Until `seconds` pass or `wake` is called, whichever is first."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()

    async def run_forever(self) -> None:
        delay = self.initial_delay
        while True:
            await self.sleep(delay)
            delay = await self.step()

    async def stop(self) -> None:
        """After the task is cancelled: hand the lease back so another replica takes over at once."""
        await bounded(self.lease.release(), f"release_{self.name}", seconds=2.0)
