"""The backup rotation: 7 daily, 4 weekly, 12 monthly (configurable), newest always kept; files that
are not our archives never touched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boxoffice.ops.backup_rotation import archive_name, archive_time, keep, rotate
from boxoffice.ops.settings import KeepPolicy

BANGKOK = ZoneInfo("Asia/Bangkok")
PREFIX = "boxoffice-production"


def nightly(days: int, *, start: datetime = datetime(2031, 1, 1, 19, 30, tzinfo=UTC)) -> list[datetime]:
    """One archive a night at 02:30 Bangkok (19:30 UTC the day before), for `days` nights."""
    return [start + timedelta(days=n) for n in range(days)]


def test_a_year_of_nightly_backups_keeps_7_daily_4_weekly_and_12_monthly() -> None:
    taken = nightly(400)
    kept = keep(taken, KeepPolicy(), BANGKOK)
    newest = max(taken)
    local_days = sorted({at.astimezone(BANGKOK).date() for at in kept}, reverse=True)
    # the last 7 nights are all kept
    assert all(newest - timedelta(days=n) in kept for n in range(7))
    weeks = {at.astimezone(BANGKOK).isocalendar()[:2] for at in kept}
    months = {(at.astimezone(BANGKOK).year, at.astimezone(BANGKOK).month) for at in kept}
    assert len(months) == 12  # a year back, one a month
    assert len(weeks) >= 4
    assert len(kept) <= 7 + 4 + 12
    assert min(kept) > newest - timedelta(days=366)
    assert local_days[0] == newest.astimezone(BANGKOK).date()


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (KeepPolicy(daily=7, weekly=0, monthly=0), 7),
        (KeepPolicy(daily=3, weekly=0, monthly=0), 3),
        (KeepPolicy(daily=0, weekly=0, monthly=1), 1),  # the newest, which is this month's
        (KeepPolicy(daily=0, weekly=2, monthly=0), 2),
    ],
)
def test_each_tier_keeps_the_newest_of_its_periods(policy: KeepPolicy, expected: int) -> None:
    taken = nightly(30)
    kept = keep(taken, policy, BANGKOK)
    assert len(kept) == expected
    assert max(taken) in kept


def test_several_backups_a_day_keep_the_days_newest() -> None:
    day = datetime(2031, 3, 14, 1, 0, tzinfo=UTC)
    taken = [day, day + timedelta(hours=3), day + timedelta(hours=6)]
    assert keep(taken, KeepPolicy(daily=1, weekly=0, monthly=0), BANGKOK) == {day + timedelta(hours=6)}


def test_days_are_the_venues_not_utc() -> None:
    """02:30 and 23:30 Bangkok on one local day are one day, though they fall on two UTC days."""
    early = datetime(2031, 3, 13, 19, 30, tzinfo=UTC)  # 14 March 02:30 in Bangkok
    late = datetime(2031, 3, 14, 16, 30, tzinfo=UTC)  # 14 March 23:30 in Bangkok
    assert keep([early, late], KeepPolicy(daily=2, weekly=0, monthly=0), BANGKOK) == {late}
    assert keep([early, late], KeepPolicy(daily=2, weekly=0, monthly=0), ZoneInfo("UTC")) == {early, late}


def test_names_round_trip_and_foreign_files_are_left_alone() -> None:
    at = datetime(2031, 3, 14, 19, 30, 5, tzinfo=UTC)
    name = archive_name(PREFIX, at)
    assert name == "boxoffice-production-20310314T193005Z.archive.gz"
    assert archive_time(name, PREFIX) == at
    assert archive_time(name, "boxoffice-staging") is None  # another stack's archive
    names = [archive_name(PREFIX, t) for t in nightly(20)]
    foreign = [
        "notes.txt",
        ".boxoffice-production-20310101T000000Z.archive.gz.partial",
        "boxoffice-staging-20300101T000000Z.archive.gz",
    ]
    plan = rotate(names + foreign, PREFIX, KeepPolicy(daily=7, weekly=0, monthly=0), BANGKOK)
    assert len(plan.keep) == 7
    assert len(plan.delete) == 13
    assert not set(foreign) & (set(plan.keep) | set(plan.delete))


@settings(max_examples=200, deadline=None)
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=3 * 365 * 24), min_size=1, max_size=60),
    daily=st.integers(0, 10),
    weekly=st.integers(0, 6),
    monthly=st.integers(0, 14),
)
def test_rotation_properties(offsets: list[int], daily: int, weekly: int, monthly: int) -> None:
    """The newest always stays; never more than the policy's sum (plus the newest); rotating what
    was kept keeps it all (a second run deletes nothing)."""
    base = datetime(2030, 1, 1, tzinfo=UTC)
    taken = [base + timedelta(hours=h) for h in offsets]
    policy = KeepPolicy(daily, weekly, monthly)
    kept = keep(taken, policy, BANGKOK)
    assert max(taken) in kept
    assert kept <= set(taken)
    assert len(kept) <= max(1, daily + weekly + monthly)
    assert keep(kept, policy, BANGKOK) == kept
