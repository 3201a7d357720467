"""Refund limits: never more than was paid, nothing for what was used."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from boxoffice.tickets.refund_rules import effective_status, plan_refund, refundable_amount

NOW = datetime(2031, 3, 14, 5, 0, tzinfo=UTC)


def ticket(
    kind: str = "single", *, price: int = 15_000, quota: int | None = None, used: int = 0, **more: Any
) -> dict[str, Any]:
    return {
        "ticket_id": "T1",
        "type": kind,
        "price": price,
        "quota_or_minutes": quota,
        "used": used,
        "status": "active",
        "valid_to": NOW + timedelta(hours=10),
        **more,
    }


def test_table() -> None:
    assert refundable_amount(ticket(), "pro_rata") == 15_000
    assert refundable_amount(ticket(used=1), "pro_rata") == "already used"
    assert refundable_amount(ticket("timepass", quota=120, used=1), "pro_rata") == "already started"
    assert refundable_amount(ticket("multi", price=100_000, quota=10, used=3), "pro_rata") == 70_000
    assert refundable_amount(ticket("multi", price=100_000, quota=10, used=3), "refuse") == (
        "partly used (this venue refunds unused tickets only)"
    )
    assert refundable_amount(ticket("multi", quota=10, used=10), "pro_rata") == "used up"
    assert refundable_amount(ticket("credit", price=50_000, quota=500, used=125), "pro_rata") == 37_500
    assert (
        refundable_amount(ticket("credit", price=10_001, quota=3, used=1), "pro_rata") == 6_667
    )  # rounded down
    assert refundable_amount(ticket(status="refunded"), "pro_rata") == "already refunded"
    assert refundable_amount(ticket(status="cancelled"), "pro_rata") == "already cancelled"


def test_plan_splits_refundable_from_refused() -> None:
    tickets = [
        ticket(ticket_id="A"),
        ticket(ticket_id="B", used=1),
        ticket("multi", ticket_id="C", quota=4, used=1, price=400),
    ]
    lines, refusals = plan_refund(tickets, "pro_rata")
    assert [(x.ticket_id, x.amount, x.used_seen) for x in lines] == [("A", 15_000, 0), ("C", 300, 1)]
    assert [(r.ticket_id, r.reason) for r in refusals] == [("B", "already used")]


def test_expired_is_shown_from_the_validity_end_on() -> None:
    valid_to = NOW + timedelta(hours=1)
    assert effective_status(ticket(valid_to=valid_to), NOW) == "active"
    assert effective_status(ticket(valid_to=valid_to), valid_to) == "expired"
    assert effective_status(ticket(valid_to=valid_to, status="refunded"), valid_to) == "refunded"


@given(
    kind=st.sampled_from(["single", "multi", "timepass", "credit"]),
    price=st.integers(0, 10_000_000),
    quota=st.integers(1, 1_000),
    used_share=st.floats(0, 1.5),
    policy=st.sampled_from(["pro_rata", "refuse"]),
)
def test_never_more_than_paid_and_nothing_for_what_was_used(
    kind: str, price: int, quota: int, used_share: float, policy: str
) -> None:
    used = int(quota * used_share)
    verdict = refundable_amount(ticket(kind, price=price, quota=quota, used=used), policy)  # type: ignore[arg-type]
    if isinstance(verdict, int):
        assert 0 <= verdict <= price
        if used == 0:
            assert verdict == price
        else:
            assert kind in ("multi", "credit")
            assert used < quota
            assert policy == "pro_rata"
            assert verdict <= price * (quota - used) / quota
    else:
        assert used > 0


@given(st.lists(st.tuples(st.integers(0, 100_000), st.integers(0, 3)), min_size=1, max_size=20))
def test_a_sales_refunds_never_exceed_what_it_took(prices_and_uses: list[tuple[int, int]]) -> None:
    tickets = [
        ticket("multi", ticket_id=f"T{n}", price=price, quota=3, used=used)
        for n, (price, used) in enumerate(prices_and_uses)
    ]
    lines, refusals = plan_refund(tickets, "pro_rata")
    assert sum(x.amount for x in lines) <= sum(price for price, _ in prices_and_uses)
    assert len(lines) + len(refusals) == len(tickets)
