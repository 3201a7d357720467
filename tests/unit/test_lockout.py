"""Lockout rules, pure: five failures inside 15 minutes lock the (employee, source) pair, each
lockout twice as long up to a day; and the guessing rate those limits allow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boxoffice.staff.lockout import (
    MAX_FAILURES,
    MAX_LOCK,
    WINDOW,
    SourceState,
    after_failure,
    after_success,
    days_to_guess,
    is_locked,
    lock_length,
    trusted_guesses,
    untrusted_guesses,
)

T0 = datetime(2031, 3, 14, 5, 0, tzinfo=UTC)


def run(offsets_minutes: list[float], state: SourceState | None = None) -> SourceState:
    state = state or SourceState()
    for minutes in offsets_minutes:
        now = T0 + timedelta(minutes=minutes)
        if not is_locked(state, now):  # a locked pair's guesses are refused, not counted
            state = after_failure(state, now)
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
        ([0, 1, 2, 3, 4, 20, 21, 22, 23, 24], 53.9, True),  # the second lockout: 30 minutes
        ([0, 1, 2, 3, 4, 20, 21, 22, 23, 24], 54, False),
    ],
)
def test_lockout_table(failures_at: list[float], check_at: float, locked: bool) -> None:
    assert is_locked(run(failures_at), T0 + timedelta(minutes=check_at)) is locked


def test_each_lockout_doubles_up_to_a_day() -> None:
    assert [lock_length(n) for n in range(8)] == [
        timedelta(minutes=15 * 2**n) if 15 * 2**n < 24 * 60 else MAX_LOCK for n in range(8)
    ]
    assert lock_length(60) == MAX_LOCK


def test_success_clears_the_pair_and_trusts_the_source() -> None:
    locked = run([0, 1, 2, 3, 4])
    assert after_success(locked) == SourceState(trusted=True)


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


@given(st.integers(min_value=1, max_value=30))
def test_the_schedule_allows_no_more_guesses_than_trusted_guesses_says(days: int) -> None:
    """Guess as fast as the pair allows for `days`: the count never beats the bound."""
    state, now, guesses = SourceState(), T0, 0
    end = T0 + timedelta(days=days)
    while now < end:
        if is_locked(state, now):
            assert state.locked_until is not None
            now = state.locked_until
            continue
        state = after_failure(state, now)
        guesses += 1
        now += timedelta(seconds=1)
    assert guesses <= trusted_guesses(days)


def test_guessing_a_four_digit_pin_takes_more_than_a_month_whatever_the_size_of_the_tenant() -> None:
    for employees in (1, 5, 20, 100, 5_000):
        assert days_to_guess(employees, 4) > 30
        assert days_to_guess(employees, 4, trusted_pairs=5) > 30
        assert days_to_guess(employees, 6) > 3_000
    assert untrusted_guesses(1, 1_000) == untrusted_guesses(1, 10)  # more staff: no more guesses a day
