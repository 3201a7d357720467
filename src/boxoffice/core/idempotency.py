"""Idempotency-Key support shared by sales, refunds and reprints: same key + same body → replay."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from fastapi import Header, Response
from pydantic import BaseModel

from boxoffice.core.errors import InProgress

if TYPE_CHECKING:
    from boxoffice.access.principal import Principal

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


def scoped_key(principal: Principal, key: str) -> str:
    """An Idempotency-Key belongs to its caller (as Stripe scopes keys to an account): the device,
    or the employee in the back office. Another caller's same key is simply another request."""
    owner = principal.device_id or f"employee:{principal.employee_id}"
    return f"{owner}:{key}"


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
