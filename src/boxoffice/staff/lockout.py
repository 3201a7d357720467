"""Sign-in failures, pure: how fast anyone may guess a PIN or password, and who gets slowed.

A *source* is where a guess comes from: the device for a PIN, the network address for a password.
- Each (employee, source) pair is slowed on its own: five failures inside 15 minutes lock that
  pair for 15 minutes, and every further lockout doubles, up to a day. A stranger's guesses never
  lock the real user out of their own device or network.
- A source the employee has never signed in from is *untrusted*. All untrusted sources together
  may fail at most `UNTRUSTED_DAILY_BUDGET` times a day per employee and
  `TENANT_UNTRUSTED_DAILY_BUDGET` times a day per tenant: registering more devices or renting more
  addresses buys an attacker nothing. Exhausting them refuses only untrusted sources (the real
  users keep signing in where they always do) and alerts the owner.
Together they bound the guessing rate (see `days_to_guess`), whatever the number of devices or
addresses an attacker controls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
FIRST_LOCK = timedelta(minutes=15)
MAX_LOCK = timedelta(hours=24)
UNTRUSTED_DAILY_BUDGET = 10
TENANT_UNTRUSTED_DAILY_BUDGET = 100
#: Wrong secrets in one hour across a tenant that raise the owner's alert.
TENANT_BURST_ALERT = 20
PIN_SPACE = {4: 10_000, 5: 100_000, 6: 1_000_000, 7: 10_000_000, 8: 100_000_000}


@dataclass(frozen=True)
class SourceState:
    """One (employee, source) pair's recent failures."""

    window_start: datetime | None = None
    failures: int = 0
    locked_until: datetime | None = None
    lockouts: int = 0
    trusted: bool = False


def is_locked(state: SourceState, now: datetime) -> bool:
    return state.locked_until is not None and now < state.locked_until


def lock_length(lockouts: int) -> timedelta:
    """15 minutes, then 30, 60, … doubling up to a day."""
    length: timedelta = FIRST_LOCK * (2 ** min(lockouts, 16))
    return min(MAX_LOCK, length)


def after_failure(state: SourceState, now: datetime) -> SourceState:
    """Count one failure; the fifth inside the window locks the pair, each lockout longer."""
    if state.window_start is None or now - state.window_start >= WINDOW:
        window_start, failures = now, 1
    else:
        window_start, failures = state.window_start, state.failures + 1
    if failures >= MAX_FAILURES:
        return SourceState(None, 0, now + lock_length(state.lockouts), state.lockouts + 1, state.trusted)
    return SourceState(window_start, failures, state.locked_until, state.lockouts, state.trusted)


def after_success(state: SourceState) -> SourceState:
    """The real user got in from here: the slate is clean and the source is theirs from now on."""
    return SourceState(trusted=True)


def trusted_guesses(days: int) -> int:
    """The most wrong guesses one trusted (employee, source) pair can make in `days`: the lockout
    schedule run back to back (once the lock reaches a day, five a day)."""
    guesses, elapsed, lockouts = 0, timedelta(0), 0
    horizon = timedelta(days=days)
    while elapsed < horizon and lock_length(lockouts) < MAX_LOCK:
        guesses += MAX_FAILURES
        elapsed += lock_length(lockouts)
        lockouts += 1
    if elapsed < horizon:
        guesses += MAX_FAILURES * -(-(horizon - elapsed) // MAX_LOCK)
    return guesses


def untrusted_guesses(days: int, employees: int) -> int:
    """The most wrong guesses all untrusted sources together can make against a tenant in `days`."""
    return days * min(employees * UNTRUSTED_DAILY_BUDGET, TENANT_UNTRUSTED_DAILY_BUDGET)


def days_to_guess(employees: int, pin_digits: int, trusted_pairs: int = 0) -> int:
    """Days before an attacker, guessing every employee's PIN at once at the most the limits allow
    (from any number of devices and addresses, plus `trusted_pairs` employee-device pairs they hold,
    say a stolen POS its cashiers used), has an even chance of finding one PIN."""
    space = PIN_SPACE[pin_digits]
    for days in range(1, 100_000):
        guesses = untrusted_guesses(days, employees) + trusted_pairs * trusted_guesses(days)
        per_employee = min(space, guesses / employees)
        if 1 - (1 - per_employee / space) ** employees >= 0.5:
            return days
    return 100_000
