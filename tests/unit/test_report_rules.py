"""The report rules (pure): which summary documents an event adds to, and what."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from boxoffice.reports import summaries as rules

BKK = "Asia/Bangkok"
AT = datetime(2031, 3, 14, 16, 30, tzinfo=UTC)  # 23:30 in Bangkok


def sale(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "sale_id": "S1",
        "store_id": "ST",
        "device_id": "POS1",
        "issued_by": "E1",
        "payment_method": "card",
        "created_at": AT,
        "subtotal": 40_000,
        "discount_total": 4_000,
        "tax_total": 2_352,
        "grand_total": 36_000,
        "fee_total": 540,
        "amount_due": 36_540,
        "lines": [
            {
                "package_id": "P1",
                "qty": 2,
                "base_total": 30_000,
                "discounts": [{"amount": 3_000}],
                "net_total": 27_000,
                "tax": 1_766,
                "tax_inclusive": True,
                "bundle_shares": [],
            },
            {
                "package_id": "P2",
                "qty": 1,
                "base_total": 10_000,
                "discounts": [{"amount": 1_000}],
                "net_total": 9_000,
                "tax": 586,
                "tax_inclusive": True,
                "bundle_shares": [],
            },
        ],
    }
    return base | overrides


def by_family(changes: list[rules.Change]) -> dict[str, list[rules.Change]]:
    grouped: dict[str, list[rules.Change]] = {}
    for change in changes:
        name = change.family + ("*" if change.rollup else "") + ("@m" if len(change.day) == 7 else "")
        grouped.setdefault(name, []).append(change)
    return grouped


def test_a_sale_counts_on_its_stores_local_day_in_detail_rollup_and_per_package() -> None:
    changes = by_family(rules.changes_for("sale.created", "ST", {"sale": sale()}, rules.Facts(BKK)))
    [detail], [rollup] = changes["sales"], changes["sales*"]
    assert detail.day == rollup.day == "2031-03-14"  # 16:30Z is still the 14th in Bangkok
    assert dict(detail.dims) == {"device_id": "POS1", "employee_id": "E1", "payment_type": "card"}
    assert (
        detail.inc
        == rollup.inc
        == {
            "count": 1,
            "gross": 40_000,
            "discounts": 4_000,
            "net": 36_000,
            "taxes": 2_352,
            "total": 36_000,
            "fees": 540,
            "taken": 36_540,
        }
    )
    lines = changes["sales_pkg"]
    assert [dict(c.dims)["package_id"] for c in lines] == ["P1", "P2"]
    assert sum(c.inc["fees"] for c in lines) == 540  # the fee is spread over the lines exactly
    assert sum(c.inc["taken"] for c in lines) == 36_540
    assert [c.inc["count"] for c in lines] == [1, 1]


def test_every_day_figure_is_also_kept_for_its_month_except_shifts() -> None:
    changes = by_family(rules.changes_for("sale.created", "ST", {"sale": sale()}, rules.Facts(BKK)))
    assert [c.day for c in changes["sales@m"]] == ["2031-03"]
    assert changes["sales@m"][0].inc == changes["sales"][0].inc
    assert changes["sales*@m"][0].inc == changes["sales*"][0].inc
    assert len(changes["sales_pkg@m"]) == 2
    month = changes["sales@m"][0]
    assert month.summary_id("T") != changes["sales"][0].summary_id("T")
    assert month.document_fields("T")["bucket"] == "T|sales@m|ST|2031-03"


def test_a_range_of_days_reads_whole_months_from_month_documents() -> None:
    assert rules.split_range(date(2031, 1, 15), date(2031, 4, 10)) == (
        [("2031-01-15", "2031-01-31"), ("2031-04-01", "2031-04-10")],
        ("2031-02", "2031-03"),
    )
    assert rules.split_range(date(2031, 1, 1), date(2031, 12, 31)) == ([], ("2031-01", "2031-12"))
    assert rules.split_range(date(2031, 2, 1), date(2031, 2, 28)) == ([], ("2031-02", "2031-02"))
    assert rules.split_range(date(2031, 3, 2), date(2031, 3, 30)) == ([("2031-03-02", "2031-03-30")], None)
    assert rules.split_range(date(2031, 3, 31), date(2031, 4, 1)) == ([("2031-03-31", "2031-04-01")], None)
    assert rules.split_range(date(2031, 3, 31), date(2031, 5, 1)) == (
        [("2031-03-31", "2031-03-31"), ("2031-05-01", "2031-05-01")],
        ("2031-04", "2031-04"),
    )
    assert rules.in_period("2031-03", "2031-03-20", "2031-04-02")
    assert not rules.in_period("2031-02", "2031-03-20", None)
    assert rules.in_period("2031-03-20", "2031-03-20", "2031-03-20")
    assert not rules.in_period("2031-03-21", None, "2031-03-20")


@given(st.dates(date(2030, 1, 1), date(2032, 12, 31)), st.integers(0, 800))
def test_the_spans_and_months_of_a_range_cover_each_day_once(first: date, length: int) -> None:
    last = first + timedelta(days=length)
    spans, months = rules.split_range(first, last)
    covered = [
        d
        for low, high in spans
        for d in rules.days_between(date.fromisoformat(low), date.fromisoformat(high))
    ]
    if months is not None:
        covered += [d for d in rules.days_between(first, last) if months[0] <= d[:7] <= months[1]]
    assert sorted(covered) == rules.days_between(first, last)


def test_a_sale_an_hour_later_is_the_next_local_day() -> None:
    [detail, *_] = rules.changes_for(
        "sale.created", "ST", {"sale": sale(created_at=AT + timedelta(hours=1))}, rules.Facts(BKK)
    )
    assert detail.day == "2031-03-15"


def test_exclusive_tax_is_added_to_the_line_total() -> None:
    line = {
        "package_id": "P1",
        "qty": 1,
        "base_total": 10_000,
        "discounts": [],
        "net_total": 10_000,
        "tax": 700,
        "tax_inclusive": False,
        "bundle_shares": [],
    }
    data = sale(
        subtotal=10_000, discount_total=0, tax_total=700, grand_total=10_700, fee_total=0, lines=[line]
    )
    changes = by_family(rules.changes_for("sale.created", "ST", {"sale": data}, rules.Facts(BKK)))
    assert changes["sales_pkg"][0].inc["total"] == changes["sales"][0].inc["total"] == 10_700


def ticket(ticket_id: str, package_id: str = "P1", *, days: int = 1) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "store_id": "ST",
        "package_id": package_id,
        "created_at": AT,
        "valid_to": datetime(2031, 3, 14, 17, 0, tzinfo=UTC) + timedelta(days=days - 1),  # local midnight
        "price": 15_000,
    }


def test_a_ticket_counts_in_its_cohort_by_sale_day_package_and_last_valid_day() -> None:
    changes = by_family(rules.changes_for("ticket.issued", "ST", {"ticket": ticket("T1")}, rules.Facts(BKK)))
    [change], [month] = changes["tickets"], changes["tickets@m"]
    assert (month.day, dict(month.dims)) == ("2031-03", {"package_id": "P1", "expires": "2031-03"})
    assert (change.family, change.day, dict(change.dims)) == (
        "tickets",
        "2031-03-14",
        {"package_id": "P1", "expires": "2031-03-14"},  # valid until midnight: the 14th is its last day
    )
    assert change.inc == {"issued": 1, "value": 15_000}


def scan_event(result: str, reason: str | None = None, at: datetime = AT) -> dict[str, Any]:
    return {
        "ticket_id": "T1",
        "redemption": {
            "redemption_id": "R1",
            "device_id": "G1",
            "ts": at,
            "result": result,
            "reason": reason,
        },
    }


def test_a_pass_counts_a_scan_in_its_local_hour_a_use_and_the_first_use_once() -> None:
    facts = rules.Facts(BKK, zone="ball-pit", ticket=rules.ticket_facts(ticket("T1")), first_pass=True)
    changes = by_family(rules.changes_for("ticket.redeemed.pass", "ST", scan_event("pass"), facts))
    [gate], [rollup] = changes["throughput"], changes["throughput*"]
    assert dict(gate.dims) == {"device_id": "G1", "zone": "ball-pit"}
    assert gate.inc == rollup.inc == {"scans": 1, "passes": 1, "fails": 0, "h23_scans": 1, "h23_passes": 1}
    assert changes["tickets"][0].inc == {"uses": 1, "redeemed": 1}
    assert changes["ticket_zones"][0].inc == {"uses": 1}
    again = rules.changes_for(
        "ticket.redeemed.pass", "ST", scan_event("pass"), facts.__class__(BKK, "ball-pit", facts.ticket)
    )
    assert by_family(again)["tickets"][0].inc == {"uses": 1, "redeemed": 0}


def test_a_fail_counts_its_reason_and_no_use() -> None:
    facts = rules.Facts(BKK, ticket=rules.ticket_facts(ticket("T1")))
    changes = by_family(
        rules.changes_for("ticket.redeemed.fail", "ST", scan_event("fail", "duplicate_use"), facts)
    )
    assert changes["throughput*"][0].inc == {
        "scans": 1,
        "passes": 0,
        "fails": 1,
        "h23_scans": 1,
        "fr_duplicate_use": 1,
    }
    assert "tickets" not in changes
    assert rules.field_token("weird.reason$x") == "weird_reason_x"


def test_a_refund_counts_on_its_own_day_by_who_made_it_and_attributes_bundle_tickets_to_the_bundle() -> None:
    sale_lines = [
        {"package_id": "FAMILY", "bundle_shares": [{"package_id": "P1", "qty": 2, "amount": 30_000}]},
        {"package_id": "P2", "bundle_shares": []},
    ]
    tickets = {"T1": ticket("T1", "P1"), "T2": ticket("T2", "P1"), "T3": ticket("T3", "P2")}
    lines = [
        {"ticket_id": "T1", "amount": 15_000},
        {"ticket_id": "T2", "amount": 15_000},
        {"ticket_id": "T3", "amount": 9_000},
    ]
    planned = [
        {"ticket_id": "T1", "used_seen": 0},
        {"ticket_id": "T2", "used_seen": 1},
        {"ticket_id": "T3", "used_seen": 0},
    ]
    facts = rules.Facts(BKK, refund_lines=rules.refund_line_facts(lines, tickets, sale_lines, planned))
    refund = {
        "refund_id": "RF1",
        "sale_id": "S1",
        "store_id": "ST",
        "device_id": "POS2",
        "method": "cash",
        "amount": 39_000,
        "lines": lines,
        "reason_code": "customer_request",
        "refunded_by": "E2",
        "approver_id": "SUP",
        "created_at": AT + timedelta(days=2),
    }
    changes = by_family(rules.changes_for("refund.created", "ST", {"refund": refund}, facts))
    assert changes["sales"][0].day == "2031-03-16"
    assert dict(changes["sales"][0].dims) == {
        "device_id": "POS2",
        "employee_id": "E2",
        "payment_type": "cash",
    }
    assert changes["sales"][0].inc == {"refund_count": 1, "refunds": 39_000}
    assert dict(changes["refunds"][0].dims)["approver_id"] == "SUP"
    assert changes["refunds"][0].inc == {"count": 1, "tickets": 3, "amount": 39_000}
    assert {dict(c.dims)["package_id"]: c.inc["refunds"] for c in changes["sales_pkg"]} == {
        "FAMILY": 30_000,
        "P2": 9_000,
    }
    [p1, p2] = changes["tickets"]  # T1 and T2 share a cohort: one merged change
    assert p1.inc == {"refunded": 2, "refunded_unused": 1}
    assert p2.inc == {"refunded": 1, "refunded_unused": 1}


def test_a_reprint_counts_in_the_shift_that_was_open_on_its_device() -> None:
    shifts = [
        {
            "shift_id": "SH1",
            "device_id": "POS1",
            "opened_by": "E1",
            "open_at": AT - timedelta(hours=8),
            "close_at": AT - timedelta(hours=4),
        },
        {"shift_id": "SH2", "device_id": "POS1", "opened_by": "E2", "open_at": AT - timedelta(hours=3)},
        {"shift_id": "SH3", "device_id": "POS2", "opened_by": "E3", "open_at": AT - timedelta(hours=3)},
    ]
    shift = rules.shift_covering(shifts, "POS1", AT)
    assert shift is not None
    assert shift.shift_id == "SH2"
    assert rules.shift_covering(shifts, "POS1", AT - timedelta(hours=5)).shift_id == "SH1"  # type: ignore[union-attr]
    assert rules.shift_covering(shifts, "POS1", AT - timedelta(hours=9)) is None
    reprint = {
        "reprint_id": "RP1",
        "store_id": "ST",
        "device_id": "POS1",
        "printed_by": "E2",
        "approver_id": "SUP",
        "reason_code": "printer_jam",
        "created_at": AT,
    }
    changes = by_family(
        rules.changes_for("reprint.created", "ST", {"reprint": reprint}, rules.Facts(BKK, shift=shift))
    )
    assert changes["reprints*"][0].inc == {"count": 1}
    assert dict(changes["shifts"][0].dims) == {"shift_id": "SH2", "device_id": "POS1", "employee_id": "E2"}
    assert changes["shifts"][0].inc == {"reprints": 1}


def test_a_displaced_pass_was_a_pass_when_it_was_given() -> None:
    displaced = {"result": "fail", "reason": "duplicate_use", "metadata": {"displaced_by": "R0"}}
    assert rules.original_verdict(displaced) == ("pass", None)
    assert rules.original_verdict({"result": "fail", "reason": "expired", "metadata": {}}) == (
        "fail",
        "expired",
    )


def test_expired_unused_counts_only_past_cohorts() -> None:
    cohort = {"expires": "2031-03-14", "issued": 10, "redeemed": 6, "refunded_unused": 1}
    assert rules.expired_unused(cohort, "2031-03-14") == 0  # still valid today
    assert rules.expired_unused(cohort, "2031-03-15") == 3


def test_a_month_keeps_its_cohorts_by_expiry_month_and_tells_expired_ones_per_day() -> None:
    early = rules.changes_for("ticket.issued", "ST", {"ticket": ticket("T1")}, rules.Facts(BKK))
    late = rules.changes_for("ticket.issued", "ST", {"ticket": ticket("T2", days=3)}, rules.Facts(BKK))
    month = rules.merge([c for c in early + late if len(c.day) == 7 and c.family == "tickets" and c.dims])
    assert len(month) == 1  # one document: package P1, expiring in March
    [doc] = month
    assert dict(doc.dims) == {"package_id": "P1", "expires": "2031-03"}
    assert doc.inc == {"issued": 2, "value": 30_000, "issued_e14": 1, "issued_e16": 1}
    fields = {**doc.document_fields("T"), **doc.inc}
    assert rules.expired_unused(fields, "2031-03-14") == 0
    assert rules.expired_unused(fields, "2031-03-15") == 1
    assert rules.expired_unused(fields, "2031-04-01") == 2


def test_keys_are_stable_and_odd_values_cannot_forge_another_key() -> None:
    one = rules.Change("throughput", "ST", "2031-03-14", (("device_id", "G1"), ("zone", "a|b")), {"scans": 1})
    two = rules.Change(
        "throughput", "ST", "2031-03-14", (("device_id", "G1|zone=a"), ("zone", "b")), {"scans": 1}
    )
    assert one.summary_id("T") != two.summary_id("T")
    assert one.summary_id("T").startswith(rules.bucket("T", "throughput", "ST", "2031-03-14") + "|")
    assert rules.bucket("T", "sales", "ST", "2031-03-14", rollup=True) != rules.bucket(
        "T", "sales", "ST", "2031-03-14"
    )
    assert rules.changes_for("device.suspended", "ST", {}, rules.Facts(BKK)) == []
    assert rules.days_between(date(2031, 2, 27), date(2031, 3, 2)) == [
        "2031-02-27",
        "2031-02-28",
        "2031-03-01",
        "2031-03-02",
    ]


def test_merge_adds_figures_of_the_same_document() -> None:
    a = rules.Change("tickets", "ST", "D", (("package_id", "P"), ("expires", "E")), {"refunded": 1}, {"x": 1})
    b = rules.Change(
        "tickets", "ST", "D", (("package_id", "P"), ("expires", "E")), {"refunded": 1, "uses": 2}, {"y": 2}
    )
    [merged] = rules.merge([a, b])
    assert merged.inc == {"refunded": 2, "uses": 2}
    assert merged.sets == {"x": 1, "y": 2}


@given(
    st.lists(
        st.tuples(st.integers(0, 500_000), st.integers(0, 2_000), st.booleans()), min_size=1, max_size=6
    ),
    st.integers(0, 10_000),
)
def test_the_lines_add_up_to_the_sale(lines: list[tuple[int, int, bool]], fee: int) -> None:
    """Whatever the cart, per-package figures sum to the sale's, to the satang."""
    priced = [
        {
            "package_id": f"P{n}",
            "qty": 1,
            "base_total": net + 100,
            "discounts": [{"amount": 100}],
            "net_total": net,
            "tax": tax,
            "tax_inclusive": inclusive,
            "bundle_shares": [],
        }
        for n, (net, tax, inclusive) in enumerate(lines)
    ]
    net = sum(n for n, _, _ in lines)
    exclusive = sum(t for _, t, inclusive in lines if not inclusive)
    data = sale(
        subtotal=net + 100 * len(lines),
        discount_total=100 * len(lines),
        tax_total=sum(t for _, t, _ in lines),
        grand_total=net + exclusive,
        fee_total=fee,
        lines=priced,
    )
    changes = by_family(rules.changes_for("sale.created", "ST", {"sale": data}, rules.Facts(BKK)))
    whole = changes["sales"][0].inc
    for name in ("gross", "discounts", "net", "taxes", "total", "fees", "taken"):
        assert sum(c.inc[name] for c in changes["sales_pkg"]) == whole[name], name


