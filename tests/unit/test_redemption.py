"""Gate verdicts, pure: every reason reached, and passes never exceed the quota."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from boxoffice.tickets.redemption import GateRules, Scan, decide

T0 = datetime(2031, 3, 14, 3, 0, tzinfo=UTC)
RULES = GateRules(grace_seconds=30, zone_prices={"arcade": 4_000})


def ticket(kind: str = "single", quota: int | None = None, **more: Any) -> dict[str, Any]:
    return {
        "ticket_id": "T1",
        "store_id": "S1",
        "type": kind,
        "quota_or_minutes": quota,
        "used": 0,
        "passes": 0,
        "status": "active",
        "valid_from": T0,
        "valid_to": T0 + timedelta(hours=10),
        "zones": [],
        "allowed_devices": [],
        **more,
    }


def scan(minutes: float = 10, device: str = "G1", **more: Any) -> Scan:
    return Scan(at=T0 + timedelta(minutes=minutes), device_id=device, store_id="S1", **more)


def use(t: dict[str, Any], s: Scan, rules: GateRules = RULES) -> tuple[str, str | None, int | None]:
    """Decide, and on a PASS write the changes back as the database would."""
    verdict = decide(t, s, rules)
    t.update(verdict.changes)
    return verdict.result, verdict.reason, verdict.remaining


def test_single_passes_once() -> None:
    t = ticket()
    assert use(t, scan()) == ("pass", None, None)
    assert use(t, scan(20)) == ("fail", "duplicate_use", 0)
    assert use(t, scan(20, device="G2")) == ("fail", "duplicate_use", 0)


def test_multi_counts_visits_and_a_rescan_in_grace_is_not_a_visit() -> None:
    t = ticket("multi", 2)
    assert use(t, scan(0)) == ("pass", None, 1)
    assert use(t, scan(0.2)) == ("fail", "duplicate_use", 1)  # same gate, 12 s later
    assert use(t, scan(0.2, device="G2")) == ("pass", None, 0)  # another gate: a new visit
    assert use(t, scan(60)) == ("fail", "exhausted", 0)


def test_timepass_runs_from_the_first_pass_with_re_entry() -> None:
    t = ticket("timepass", 120)
    assert use(t, scan(0)) == ("pass", None, 120)
    assert use(t, scan(30)) == ("pass", None, 90)
    assert use(t, scan(119.5)) == ("pass", None, 1)
    assert use(t, scan(120)) == ("fail", "exhausted", 0)


def test_credit_deducts_the_zone_price_never_below_zero() -> None:
    t = ticket("credit", 10_000)
    assert use(t, scan(0, zone="arcade")) == ("pass", None, 6_000)
    assert use(t, scan(5, zone="arcade")) == ("pass", None, 2_000)
    assert use(t, scan(10, zone="arcade")) == ("fail", "exhausted", 2_000)
    assert use(t, scan(15, amount=2_000)) == ("pass", None, 0)
    assert use(t, scan(20, amount=0)) == ("fail", "exhausted", 0)


def test_each_reason_before_the_quota() -> None:
    assert use(ticket(), scan(60 * 10)) == ("fail", "expired", None)
    assert use(ticket(status="refunded"), scan()) == ("fail", "refunded", None)
    assert use(ticket(status="cancelled"), scan()) == ("fail", "cancelled", None)
    assert use(ticket(valid_from=T0 + timedelta(hours=1)), scan()) == ("fail", "not_started", None)
    assert use(ticket(allowed_devices=["G9"]), scan()) == ("fail", "wrong_device", None)
    assert use(ticket(store_id="S2"), scan()) == ("fail", "wrong_device", None)
    assert use(ticket(zones=["pool"]), scan(zone="arcade")) == ("fail", "wrong_device", None)
    assert use(ticket(zones=["pool"]), scan()) == ("pass", None, None)  # gate without a zone, unbound
    bound = GateRules(gate_binding=True)
    assert use(ticket(zones=["pool"]), scan(), bound) == ("fail", "wrong_device", None)
    assert use(ticket(zones=["pool"]), scan(zone="pool"), bound) == ("pass", None, None)


def test_expired_wins_over_everything() -> None:
    late = scan(60 * 11)
    for t in (ticket(status="refunded"), ticket(allowed_devices=["G9"]), ticket("multi", 3, used=3)):
        assert use(t, late)[1] == "expired"


scans = st.lists(st.tuples(st.floats(0, 700), st.sampled_from(["G1", "G2", "G3"])), min_size=1, max_size=40)


@given(kind=st.sampled_from(["single", "multi", "credit"]), quota=st.integers(1, 5), seq=scans)
def test_passes_never_exceed_the_quota(kind: str, quota: int, seq: list[tuple[float, str]]) -> None:
    t = ticket(kind, None if kind == "single" else quota * 1_000 if kind == "credit" else quota)
    results = [use(t, scan(minutes, device, amount=1_000)) for minutes, device in sorted(seq)]
    passes = [r for r in results if r[0] == "pass"]
    allowed = 1 if kind == "single" else quota
    assert len(passes) <= allowed
    assert all(r[1] == "expired" for m, r in zip(sorted(seq), results, strict=True) if m[0] >= 600)


@given(seq=scans, minutes=st.integers(1, 300))
def test_a_timepass_never_passes_after_its_minutes(seq: list[tuple[float, str]], minutes: int) -> None:
    t = ticket("timepass", minutes)
    for at, device in sorted(seq):
        result = use(t, scan(at, device))
        if result[0] == "pass" and t.get("first_pass_at") is not None:
            assert scan(at).at - t["first_pass_at"] < timedelta(minutes=minutes)
