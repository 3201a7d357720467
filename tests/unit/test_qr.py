"""QR tokens verify only under the key that signed them; short codes survive being read aloud."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boxoffice.tickets.qr import (
    CROCKFORD,
    InvalidSignature,
    new_short_code,
    normalize_short_code,
    sign,
    verify,
)

KEYS = {"k1": b"a" * 32, "k2": b"b" * 32}
TICKET = "01M8C0T7ZNCVJWX84Z0EXXVQMG"


def test_a_signed_token_names_its_ticket() -> None:
    token = sign("k2", KEYS["k2"], TICKET)
    assert token.startswith(f"k2.{TICKET}.")
    assert verify(token, KEYS) == TICKET
    assert len(token) < 64  # small enough for a dense-free QR on 58 mm paper


@pytest.mark.parametrize(
    "token",
    [
        "",
        "k1.only-two",
        f"k9.{TICKET}.AAAAAAAAAAAAAAAAAAAAAA",  # unknown key
        f"k1.{TICKET}.AAAAAAAAAAAAAAAAAAAAAA",  # forged MAC
        sign("k1", KEYS["k2"], TICKET),  # signed with another key's secret
        sign("k1", KEYS["k1"], TICKET).replace(TICKET, "01M8C0T7ZNCVJWX84Z0EXXVQMH"),  # another ticket's id
    ],
)
def test_anything_else_is_an_invalid_signature(token: str) -> None:
    with pytest.raises(InvalidSignature):
        verify(token, KEYS)


@given(
    st.text(alphabet="0123456789ABCDEFGHJKMNPQRSTVWXYZ", min_size=26, max_size=26),
    st.sampled_from(["k1", "k2"]),
)
def test_every_flipped_character_breaks_the_token(ticket_id: str, key_id: str) -> None:
    token = sign(key_id, KEYS[key_id], ticket_id)
    for index in range(len(key_id) + 1, len(token)):
        if token[index] == ".":
            continue
        flipped = token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]
        with pytest.raises(InvalidSignature):
            verify(flipped, KEYS)


def test_short_codes_are_crockford_and_forgive_reading_mistakes() -> None:
    code = new_short_code()
    assert len(code) == 8
    assert set(code) <= set(CROCKFORD)
    assert normalize_short_code("7kd2-qx4o") == "7KD2QX40"
    assert normalize_short_code("il 01") == "1101"
