"""PIN and password lockout, pure: 5 failures inside 15 minutes lock the employee for 15 minutes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class FailureState:
    window_start: datetime | None
    failures: int
    locked_until: datetime | None


def is_locked(state: FailureState, now: datetime) -> bool:
    return state.locked_until is not None and now < state.locked_until


def after_failure(state: FailureState, now: datetime) -> FailureState:
    """Count one failure; a failure outside the window starts a new one."""
    if state.window_start is None or now - state.window_start >= WINDOW:
        window_start, failures = now, 1
    else:
        window_start, failures = state.window_start, state.failures + 1
    locked_until = now + WINDOW if failures >= MAX_FAILURES else state.locked_until
    return FailureState(window_start, failures, locked_until)
