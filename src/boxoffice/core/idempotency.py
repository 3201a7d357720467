"""Idempotency-Key support shared by sales, refunds and reprints: same key + same body → replay."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated

from fastapi import Header
from pydantic import BaseModel

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
