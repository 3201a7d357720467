"""Gate verdicts, pure: every reason reached, and passes never exceed the quota."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from boxoffice.tickets.redemption import GateRules, Scan, StandingPass, decide, displace, offline_cap

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


# ---- offline PASSes the gate granted --------------------------------------------------------------


def grant(t: dict[str, Any], s: Scan, rules: GateRules = RULES) -> tuple[str, str | None, str | None]:
    """An offline PASS the gate gave: decide as `granted`, and write a PASS back."""
    verdict = decide(t, s, rules, granted=True)
    t.update(verdict.changes)
    return verdict.result, verdict.reason, verdict.overridden


def test_a_granted_pass_stands_over_the_gates_clock_and_set_up_but_not_over_a_void_ticket() -> None:
    early = ticket(valid_from=T0 + timedelta(minutes=11))
    assert grant(early, scan(10)) == ("pass", None, "not_started")
    assert early["used"] == 1
    assert grant(ticket(), scan(60 * 10 + 1)) == ("pass", None, "expired")
    assert grant(ticket(zones=["pool"]), scan(zone="arcade")) == ("pass", None, "wrong_device")
    assert grant(ticket(status="refunded"), scan()) == ("fail", "refunded", None)
    assert grant(ticket(status="cancelled", valid_to=T0), scan()) == ("fail", "cancelled", None)
    assert grant(ticket(used=1), scan()) == ("fail", "duplicate_use", None)  # no use left: a conflict
    assert decide(ticket(valid_from=T0 + timedelta(hours=1)), scan(), RULES).overridden is None


def test_a_late_upload_keeps_the_latest_pass_and_a_timepass_runs_from_the_earliest() -> None:
    t = ticket("multi", 3)
    use(t, scan(30, device="G2"))
    grant(t, scan(10, device="G1"))  # made earlier, uploaded later
    assert (t["last_pass_at"], t["last_pass_device"], t["used"]) == (scan(30).at, "G2", 2)
    pass_ = ticket("timepass", 60)
    use(pass_, scan(50))
    assert grant(pass_, scan(20))[0] == "pass"
    assert pass_["first_pass_at"] == scan(20).at
    assert use(pass_, scan(85)) == ("fail", "exhausted", 0)  # 60 minutes from the earliest pass


def standing(*passes: tuple[str, float, str, int]) -> list[StandingPass]:
    return [StandingPass(rid, device, scan(minutes).at, units) for rid, minutes, device, units in passes]


def test_the_earliest_pass_takes_the_place_of_the_latest_later_one() -> None:
    t = ticket(used=1, passes=1, last_pass_at=scan(30).at, last_pass_device="G2")
    early = scan(10, device="G1")
    refused = decide(t, early, RULES, granted=True)
    plan = displace(t, early, RULES, standing(("r2", 30, "G2", 1)), refused)
    assert plan is not None
    verdict, gone = plan
    assert (verdict.result, verdict.units, [p.redemption_id for p in gone]) == ("pass", 1, ["r2"])
    assert verdict.changes == {"passes": 2, "used": 1, "last_pass_at": early.at, "last_pass_device": "G1"}
    assert displace(t, scan(40, device="G1"), RULES, standing(("r2", 30, "G2", 1)), refused) is None


def test_a_multi_visit_ticket_gives_up_only_its_latest_later_visit() -> None:
    t = ticket("multi", 2, used=2, passes=2, last_pass_at=scan(30).at, last_pass_device="G3")
    s = scan(15, device="G1")
    plan = displace(
        t, s, RULES, standing(("a", 5, "G2", 1), ("b", 30, "G3", 1)), decide(t, s, RULES, granted=True)
    )
    assert plan is not None
    verdict, gone = plan
    assert [p.redemption_id for p in gone] == ["b"]
    assert (verdict.remaining, verdict.changes["used"], verdict.changes["last_pass_at"]) == (0, 2, s.at)
    grace = ticket("multi", 1, used=1, passes=1, last_pass_at=scan(10).at, last_pass_device="G1")
    again = scan(10.2, device="G1")  # a re-scan inside the grace window is not a visit to displace
    assert displace(grace, again, RULES, standing(("a", 10, "G1", 1)), decide(grace, again, RULES)) is None


def test_a_credit_ticket_frees_as_many_later_taps_as_the_earlier_one_costs() -> None:
    t = ticket("credit", 10_000, used=9_000, passes=3, last_pass_at=scan(40).at, last_pass_device="G2")
    s = scan(5, device="G1", amount=4_000)
    taps = standing(("a", 1, "G2", 5_000), ("b", 20, "G2", 2_000), ("c", 40, "G2", 2_000))
    plan = displace(t, s, RULES, taps, decide(t, s, RULES, granted=True))
    assert plan is not None
    verdict, gone = plan
    assert [p.redemption_id for p in gone] == ["c", "b"]
    assert (verdict.changes["used"], verdict.remaining, verdict.units) == (9_000, 1_000, 4_000)
    assert displace(t, scan(30, amount=9_000), RULES, taps, decide(t, scan(30, amount=9_000), RULES)) is None


def test_the_offline_cap_never_exceeds_the_tickets_own_uses() -> None:
    assert offline_cap(ticket(), 50) == 1
    assert offline_cap(ticket("multi", 5), 50) == 5
    assert offline_cap(ticket("multi", 5), 2) == 2
    assert offline_cap(ticket("timepass", 120), 50) == 50
    assert offline_cap(ticket("credit", 10_000), 0) == 0


@given(
    quota=st.integers(1, 4),
    order=st.permutations(list(range(6))),
    minutes=st.lists(st.integers(0, 500), min_size=6, max_size=6, unique=True),
)
def test_whatever_the_upload_order_the_earliest_passes_stand(
    quota: int, order: list[int], minutes: list[int]
) -> None:
    """Offline PASSes from different gates, applied in any order with displacement: the ones that
    stand are the earliest, as many as the quota, and `used` counts them."""
    t = ticket("multi", quota)
    stands: dict[str, StandingPass] = {}
    for n in order:
        s = scan(minutes[n], device=f"G{n}")
        verdict = decide(t, s, RULES, granted=True)
        gone: list[StandingPass] = []
        if verdict.result == "fail":
            plan = displace(t, s, RULES, list(stands.values()), verdict)
            if plan is None:
                continue
            verdict, gone = plan
        t.update(verdict.changes)
        for p in gone:
            del stands[p.redemption_id]
        stands[f"r{n}"] = StandingPass(f"r{n}", s.device_id, s.at, verdict.units)
    assert sorted(p.at for p in stands.values()) == sorted(scan(m).at for m in minutes)[:quota]
    assert t["used"] == len(stands) == min(quota, 6)
