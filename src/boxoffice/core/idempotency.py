"""Idempotency-Key support shared by sales, refunds and reprints: same key + same body → replay."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Annotated

from fastapi import Header, Response
from pydantic import BaseModel

from boxoffice.core.errors import InProgress

IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=100,
        description="One per attempt; reuse it to retry safely",
    ),
]


def fingerprint(store_id: str, device_id: str, body: BaseModel) -> str:
    """The request a key was first used for, as a digest: a different body under the same key is
    refused rather than replayed."""
    canonical = json.dumps(
        [store_id, device_id, body.model_dump(mode="json")], sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def mark_replay(response: Response, replayed: bool) -> None:
    """A replayed answer is a 200 saying so; a new one keeps the route's own status (201)."""
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
        response.status_code = 200


def raise_if_running(lease_until: datetime, now: datetime) -> None:
    """The first request with this key still holds its lease: 409 E_IN_PROGRESS until it ends."""
    if lease_until > now:
        wait = max(1, int((lease_until - now).total_seconds()))
        raise InProgress(headers={"Retry-After": str(wait)})
