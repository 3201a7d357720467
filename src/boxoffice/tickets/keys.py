"""The QR signing key store: keys from QR_HMAC_KEYS, plus keys made by `boxoffice keys rotate`,
kept in the `secrets` collection encrypted (AES-GCM under a key derived from WEBHOOK_MASTER_KEY).

The newest rotated key signs new tickets (else the last configured one); every key ever known
keeps verifying, so a rotation never invalidates a ticket already printed.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from boxoffice.config import Settings
from boxoffice.core.clock import Clock
from boxoffice.core.db import Database
from boxoffice.core.ids import new_id
from boxoffice.core.repository import Scope
from boxoffice.core.sealing import Unsealable, seal, unseal
from boxoffice.tickets.repository import PLATFORM, SecretRepository

RELOAD_SECONDS = 30.0


@dataclass(frozen=True)
class KeyRing:
    current_id: str
    secrets: dict[str, bytes]

    @property
    def current_secret(self) -> bytes:
        return self.secrets[self.current_id]


async def load(db: Database, settings: Settings) -> KeyRing:
    keys = {k.key_id: k.secret for k in settings.qr_hmac_keys}
    current = settings.qr_current_key.key_id
    stored = await SecretRepository(db, Scope(PLATFORM)).find_many({"kind": "qr_key"}, sort=[("seq", 1)])
    for doc in stored:
        try:
            secret = unseal(settings, doc, doc["key_id"])
        except Unsealable as exc:
            raise RuntimeError(
                f"QR key {doc['key_id']} cannot be decrypted: is WEBHOOK_MASTER_KEY the one it was made with?"
            ) from exc
        keys[doc["key_id"]] = secret
        current = doc["key_id"]
    return KeyRing(current, keys)


async def rotate(db: Database, settings: Settings, clock: Clock) -> str:
    """Make a new key current; returns its id (never its secret)."""
    ring = await load(db, settings)
    key_id = "r" + new_id()[-10:].lower()
    repo = SecretRepository(db, Scope(PLATFORM))
    last = await repo.find_one({"kind": "qr_key"}, sort=[("seq", -1)])
    await repo.insert(
        {
            "kind": "qr_key",
            "key_id": key_id,
            "seq": (int(last["seq"]) + 1) if last else 1,
            **seal(settings, secrets.token_bytes(32), key_id),
            "created_at": clock.now(),
            "replaces": ring.current_id,
        }
    )
    return key_id


class KeyCache:
    """Per process: reload now and then, so a rotation reaches every replica within RELOAD_SECONDS."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db, self.settings = db, settings
        self._ring: KeyRing | None = None
        self._loaded_at = 0.0

    async def ring(self, *, fresh: bool = False) -> KeyRing:
        if fresh or self._ring is None or time.monotonic() - self._loaded_at > RELOAD_SECONDS:
            self._ring = await load(self.db, self.settings)
            self._loaded_at = time.monotonic()
        return self._ring
