"""Audit entries as the API shows them."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from boxoffice.core.schemas import ReadModel, UtcDatetime


class AuditRead(ReadModel):
    audit_id: str
    seq: int
    ts: UtcDatetime
    store_id: str | None
    actor_id: str | None
    device_id: str | None
    event_type: str
    payload: dict[str, Any]
    ip: str | None
    subjects: list[str] = Field(default_factory=list, description="Ids the entry is about")
    prev_hash: str | None = Field(
        default=None, description="Null while the entry waits to be linked (a moment after it is written)"
    )
    hash: str | None = Field(default=None, description="Null while the entry waits to be linked")
