"""Secrets at rest (rotated QR keys, webhook secrets): AES-GCM under a key derived from
WEBHOOK_MASTER_KEY, bound to what they belong to (the associated data)."""

from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from boxoffice.config import Settings


class Unsealable(Exception):
    """Stored with another master key, or tampered with."""


def _cipher(settings: Settings) -> AESGCM:
    material = hashlib.sha256(b"boxoffice-secrets-at-rest:" + settings.webhook_master_key.encode()).digest()
    return AESGCM(material)


def seal(settings: Settings, secret: bytes, bound_to: str) -> dict[str, str]:
    nonce = secrets.token_bytes(12)
    ciphertext = _cipher(settings).encrypt(nonce, secret, bound_to.encode())
    return {"nonce": base64.b64encode(nonce).decode(), "ciphertext": base64.b64encode(ciphertext).decode()}


def unseal(settings: Settings, sealed: dict[str, str], bound_to: str) -> bytes:
    try:
        return _cipher(settings).decrypt(
            base64.b64decode(sealed["nonce"]), base64.b64decode(sealed["ciphertext"]), bound_to.encode()
        )
    except InvalidTag as exc:
        raise Unsealable(bound_to) from exc
