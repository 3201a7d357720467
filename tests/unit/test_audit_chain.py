"""The audit hash chain, pure: any change to any covered field breaks the link it is in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from boxoffice.audit.chain import (
    CHAINED_FIELDS,
    GENESIS_HASH,
    check_chain,
    entry_hash,
    first_broken_link,
    gap_entry,
)


def build_chain(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    chain: list[dict[str, Any]] = []
    prev = GENESIS_HASH
    for seq, payload in enumerate(payloads, 1):
        entry = {
            "audit_id": f"A{seq}",
            "seq": seq,
            "ts": datetime(2031, 3, 14, 5, 0, seq % 60, tzinfo=UTC),
            "tenant_id": "T",
            "store_id": None,
            "actor_id": "E",
            "device_id": None,
            "event_type": "x",
            "payload": payload,
            "ip": "127.0.0.1",
            "prev_hash": prev,
        }
        entry["hash"] = entry_hash(prev, entry)
        prev = entry["hash"]
        chain.append(entry)
    return chain


payloads = st.lists(
    st.dictionaries(
        st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=10), st.booleans()), max_size=3
    ),
    min_size=1,
    max_size=8,
)


@given(payloads)
def test_an_untouched_chain_verifies(items: list[dict[str, Any]]) -> None:
    assert first_broken_link(build_chain(items)) is None


@given(payloads, st.data())
def test_changing_any_field_is_caught_at_that_entry(items: list[dict[str, Any]], data: st.DataObject) -> None:
    chain = build_chain(items)
    index = data.draw(st.integers(min_value=0, max_value=len(chain) - 1))
    field = data.draw(st.sampled_from([f for f in CHAINED_FIELDS if f not in ("seq", "prev_hash")]))
    chain[index] = {**chain[index], field: "tampered"}
    broken = first_broken_link(chain)
    assert broken is not None
    assert broken.seq == index + 1


def test_timestamps_hash_as_stored_stamps() -> None:
    """A datetime and its stored stamp hash the same, so entries read back still verify."""
    chain = build_chain([{"a": 1}])
    stored = {**chain[0], "ts": "2031-03-14T05:00:01.000Z"}
    assert first_broken_link([stored]) is None


def head_of(chain: list[dict[str, Any]], taken: int | None = None) -> dict[str, Any]:
    last = chain[-1]
    return {
        "seq": last["seq"],
        "hash": last["hash"],
        "audit_id": last["audit_id"],
        "taken": taken or last["seq"],
    }


def unlinked(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k not in ("prev_hash", "hash")}


def test_gap_entries_link_like_any_other_and_are_reported() -> None:
    chain = build_chain([{"n": 1}])
    gap = gap_entry(
        tenant_id="T", seq=2, prev_hash=chain[0]["hash"], at=datetime(2031, 3, 14, tzinfo=UTC), audit_id="G"
    )
    chain.append(gap)
    check = check_chain(chain, head_of(chain))
    assert (check.broken, check.gaps, check.linked, check.first_seq) == (None, (2,), 2, 1)


def test_entries_waiting_behind_a_number_not_written_yet_are_no_break() -> None:
    chain = build_chain([{"n": n} for n in range(6)])
    linked, waiting = chain[:3], [unlinked(e) for e in chain[4:]]
    check = check_chain([*linked, *waiting], head_of(linked, taken=7))
    assert check.broken is None
    assert (check.linked, check.head_seq, check.pending, check.missing) == (3, 3, (5, 6), (4, 7))


@given(payloads, st.data())
def test_an_entry_made_to_look_unlinked_is_caught_by_the_linked_one_after_it(
    items: list[dict[str, Any]], data: st.DataObject
) -> None:
    chain = build_chain([*items, {"last": True}])
    index = data.draw(st.integers(min_value=0, max_value=len(chain) - 2))
    chain[index] = unlinked(chain[index])
    broken = check_chain(chain, head_of(chain)).broken
    assert broken is not None
    assert (broken.seq, broken.reason) == (index + 2, f"linked although seq {index + 1} before it is not")


@given(payloads, st.data())
def test_any_deletion_of_linked_entries_is_caught(items: list[dict[str, Any]], data: st.DataObject) -> None:
    """A run of entries cut anywhere — the middle, or the end (what is left still links there: the
    head names what is gone) — never passes, whatever waits after it."""
    chain = build_chain(items)
    head = head_of(chain, taken=len(chain) + 2)
    start = data.draw(st.integers(min_value=0, max_value=len(chain) - 1))
    stop = data.draw(st.integers(min_value=start + 1, max_value=len(chain)))
    waiting = data.draw(st.booleans())
    rest = chain[:start] + chain[stop:]
    extra = build_chain([*items, {}, {}])[-1:] if waiting else []
    broken = check_chain([*rest, *(unlinked(e) for e in extra)], head).broken
    assert broken is not None
    if stop == len(chain):
        assert broken.reason.startswith("entries missing from the end")
        assert (broken.seq, broken.audit_id) == (len(chain), chain[-1]["audit_id"])
    else:
        assert (broken.seq, broken.reason) == (stop + 1, f"sequence gap: expected {start + 1}")


def test_an_entry_numbered_past_the_counter_is_caught() -> None:
    chain = build_chain([{"n": n} for n in range(3)])
    check = check_chain(chain, head_of(chain[:2], taken=2))
    assert check.broken is not None
    assert (check.broken.seq, check.broken.reason) == (
        3,
        "numbered past the last sequence number handed out (2)",
    )
