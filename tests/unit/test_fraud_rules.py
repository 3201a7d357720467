"""The Fraud Watch's pure rules: opening hours on the store's wall clock (daylight saving included),
baselines and z-scores, flags with their floor, the words and the drill-down links."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from boxoffice.fraud import rules
from boxoffice.settings.schemas import validate_section

REPRINTS = next(m for m in rules.METRICS if m.name == "reprints")
WEEKDAY_HOURS = {"open": "10:00", "close": "20:00"}
HOURS = rules.week_hours(
    {
        "mon": WEEKDAY_HOURS,
        "tue": WEEKDAY_HOURS,
        "wed": WEEKDAY_HOURS,
        "thu": WEEKDAY_HOURS,
        "fri": WEEKDAY_HOURS,
        "sat": {"open": "09:00", "close": "24:00"},
        "sun": None,
    }
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("at", "tz", "outside"),
    [
        # Bangkok is UTC+7 all year: Friday 2031-03-14
        (utc(2031, 3, 14, 2, 59), "Asia/Bangkok", True),  # 09:59
        (utc(2031, 3, 14, 3, 0), "Asia/Bangkok", False),  # 10:00 opens
        (utc(2031, 3, 14, 12, 59), "Asia/Bangkok", False),  # 19:59
        (utc(2031, 3, 14, 13, 0), "Asia/Bangkok", True),  # 20:00 closed
        (utc(2031, 3, 14, 17, 30), "Asia/Bangkok", True),  # Saturday 00:30: before Saturday's 09:00
        (utc(2031, 3, 15, 16, 59), "Asia/Bangkok", False),  # Saturday 23:59, open until midnight
        (utc(2031, 3, 16, 5, 0), "Asia/Bangkok", True),  # Sunday: closed all day
        # London: GMT until Sunday 2031-03-30 01:00 UTC, then BST (UTC+1)
        (utc(2031, 3, 28, 19, 30), "Europe/London", False),  # Friday 19:30 GMT
        (utc(2031, 4, 4, 19, 30), "Europe/London", True),  # Friday 20:30 BST: after closing
        (utc(2031, 3, 28, 9, 30), "Europe/London", True),  # Friday 09:30 GMT: before opening
        (utc(2031, 4, 4, 9, 30), "Europe/London", False),  # Friday 10:30 BST: open
    ],
)
def test_opening_hours_are_read_on_the_stores_wall_clock(at: datetime, tz: str, outside: bool) -> None:
    assert rules.outside_hours(at, tz, HOURS) is outside


def test_no_hours_set_means_open_all_day_every_day() -> None:
    assert rules.week_hours(None) == rules.OPEN_ALL_WEEK
    assert not rules.outside_hours(utc(2031, 3, 14, 20, 0), "Asia/Bangkok", rules.week_hours({}))


def test_a_local_day_and_its_closed_parts_follow_daylight_saving() -> None:
    # the spring change in London: a 23-hour day
    start, end = rules.day_span("2031-03-30", "Europe/London")
    assert (start, end) == (utc(2031, 3, 30, 0, 0), utc(2031, 3, 30, 23, 0))
    # Monday after the change: closed before 10:00 BST (09:00 UTC) and from 20:00 BST (19:00 UTC)
    assert rules.closed_spans("2031-03-31", "Europe/London", HOURS) == [
        (utc(2031, 3, 30, 23, 0), utc(2031, 3, 31, 9, 0)),
        (utc(2031, 3, 31, 19, 0), utc(2031, 3, 31, 23, 0)),
    ]
    # a Saturday open until midnight has one closed part; a Sunday is closed whole
    assert len(rules.closed_spans("2031-03-15", "Asia/Bangkok", HOURS)) == 1
    assert rules.closed_spans("2031-03-16", "Asia/Bangkok", HOURS) == [
        rules.day_span("2031-03-16", "Asia/Bangkok")
    ]


@pytest.mark.parametrize(
    "value",
    [
        {"mon": {"open": "10:00", "close": "09:00"}},  # closes before it opens
        {"mon": {"open": "10:00", "close": "10:00"}},
        {"mon": {"open": "24:00", "close": "24:00"}},
        {"mon": {"open": "9:00", "close": "18:00"}},  # not HH:MM
        {"mon": {"open": "09:60", "close": "18:00"}},
        {"mon": {"open": "09:00", "close": "24:30"}},
        {"funday": None},
    ],
)
def test_bad_opening_hours_are_refused(value: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        validate_section("hours", value)


def test_opening_hours_setting_keeps_closed_days_and_fills_the_rest() -> None:
    saved = validate_section("hours", {"sun": None, "mon": {"open": "09:30", "close": "24:00"}})
    assert saved["sun"] is None
    assert saved["mon"] == {"open": "09:30", "close": "24:00"}
    assert saved["tue"] == {"open": "00:00", "close": "24:00"}
    assert rules.week_hours(saved)[0] == (570, 1440)


@pytest.mark.parametrize(
    ("daily", "mean", "stdev"),
    [([], 0.0, 0.0), ([0] * 28, 0.0, 0.0), ([1, 1, 1, 1], 1.0, 0.0), ([0, 2, 0, 2], 1.0, 1.0)],
)
def test_baseline_counts_every_day_zeros_included(daily: list[int], mean: float, stdev: float) -> None:
    assert rules.baseline(daily) == rules.Baseline(mean, stdev)


@pytest.mark.parametrize(
    ("count", "daily", "z"),
    [
        (3, [0, 2, 0, 2], 2.0),  # (3 - 1) / 1
        (9, [1] * 28, 8.0),  # a flat baseline divides by one event a day, not by zero
        (0, [4, 0, 4, 0], -1.0),
    ],
)
def test_z_score(count: int, daily: list[int], z: float) -> None:
    assert rules.z_score(count, rules.baseline(daily)) == pytest.approx(z)


@pytest.mark.parametrize(
    ("values", "middle"), [([], None), ([3], 3.0), ([5, 1, 3], 3.0), ([4, 1, 2, 3], 2.5)]
)
def test_median(values: list[int], middle: float | None) -> None:
    assert rules.median(values) == middle


def judge(
    count: int, history: list[int], *, floor: int = 3, peers: tuple[int, ...] = (1, 2, 0)
) -> rules.Finding:
    return rules.judge(
        REPRINTS,
        who="Cashier Bee",
        when="today",
        kind="employee",
        count=count,
        amount=None,
        history=history,
        peer_counts=list(peers),
        z_threshold=3.0,
        floor=floor,
    )


USUAL = [1, 2, 1, 0, 2, 1, 1] * 4  # 0 to 2 a day


def test_a_spike_is_flagged_and_explained() -> None:
    found = judge(9, USUAL)
    assert found.flagged
    assert found.explanation == (
        "Cashier Bee: 9 reprints today, usually 1.1 ± 0.6 a day; "
        "the store's 3 other employees that day: median 1"
    )
    assert (found.mean, found.stdev, found.peer_median, found.peers) == (1.143, 0.639, 1.0, 3)
    assert found.z == pytest.approx((9 - 8 / 7) / 1.0, abs=0.01)


def test_an_ordinary_day_is_not_flagged_and_needs_no_words() -> None:
    found = judge(2, USUAL)
    assert (found.flagged, found.explanation) == (False, None)


def test_the_floor_keeps_a_quiet_entity_from_spiking_on_one_event() -> None:
    assert not judge(1, [0] * 28).flagged  # z = 1 / 1: no spike
    assert not judge(2, [0] * 28, floor=3).flagged  # below the floor
    assert judge(3, [0] * 28, floor=3).flagged
    assert not judge(9, USUAL, floor=10).flagged  # a high floor wins over any z


@given(
    count=st.integers(0, 50),
    extra=st.integers(1, 20),
    history=st.lists(st.integers(0, 10), min_size=28, max_size=28),
    floor=st.integers(1, 10),
)
def test_more_of_the_same_never_unflags(count: int, extra: int, history: list[int], floor: int) -> None:
    first = judge(count, history, floor=floor)
    assert first.flagged == (count >= floor and first.z >= 3.0)
    if first.flagged:
        assert judge(count + extra, history, floor=floor).flagged


def test_money_and_one_event_are_worded() -> None:
    refunds = next(m for m in rules.METRICS if m.name == "refunds")
    words = rules.explain(
        "POS 2", refunds, 1, 125_050, rules.Baseline(0.0, 0.0), None, 0, "on 2031-03-14", "device"
    )
    assert words == "POS 2: 1 refund (1,250.50 THB) on 2031-03-14, usually 0.0 ± 0.0 a day"


def doc(kind: str, entity_id: str, day: str, **counts: int) -> dict[str, object]:
    return {"entity_kind": kind, "entity_id": entity_id, "day": day, **counts}


def test_a_stores_day_judges_each_active_entity_against_itself_and_its_peers() -> None:
    day = "2031-03-14"
    past = rules.history_days(day)
    assert (len(past), past[0], past[-1]) == (28, "2031-02-14", "2031-03-13")
    docs = [doc("employee", "bee", d, reprints=1) for d in past[::2]]
    docs += [doc("employee", "ann", d, reprints=2) for d in past]
    docs += [
        doc("employee", "bee", day, reprints=8, sales=3, sales_amount=45_000),
        doc("employee", "ann", day, reprints=2),
        doc("employee", "cid", day, sales=1),  # active, no reprints
        doc("device", "gate-1", day, duplicate_use=1, scans=40),
        doc("employee", "old", past[0], reprints=5),  # not active today: not judged
    ]
    judged = rules.assess_day(
        docs,
        day,
        kinds=("employee", "device"),
        names={rules.Entity("employee", "bee"): "Cashier Bee"},
        when="today",
        z_threshold=3.0,
        floors={"reprints": 3},
    )
    by_id = {a.entity.entity_id: a for a in judged}
    assert sorted(by_id) == ["ann", "bee", "cid", "gate-1"]
    bee = by_id["bee"]
    assert [f.metric for f in bee.flags] == ["reprints"]
    assert bee.counts["sales_amount"] == 45_000
    reprints = next(f for f in bee.findings if f.metric == "reprints")
    assert (reprints.count, reprints.mean, reprints.peer_median, reprints.peers) == (8, 0.5, 1.0, 2)
    assert str(reprints.explanation).startswith("Cashier Bee: 8 reprints today")
    assert by_id["ann"].flags == ()
    assert by_id["cid"].name == "cid"
    # employees are judged on the employee metrics, gates on the gate ones
    assert {f.metric for f in by_id["gate-1"].findings} == {
        "reprints",
        "refunds",
        "manual_discounts",
        "duplicate_use",
        "offline_conflicts",
        "after_hours",
    }
    assert "duplicate_use" not in {f.metric for f in bee.findings}
    # a gate is compared with gates, not with tills
    docs += [doc("device", "gate-2", day, duplicate_use=3), doc("device", "pos-1", day, sales=9)]
    groups = {
        rules.Entity("device", "gate-1"): "GATE device",
        rules.Entity("device", "gate-2"): "GATE device",
        rules.Entity("device", "pos-1"): "POS device",
    }
    grouped = rules.assess_day(
        docs, day, kinds=("device",), names={}, when="today", z_threshold=3.0, floors={}, groups=groups
    )
    gate = next(a for a in grouped if a.entity.entity_id == "gate-2")
    duplicates = next(f for f in gate.findings if f.metric == "duplicate_use")
    assert (duplicates.peers, duplicates.peer_median, duplicates.flagged) == (1, 1.0, True)
    assert str(duplicates.explanation).endswith("the store's 1 other GATE device that day: median 1")
    docs = docs[:-2]
    only_devices = rules.assess_day(
        docs, day, kinds=("device",), names={}, when="today", z_threshold=3.0, floors={}
    )
    assert [a.entity.entity_id for a in only_devices] == ["gate-1"]


def test_drill_downs_name_the_store_the_entity_and_the_local_day() -> None:
    span = rules.day_span("2031-03-14", "Asia/Bangkok")
    closed = rules.closed_spans("2031-03-14", "Asia/Bangkok", HOURS)
    bee = rules.Entity("employee", "bee")
    (link,) = rules.drill_downs("reprints", bee, "s1", span, closed)
    url = urlsplit(link)
    assert url.path == "/v1/reprints"
    assert parse_qs(url.query) == {
        "store_id": ["s1"],
        "employee_id": ["bee"],
        "from": ["2031-03-13T17:00:00.000Z"],
        "to": ["2031-03-14T17:00:00.000Z"],
    }
    late = rules.drill_downs("after_hours", bee, "s1", span, closed)
    assert [parse_qs(urlsplit(u).query)["from"] for u in late] == [
        ["2031-03-13T17:00:00.000Z"],
        ["2031-03-14T13:00:00.000Z"],
    ]
    gate = rules.Entity("device", "g1")
    (dup,) = rules.drill_downs("duplicate_use", gate, "s1", span, closed)
    assert urlsplit(dup).path == "/v1/redemptions"
    assert parse_qs(urlsplit(dup).query)["reason"] == ["duplicate_use"]


def test_a_score_shown_at_the_threshold_is_flagged() -> None:
    """15 reprints against this history is z = 2.9975, shown as 3.0: at a threshold of 3 it is a
    spike, as the owner reading the score expects (and as the property above states)."""
    history = [0] * 10 + [1] * 5 + [2] * 2 + [5] * 5 + [10] * 6
    found = judge(15, history, floor=1)
    assert found.z == 3.0
    assert found.flagged
