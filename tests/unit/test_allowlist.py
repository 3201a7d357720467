"""The allow-list's pure parts: a ticket's entry as the redemption rules see it, deltas that carry a
gate's list from one download to the next, and time signatures that tell when a list is unchanged."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from boxoffice.offline.allowlist import MINUTE, Facts, Lens, Plan, remaining
from boxoffice.tickets.changes import Journal
from boxoffice.tickets.qr import qr_hash
from boxoffice.tickets.redemption import remaining_of

START = int(datetime(2031, 3, 14, 5, 0, tzinfo=UTC).timestamp() * 1000)
HOUR = 60 * MINUTE
ZONES = ("ball-pit", "trampoline-a", "slide")


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


@st.composite
def facts(draw: st.DrawFn, ticket_id: str | None = None) -> Facts:
    kind = draw(st.sampled_from(["single", "multi", "timepass", "credit"]))
    quota = draw(st.integers(1, 180)) if kind != "single" else 0
    used = draw(st.integers(0, quota + 1)) if kind != "timepass" else draw(st.integers(0, 3))
    valid_from = START + draw(st.integers(-30 * HOUR, 30 * HOUR))
    first = None
    if kind == "timepass" and used:
        first = valid_from + draw(st.integers(0, 5 * HOUR))
    ticket_id = ticket_id or draw(st.text("0123456789ABCDEFGHJKMNPQRSTVWXYZ", min_size=26, max_size=26))
    return Facts(
        ticket_id=ticket_id,
        qr_hash=qr_hash(ticket_id),  # one per ticket, as a QR token's
        type=kind,
        active=draw(st.booleans() | st.just(True)),
        quota=quota,
        used=used,
        first_pass=first,
        valid_from=valid_from,
        valid_to=valid_from + draw(st.integers(1, 40 * HOUR)),
        zones=frozenset(draw(st.lists(st.sampled_from(ZONES), max_size=2))),
    )


lenses = st.builds(
    Lens,
    window=st.integers(1, 600).map(lambda m: m * MINUTE),
    order=st.just(ZONES[:2]),
    gate_zones=st.frozensets(st.sampled_from(ZONES), max_size=1),
)
minutes = st.integers(-40 * 60, 40 * 60).map(lambda m: START + m * MINUTE)


@given(f=facts(), at=minutes)
def test_remaining_is_the_redemption_rules_remaining(f: Facts, at: int) -> None:
    ticket: dict[str, Any] = {
        "type": f.type,
        "quota_or_minutes": f.quota if f.type != "single" else None,
        "used": f.used,
        "first_pass_at": _dt(f.first_pass) if f.first_pass is not None else None,
    }
    assert remaining(f, at) == remaining_of(ticket, _dt(at))


def test_an_entry_is_the_hash_type_remaining_validity_and_zone_mask() -> None:
    lens = Lens(240 * MINUTE, ("ball-pit", "trampoline-a"), frozenset())
    single = Facts(
        "T1", "h" * 22, "single", True, 0, 0, None, START, START + HOUR, frozenset({"trampoline-a"})
    )
    assert lens.entry(single, START) == ["h" * 22, "s", None, START // 1000, (START + HOUR) // 1000, 2]
    assert lens.entry(replace(single, used=1), START) is None  # a used single entry can no longer pass
    assert lens.entry(replace(single, active=False), START) is None  # refunded, cancelled
    assert lens.entry(single, START + HOUR) is None  # its validity has ended
    assert lens.entry(replace(single, valid_from=START + 240 * MINUTE), START) is None  # beyond the window
    assert lens.entry(replace(single, valid_from=START + 239 * MINUTE), START) is not None
    multi = replace(single, type="multi", quota=3, used=1, zones=frozenset())
    assert lens.entry(multi, START) == ["h" * 22, "m", 2, START // 1000, (START + HOUR) // 1000, 0]


def test_a_gate_serving_some_zones_sees_the_tickets_that_open_one_of_them() -> None:
    lens = Lens(240 * MINUTE, ("ball-pit", "trampoline-a"), frozenset({"ball-pit"}))
    ticket = Facts("T1", "h" * 22, "single", True, 0, 0, None, START, START + HOUR, frozenset())
    assert lens.serves(ticket)  # no zones: it opens every zone
    assert lens.serves(replace(ticket, zones=frozenset({"ball-pit", "slide"})))
    assert not lens.serves(replace(ticket, zones=frozenset({"trampoline-a"})))


def _apply(held: dict[str, list[Any]], entries: list[list[Any]], removed: list[str]) -> dict[str, list[Any]]:
    kept = {h: e for h, e in held.items() if h not in set(removed)}
    kept.update({e[0]: e for e in entries})
    return kept


@settings(max_examples=300)
@given(
    before=st.lists(facts(), max_size=12, unique_by=lambda f: f.ticket_id),
    changed=st.data(),
    lens=lenses,
    since=minutes,
    later=st.integers(0, 30 * 60),
)
def test_a_delta_carries_a_gate_from_one_download_to_the_next(
    before: list[Facts], changed: st.DataObject, lens: Lens, since: int, later: int
) -> None:
    at = since + later * MINUTE
    now = {f.ticket_id: f for f in before}
    for f in before:  # some tickets change (used, refunded, ...) and are noted; some are new
        if changed.draw(st.booleans()):
            now[f.ticket_id] = replace(changed.draw(facts(f.ticket_id)), qr_hash=f.qr_hash)
    for f in changed.draw(st.lists(facts(), max_size=3, unique_by=lambda f: f.ticket_id)):
        now.setdefault(f.ticket_id, f)
    noted = {t for t, f in now.items() if t not in {b.ticket_id for b in before} or f != _by_id(before)[t]}
    held = {e[0]: e for e in lens.full(before, since)}
    entries, removed = lens.delta(now, noted, since, at)
    assert _apply(held, entries, removed) == {e[0]: e for e in lens.full(now.values(), at)}


def _by_id(facts: list[Facts]) -> dict[str, Facts]:
    return {f.ticket_id: f for f in facts}


@settings(max_examples=300)
@given(tickets=st.lists(facts(), max_size=12), lens=lenses, first=minutes, later=st.integers(0, 100 * 60))
def test_an_equal_time_signature_means_an_equal_list(
    tickets: list[Facts], lens: Lens, first: int, later: int
) -> None:
    plan = Plan.of(tickets, lens)
    second = first + later * MINUTE
    if plan.signature(first) == plan.signature(second):
        assert lens.full(tickets, first) == lens.full(tickets, second)


def test_the_journal_tells_what_changed_since_a_seq_while_it_reaches_back() -> None:
    journal = Journal(7, ("A", "B", "C", "A", "D"))  # ids noted as 3, 4, 5, 6, 7
    assert journal.since(7) == set()
    assert journal.since(5) == {"A", "D"}
    assert journal.since(2) == {"A", "B", "C", "D"}
    assert journal.since(1) is None  # the ids noted as 1 and 2 are no longer kept
    assert journal.since(8) is None  # not one of this journal's
    assert Journal(0).since(0) == set()


def test_a_list_is_sorted_so_alike_entries_sit_together() -> None:
    lens = Lens(240 * MINUTE, (), frozenset())
    day = [
        Facts(
            f"T{n}", f"{n:022d}", kind, True, 5, 0, None, START + (n % 2) * MINUTE, START + HOUR, frozenset()
        )
        for n, kind in enumerate(["single", "multi", "single", "multi"])
    ]
    listed = lens.full(day, START + 2 * MINUTE)
    assert [e[0][-1] for e in listed] == ["0", "2", "1", "3"]  # by validity, then type, then hash