def test_a_ticket_counts_again_in_the_rollup_and_by_package_with_its_expiry_day_in_the_names() -> None:
    early = rules.changes_for("ticket.issued", "ST", {"ticket": ticket("T1")}, rules.Facts(BKK))
    late = rules.changes_for("ticket.issued", "ST", {"ticket": ticket("T2", days=3)}, rules.Facts(BKK))
    merged = by_family(rules.merge(early + late))
    [rollup] = merged["tickets*"]
    assert rollup.inc == {"issued": 2, "value": 30_000, "issued_x20310314": 1, "issued_x20310316": 1}
    [by_package] = merged["tickets~package_id"]
    assert dict(by_package.dims) == {"package_id": "P1"}
    assert by_package.inc == rollup.inc
    [month] = merged["tickets*@m"]  # the rollup's month keeps full expiry days
    assert month.inc == rollup.inc
    fields = {**rollup.document_fields("T"), **rollup.inc, "redeemed_x20310314": 1}
    assert rules.expired_unused(fields, "2031-03-14") == 0
    assert rules.expired_unused(fields, "2031-03-15") == 0  # T1 was used
    assert rules.expired_unused(fields, "2031-03-17") == 1


def test_a_sale_counts_again_by_device_employee_and_payment_type_alone() -> None:
    changes = by_family(rules.changes_for("sale.created", "ST", {"sale": sale()}, rules.Facts(BKK)))
    [detail] = changes["sales"]
    for name in ("device_id", "employee_id", "payment_type"):
        [view] = changes[f"sales~{name}"]
        assert dict(view.dims) == {name: dict(detail.dims)[name]}
        assert view.inc == detail.inc
        assert len(changes[f"sales~{name}@m"]) == 1
    assert {dict(c.dims)["package_id"] for c in changes["sales_pkg~package_id"]} == {
        dict(c.dims)["package_id"] for c in changes["sales_pkg"]
    }


