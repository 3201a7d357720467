"""The demo history: weeks of venue activity written as the services write it, once, the same every
time for the same day; every report shows it, its money reconciles to the satang, its summaries are
what a rebuild from the raw records makes, and the projector has nothing of it left to count."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from boxoffice.core.clock import FixedClock
from boxoffice.core.db import C, Document
from boxoffice.core.deps import Deps
from boxoffice.core.repository import Scope
from boxoffice.demo_history import MARKER_LEASE, MARKERS, HistoryBusy, seed_history
from boxoffice.reports.projection import project_all
from boxoffice.reports.rebuild import rebuild_tenant
from boxoffice.reports.repository import ProjectedEventRepository, SummaryRepository
from boxoffice.seed import DEMO_STORE_ID, DEMO_TENANT_ID, OWNER, seed_demo
from tests.factories.catalog import demo_catalog
from tests.factories.identity import (
    add_employee,
    bearer,
    data,
    login_password,
    make_tenant,
    owner_token,
    pair_device,
)
from tests.factories.sales import approval, open_till, refund, reprint, sell

DAYS, SALES = 21, 40
TODAY = date(2031, 3, 14)  # the test clock's day in Bangkok
FIRST, LAST = TODAY - timedelta(days=DAYS), TODAY - timedelta(days=1)
PERIOD = {"from": FIRST.isoformat(), "to": LAST.isoformat()}
#: The FAIL reasons a gate's online scan can give (tickets/redemption.py).
GATE_REASONS = {
    "expired",
    "refunded",
    "cancelled",
    "not_started",
    "wrong_device",
    "duplicate_use",
    "exhausted",
}
RECORDS = {
    "sales": C.SALES,
    "tickets": C.TICKETS,
    "redemptions": C.REDEMPTIONS,
    "refunds": C.REFUNDS,
    "reprints": C.REPRINTS,
    "approvals": C.APPROVALS,
    "shifts": C.SHIFTS,
    "cash_movements": C.CASH_MOVEMENTS,
}


@pytest.fixture
async def seeded(deps: Deps) -> dict[str, int]:
    await seed_demo(deps)
    return await seed_history(deps, days=DAYS, sales_per_day=SALES)


async def owner_headers(client: httpx.AsyncClient) -> dict[str, str]:
    return bearer(await login_password(client, OWNER["email"], OWNER["password"]))


async def report(client: httpx.AsyncClient, name: str, **params: str) -> dict[str, Any]:
    answer: dict[str, Any] = data(
        await client.get(
            f"/v1/reports/{name}", params={**PERIOD, **params}, headers=await owner_headers(client)
        )
    )
    return answer


async def everything(deps: Deps, collection: str, tenant_id: str = DEMO_TENANT_ID) -> list[Document]:
    docs: list[Document] = await deps.db[collection].find({"tenant_id": {"$eq": tenant_id}}).to_list()
    return docs


async def summaries(deps: Deps) -> dict[str, dict[str, Any]]:
    docs = await SummaryRepository(deps.db, Scope(DEMO_TENANT_ID)).all_of_tenant()
    return {str(d["_id"]): {k: v for k, v in d.items() if k != "_id"} for d in docs}


async def collection_sizes(deps: Deps) -> dict[str, int]:
    return {
        name: await deps.db[name].count_documents({}) for name in await deps.db.db.list_collection_names()
    }


async def test_a_second_seed_writes_nothing_and_the_same_day_draws_the_same_history(
    deps: Deps, seeded: dict[str, int]
) -> None:
    for name, collection in RECORDS.items():
        assert len(await everything(deps, collection)) == seeded[name], name
    assert seeded["days"] == DAYS
    assert seeded["sales"] > DAYS * SALES * 0.8
    assert seeded["tickets"] > seeded["sales"]
    assert min(seeded["refunds"], seeded["reprints"], seeded["cash_movements"], seeded["approvals"]) > 0
    sizes = await collection_sizes(deps)

    assert await seed_history(deps, days=DAYS, sales_per_day=SALES) == seeded
    assert await collection_sizes(deps) == sizes

    def drawn(sales: list[Document], scans: list[Document]) -> tuple[list[Any], Counter[Any]]:
        shown = sorted(
            (s["sale_id"], s["created_at"], s["grand_total"], s["payment_method"], s["ticket_ids"])
            for s in sales
        )
        return shown, Counter((r["redemption_id"], r["result"], r["reason"]) for r in scans)

    first = drawn(await everything(deps, C.SALES), await everything(deps, C.REDEMPTIONS))
    for name in await deps.db.db.list_collection_names():
        await deps.db[name].delete_many({})
    await seed_demo(deps)
    assert await seed_history(deps, days=DAYS, sales_per_day=SALES) == seeded
    assert drawn(await everything(deps, C.SALES), await everything(deps, C.REDEMPTIONS)) == first


async def test_every_report_shows_the_history_with_a_play_parks_shape(
    client: httpx.AsyncClient, deps: Deps, seeded: dict[str, int]
) -> None:
    sales = await report(client, "sales")
    assert [row["group"] for row in sales["rows"]] == [
        (FIRST + timedelta(days=n)).isoformat() for n in range(DAYS)
    ]
    assert sales["totals"]["count"] == seeded["sales"]
    assert sales["totals"]["refund_count"] == seeded["refunds"]
    stored = await everything(deps, C.SALES)
    assert sales["totals"]["taken"] == sum(s["grand_total"] + s["fee_total"] for s in stored)
    weekend = [r["count"] for r in sales["rows"] if date.fromisoformat(r["group"]).weekday() >= 5]
    weekday = [r["count"] for r in sales["rows"] if date.fromisoformat(r["group"]).weekday() < 5]
    assert sum(weekend) / len(weekend) > 1.4 * sum(weekday) / len(weekday)
    by_method = await report(client, "sales", group_by="payment_type")
    assert {row["group"] for row in by_method["rows"]} == {"cash", "qr", "card"}
    by_package = await report(client, "sales", group_by="package")
    assert len(by_package["rows"]) >= 5

    tickets = await report(client, "tickets")
    assert tickets["totals"]["issued"] == seeded["tickets"]
    assert 0.9 * seeded["tickets"] < tickets["totals"]["redeemed"] < seeded["tickets"]
    assert tickets["totals"]["expired_unused"] > 0
    refunded = [t for t in await everything(deps, C.TICKETS) if t["status"] == "refunded"]
    assert tickets["totals"]["refunded"] == len(refunded) > 0

    scans = await report(client, "throughput")
    named = [r for r in await everything(deps, C.REDEMPTIONS) if r["ticket_id"]]
    assert scans["totals"]["scans"] == len(named)
    assert 0.85 < scans["totals"]["pass_rate"] < 1
    reasons = {r["reason"] for r in scans["top_failure_reasons"]}
    assert reasons <= GATE_REASONS
    assert {"duplicate_use", "exhausted", "wrong_device"} <= reasons | {
        r["reason"] for r in named if r["result"] == "fail"
    }
    hours = {
        row["group"]: row["scans"] for row in (await report(client, "throughput", group_by="hour"))["rows"]
    }
    assert hours["15"] > 2 * hours["10"]

    refunds = await report(client, "refunds", group_by="approver")
    assert refunds["totals"]["count"] == seeded["refunds"]
    assert refunds["totals"]["amount"] == sum(r["amount"] for r in await everything(deps, C.REFUNDS))
    assert all(row["group"] for row in refunds["rows"])
    reprints = await report(client, "reprints", group_by="reason")
    assert reprints["totals"]["count"] == seeded["reprints"]
    assert {row["group"] for row in reprints["rows"]} <= {"printer_jam", "lost_ticket", "damaged"}

    shifts = await report(client, "shifts", group_by="shift")
    assert shifts["totals"]["shifts"] == seeded["shifts"] == len(shifts["rows"])
    assert shifts["totals"]["sales_count"] == seeded["sales"]
    assert all(row["opened_by"] and row["closed_by"] and row["close_at"] for row in shifts["rows"])
    assert sum(1 for row in shifts["rows"] if row["cash_diff"] == 0) > 0.6 * seeded["shifts"]
    assert all(abs(row["cash_diff"]) <= 50_000 for row in shifts["rows"])


async def test_the_summaries_are_what_a_rebuild_makes_and_the_projector_has_nothing_to_count(
    deps: Deps, seeded: dict[str, int]
) -> None:
    assert not await ProjectedEventRepository(deps.db, Scope(DEMO_TENANT_ID)).pending_ids()
    assert await project_all(deps) == 0
    made = await summaries(deps)
    assert len(made) == seeded["summaries"]
    rebuilt = await rebuild_tenant(deps, DEMO_TENANT_ID)
    assert rebuilt.written == len(made)
    assert await summaries(deps) == made


async def test_the_money_reconciles_to_the_satang(
    client: httpx.AsyncClient, deps: Deps, seeded: dict[str, int]
) -> None:
    checked = data(
        await client.get(
            "/v1/reports/reconcile",
            params={**PERIOD, "store_id": DEMO_STORE_ID},
            headers=await owner_headers(client),
        )
    )
    assert checked["differences"] == []
    assert checked["clean"] is True
    assert checked["checked"]["sales"] == seeded["sales"]
    assert checked["checked"]["shifts"] == seeded["shifts"]

    tickets = {t["ticket_id"]: t for t in await everything(deps, C.TICKETS)}
    for sale in await everything(deps, C.SALES):
        shares = [tickets[t]["price"] for t in sale["ticket_ids"]]
        assert sum(shares) == sum(line["net_total"] for line in sale["lines"])
        assert sale["grand_total"] == sale["subtotal"] - sale["discount_total"]  # VAT is inclusive
        assert sale["amount_due"] == sale["grand_total"] + sale["fee_total"]
        assert sale["change"] == sale["amount_tendered"] - sale["amount_due"] >= 0
    for paid_back in await everything(deps, C.REFUNDS):
        assert paid_back["amount"] == sum(line["amount"] for line in paid_back["lines"]) > 0
        for line in paid_back["lines"]:
            ticket = tickets[line["ticket_id"]]
            assert ticket["refunded_amount"] == line["amount"] <= ticket["price"]
            assert ticket["refund_id"] == paid_back["refund_id"]

    by_shift: dict[str, int] = Counter()
    for sale in await everything(deps, C.SALES):
        if sale["payment_method"] == "cash":
            by_shift[sale["shift_id"]] += sale["grand_total"] + sale["fee_total"]
    for paid_back in await everything(deps, C.REFUNDS):
        if paid_back["method"] == "cash":
            by_shift[paid_back["shift_id"]] -= paid_back["amount"]
    for move in await everything(deps, C.CASH_MOVEMENTS):
        by_shift[move["shift_id"]] += move["amount"] if move["kind"] == "pay_in" else -move["amount"]
    snapshots = {s["shift_id"]: s for s in await everything(deps, C.SHIFT_SNAPSHOTS)}
    for shift in await everything(deps, C.SHIFTS):
        snapshot = snapshots[shift["shift_id"]]
        assert snapshot["cash_expected"] == shift["cash_open"] + by_shift[shift["shift_id"]]
        assert snapshot["cash_diff"] == snapshot["cash_counted"] - snapshot["cash_expected"]
        assert shift["cash_diff"] == snapshot["cash_diff"]
        assert shift["totals"] == snapshot["totals"]


async def test_the_history_is_written_in_the_shapes_the_services_write(
    client: httpx.AsyncClient, deps: Deps, seeded: dict[str, int]
) -> None:
    """A real day at another tenant's till and gate: every kind of record the history writes has
    the same fields as the one the services wrote."""
    world = await make_tenant(deps, "A")
    till = await open_till(client, world, ids=await demo_catalog(client, world))
    await add_employee(client, world, role="Supervisor", pin="9999")
    cashier = bearer(till.cashier)
    plain = data(
        await sell(
            client, till, "real-key-1", [("single", 1)], payment_method="cash", amount_tendered=20_000
        ),
        201,
    )
    kept = data(await sell(client, till, "real-key-2", [("two_hour", 2)]), 201)
    token = await approval(client, till, "manual_discount", "9999", amount=2_000)
    body = {"manual_discount": {"amount": 2_000}, "approval_token": token}
    discounted = data(await sell(client, till, "real-key-3", [("single", 1)], **body), 201)
    token = await approval(client, till, "refund", "9999", target_id=discounted["sale"]["sale_id"])
    data(await refund(client, till, "real-key-4", discounted["sale"]["sale_id"], token), 201)
    ticket_id = kept["tickets"][0]["ticket_id"]
    token = await approval(client, till, "reprint", "9999", target_id=ticket_id)
    data(await reprint(client, till, "real-key-5", ticket_id, token), 201)
    moved = await client.post(
        "/v1/shifts/pay_out",
        json={"amount": 5_000, "reason": "Ice for the cafe"},
        headers={**cashier, "Idempotency-Key": "real-key-6"},
    )
    assert moved.status_code in (200, 201), moved.text
    gate = await pair_device(client, world, type="GATE")
    scanned = data(
        await client.post(
            "/v1/tickets/redeem",
            json={"qr_token": plain["tickets"][0]["qr_token"]},
            headers=bearer(gate.access_token),
        )
    )
    assert scanned["result"] == "pass"
    data(await client.post("/v1/shifts/close", json={"cash_counted": 100_000}, headers=cashier))

    async def real(collection: str, **match: Any) -> Document:
        found = await deps.db[collection].find_one({"tenant_id": world.tenant_id, **match})
        assert found is not None, (collection, match)
        return found

    history = {name: await everything(deps, collection) for name, collection in RECORDS.items()}
    a_sale = await real(C.SALES, sale_id=plain["sale"]["sale_id"])
    assert any(set(s) == set(a_sale) for s in history["sales"] if "refund_claim" not in s)
    refunded_sale = await real(C.SALES, sale_id=discounted["sale"]["sale_id"])
    assert any(set(s) == set(refunded_sale) for s in history["sales"] if "refund_claim" in s)
    once = await real(C.TICKETS, ticket_id=plain["tickets"][0]["ticket_id"])
    assert any(
        set(t) == set(once)
        for t in history["tickets"]
        if t["type"] == "single" and t["passes"] == 1 and t["status"] == "active" and "reprints" not in t
    )
    record = await real(C.REDEMPTIONS, ticket_id=once["ticket_id"])
    passes = [r for r in history["redemptions"] if r["result"] == "pass"]
    assert {(frozenset(r), frozenset(r["metadata"])) for r in passes} == {
        (frozenset(record), frozenset(record["metadata"]))
    }
    for name, collection, match in (
        ("refunds", C.REFUNDS, {}),
        ("reprints", C.REPRINTS, {}),
        ("shifts", C.SHIFTS, {"status": "closed"}),
        ("cash_movements", C.CASH_MOVEMENTS, {}),
    ):
        mine = await real(collection, **match)
        assert {frozenset(doc) for doc in history[name]} >= {frozenset(mine)}, name
    snapshot = await real(C.SHIFT_SNAPSHOTS)
    assert all(set(s) == set(snapshot) for s in await everything(deps, C.SHIFT_SNAPSHOTS))
    for action in ("manual_discount", "refund", "reprint"):
        given = await real(C.APPROVALS, action=action)
        assert all(set(a) == set(given) for a in history["approvals"] if a["action"] == action), action
    pos = await real(C.DEVICES, device_id=till.device.device_id)
    seeded_pos = [d for d in await everything(deps, C.DEVICES) if d["type"] == "POS"]
    assert len(seeded_pos) == 3
    assert all(set(d) == set(pos) for d in seeded_pos)


async def test_more_stores_for_another_tenant_reconcile_and_stay_in_that_tenant(
    client: httpx.AsyncClient, deps: Deps, seeded: dict[str, int]
) -> None:
    world = await make_tenant(deps, "B")
    await demo_catalog(client, world)
    counts = await seed_history(deps, tenant_id=world.tenant_id, days=4, sales_per_day=25, stores=3)
    assert counts["stores"] == 3
    stores = await everything(deps, C.STORES, world.tenant_id)
    assert len(stores) == 3  # its two, and a branch made for the third
    sold_at = Counter(s["store_id"] for s in await everything(deps, C.SALES, world.tenant_id))
    assert len(sold_at) == 3
    assert all(n > 0 for n in sold_at.values())
    headers = bearer(await owner_token(client, world))
    period = {"from": (TODAY - timedelta(days=4)).isoformat(), "to": LAST.isoformat()}
    checked = data(await client.get("/v1/reports/reconcile", params=period, headers=headers))
    assert checked["differences"] == []
    assert checked["checked"]["sales"] == counts["sales"]
    theirs = data(await client.get("/v1/reports/sales", params=period, headers=headers))
    assert theirs["totals"]["count"] == counts["sales"]
    demo = await report(client, "sales")
    assert demo["totals"]["count"] == seeded["sales"]  # neither tenant sees the other's history
    other = data(
        await client.get("/v1/reports/sales", params={**PERIOD, "store_id": DEMO_STORE_ID}, headers=headers)
    )
    assert all(row["count"] == 0 for row in other["rows"])  # every day listed, none of it theirs
    assert other["totals"]["count"] == 0


async def test_nonsense_is_refused_before_anything_is_written(deps: Deps) -> None:
    await seed_demo(deps)
    sizes = await collection_sizes(deps)
    for wrong in ({"days": 0}, {"days": 401}, {"sales_per_day": -1}, {"stores": 0}, {"stores": 51}):
        with pytest.raises(ValueError, match="must be"):
            await seed_history(deps, **wrong)
    with pytest.raises(LookupError, match="not found"):
        await seed_history(deps, tenant_id="01JNOSUCHTENANT00000000000")
    assert await collection_sizes(deps) == sizes


async def test_a_run_that_died_is_finished_by_the_next_and_a_live_one_is_not_doubled(
    deps: Deps, clock: FixedClock, seeded: dict[str, int]
) -> None:
    """A run that died left its marker writing, part of its records and summaries counted halfway:
    while its lease lasts nobody else writes; after it, the next run writes what is missing (the same
    records: nothing twice) and recomputes the seeded days' summaries from the records."""
    whole = await collection_sizes(deps)
    made = await summaries(deps)
    markers = deps.db[MARKERS]
    await markers.update_one(
        {"tenant_id": DEMO_TENANT_ID},
        {"$set": {"status": "writing", "owner": "history:gone", "lease_until": "2031-03-14T05:01:00.000Z"}},
    )
    halfway = (FIRST + timedelta(days=DAYS // 2)).isoformat()
    for collection, stamp in ((C.SALES, "created_at"), (C.REDEMPTIONS, "ts"), (C.SHIFTS, "open_at")):
        await deps.db[collection].delete_many({"tenant_id": DEMO_TENANT_ID, stamp: {"$gte": halfway}})
    await deps.db[C.TICKETS].delete_many({"tenant_id": DEMO_TENANT_ID, "created_at": {"$gte": halfway}})
    some = next(iter(made))
    await deps.db[C.REPORT_SUMMARIES].update_one({"_id": some}, {"$inc": {"count": 7}})
    with pytest.raises(HistoryBusy):  # its lease has not ended: it may still be running
        await seed_history(deps, days=DAYS, sales_per_day=SALES)

    clock.advance(MARKER_LEASE + timedelta(seconds=1))
    assert await seed_history(deps, days=DAYS, sales_per_day=SALES) == seeded
    assert await collection_sizes(deps) == whole
    assert await summaries(deps) == made
    assert await seed_history(deps, days=DAYS, sales_per_day=SALES) == seeded
