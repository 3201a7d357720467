"""Webhook signing and the retry schedule, pure.

Signature header: `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`;
while a secret is being rotated both are sent: `t=…,v1=<old>,v1=<new>`. Receivers accept the
request when any v1 matches and `t` is recent (they reject stale timestamps: replays).
"""

from __future__ import annotations

import hashlib
import hmac
import random
from datetime import datetime, timedelta

#: Waits after the 1st, 2nd, … failed attempt; after the last, the delivery is dead-lettered.
RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=10),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(hours=24),
)
JITTER = 0.1  # ±10 %, so endpoints that failed together are not retried together
TOLERANCE = timedelta(minutes=5)


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secrets: list[bytes], timestamp: int, body: bytes) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={sign(s, timestamp, body)}" for s in secrets)])


def verify(secret: bytes, header: str, body: bytes, now: datetime, tolerance: timedelta = TOLERANCE) -> bool:
    """What a receiver does (the README shows the same in a few lines)."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    if abs(now.timestamp() - timestamp) > tolerance.total_seconds():
        return False
    expected = sign(secret, timestamp, body)
    return any(hmac.compare_digest(expected, v) for k, v in parts if k == "v1")


def next_attempt(failed_attempts: int, now: datetime, rng: random.Random) -> datetime | None:
    """When to try again after `failed_attempts` failures in a row, or None: dead-letter it."""
    if failed_attempts > len(RETRY_SCHEDULE):
        return None
    wait = RETRY_SCHEDULE[failed_attempts - 1]
    return now + wait * (1 + rng.uniform(-JITTER, JITTER))
