"""QR tokens and short codes, pure.

A QR token is `<key_id>.<ticket_id>.<mac>`: the MAC is HMAC-SHA256 over `key_id.ticket_id` under
that key, truncated to 128 bits and base64url-encoded, so any holder of the key (the server, a
gate that was sent nothing secret) can check it and nobody else can mint one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping

MAC_BYTES = 16
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # no I, L, O, U: easy to read aloud
SHORT_CODE_LENGTH = 8


class InvalidSignature(ValueError):
    """A token that is malformed, names an unknown key, or carries a wrong MAC."""


def _mac(secret: bytes, key_id: str, ticket_id: str) -> str:
    digest = hmac.new(secret, f"{key_id}.{ticket_id}".encode(), hashlib.sha256).digest()[:MAC_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(key_id: str, secret: bytes, ticket_id: str) -> str:
    return f"{key_id}.{ticket_id}.{_mac(secret, key_id, ticket_id)}"


def verify(token: str, keys: Mapping[str, bytes]) -> str:
    """The ticket id the token vouches for; InvalidSignature otherwise."""
    parts = token.strip().split(".")
    if len(parts) != 3 or not all(parts):
        raise InvalidSignature("not a BoxOffice ticket code")
    key_id, ticket_id, mac = parts
    secret = keys.get(key_id)
    if secret is None:
        raise InvalidSignature("signed with an unknown key")
    if not hmac.compare_digest(mac, _mac(secret, key_id, ticket_id)):
        raise InvalidSignature("the signature does not match")
    return ticket_id


def qr_hash(qr_token: str) -> str:
    """What a gate's allow-list holds for a ticket: 132 bits of SHA-256, base64url — enough to tell
    tickets apart, useless to forge one. Stored on the ticket at issue (`qr_hash`)."""
    return base64.urlsafe_b64encode(hashlib.sha256(qr_token.encode()).digest()).decode()[:22]


def new_short_code() -> str:
    return "".join(secrets.choice(CROCKFORD) for _ in range(SHORT_CODE_LENGTH))


def normalize_short_code(typed: str) -> str:
    """What a cashier types or reads aloud: any case, dashes and spaces, O for 0, I or L for 1."""
    cleaned = typed.upper().replace("-", "").replace(" ", "")
    return cleaned.translate(str.maketrans("OIL", "011"))
