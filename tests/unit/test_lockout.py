"""Lockout rules: 5 failures inside 15 minutes lock for 15 minutes; older failures do not count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boxoffice.staff.lockout import MAX_FAILURES, WINDOW, FailureState, after_failure, is_locked

T0 = datetime(2031, 3, 14, 5, 0, tzinfo=UTC)
CLEAN = FailureState(None, 0, None)


def run(offsets_minutes: list[float]) -> FailureState:
    state = CLEAN
    for minutes in offsets_minutes:
        state = after_failure(state, T0 + timedelta(minutes=minutes))
    return state


@pytest.mark.parametrize(
    ("failures_at", "check_at", "locked"),
    [
        ([0, 1, 2, 3], 4, False),  # four failures: not yet
        ([0, 1, 2, 3, 4], 4, True),  # the fifth locks
        ([0, 1, 2, 3, 4], 18.9, True),  # ... for 15 minutes from the fifth
        ([0, 1, 2, 3, 4], 19, False),  # ... and no longer
        ([0, 4, 8, 12, 16], 16, False),  # the window restarted at 15: only two in it
        ([0, 1, 2, 3, 14.9], 14.9, True),  # all five inside the window
        ([0, 1, 2, 3, 15], 15, False),  # the fifth falls just outside
    ],
)
def test_lockout_table(failures_at: list[float], check_at: float, locked: bool) -> None:
    assert is_locked(run(failures_at), T0 + timedelta(minutes=check_at)) is locked


@given(st.lists(st.floats(min_value=0, max_value=120), min_size=1, max_size=30).map(sorted))
def test_locked_only_after_enough_failures_in_a_window(offsets: list[float]) -> None:
    state = run(offsets)
    last = T0 + timedelta(minutes=offsets[-1])
    if is_locked(state, last):
        # then some window of 15 minutes held at least MAX_FAILURES failures
        assert any(
            sum(1 for o in offsets if start <= o < start + WINDOW.total_seconds() / 60) >= MAX_FAILURES
            for start in offsets
        )
    assert state.failures >= 1
    assert state.locked_until is None or state.locked_until <= last + WINDOW


@given(st.integers(min_value=MAX_FAILURES, max_value=40))
def test_rapid_failures_always_lock(n: int) -> None:
    state = run([i * 0.1 for i in range(n)])
    assert is_locked(state, T0 + timedelta(minutes=n * 0.1))