def test_a_closed_shift_counts_its_figures_and_a_correction_moves_them() -> None:
    shift = rules.ShiftFacts("SH1", "POS1", "E1", AT - timedelta(hours=8), "E1", AT)
    closed = {
        "shift_id": "SH1",
        "device_id": "POS1",
        "cash_open": 100_000,
        "cash_counted": 149_000,
        "cash_expected": 150_000,
        "cash_diff": -1_000,
        "totals": {"cash_sales": 60_000, "cash_refunds": 10_000, "sales_count": 3, "sales_total": 90_000},
    }
    changes = by_family(rules.changes_for("shift.closed", "ST", closed, rules.Facts(BKK, shift=shift)))
    [detail] = changes["shifts"]
    assert detail.inc["closes"] == 1
    assert (detail.inc["cash_diff"], detail.inc["cash_sales"], detail.inc["cash_open"]) == (
        -1_000,
        60_000,
        100_000,
    )
    assert detail.sets["close_at"] == AT
    [rollup] = changes["shifts*"]
    assert rollup.inc == detail.inc
    assert not rollup.sets  # what a shift is stays on its own row
    assert {"shifts*@m", "shifts~device_id@m", "shifts~employee_id@m"} <= set(changes)
    assert "shifts@m" not in changes  # shifts are listed one by one: no month of them
    recount = {"before": closed, "after": {**closed, "cash_counted": 150_000, "cash_diff": 0}}
    moved = by_family(
        rules.changes_for("shift.count_corrected", "ST", recount, rules.Facts(BKK, shift=shift))
    )
    assert moved["shifts"][0].inc == {"cash_counted": 1_000, "cash_diff": 1_000}
    assert moved["shifts*"][0].inc == {"cash_counted": 1_000, "cash_diff": 1_000}
    same = {"before": closed, "after": closed}
    assert rules.changes_for("shift.count_corrected", "ST", same, rules.Facts(BKK, shift=shift)) == []
