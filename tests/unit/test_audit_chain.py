"""The audit hash chain, pure: any change to any covered field breaks the link it is in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from boxoffice.audit.chain import CHAINED_FIELDS, GENESIS_HASH, entry_hash, first_broken_link


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
