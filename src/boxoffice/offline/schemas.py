"""Gate bootstrap, sync batches and incidents as the API takes and gives them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from boxoffice.core.schemas import CommandModel, ReadModel, UtcDatetime

OpType = Literal["sale", "redemption", "audit", "shift_open", "shift_close"]


class GateConfig(ReadModel):
    store_id: str
    device_id: str
    zones: list[dict[str, Any]] = Field(description="The store's zones (id, name, credit price)")
    gate_zones: list[str] = Field(description="The zones this gate serves (empty: any)")
    gate_binding: bool
    grace_seconds: int
    max_offline_minutes: int = Field(description="Refuse offline passes once the bootstrap is older")
    offline_cap: int = Field(description="Offline passes one ticket may get from this gate")
    settings_version: int
    simulate_offline: bool = Field(description="QA: use only this bootstrap, as if the network were down")


class GateBootstrap(ReadModel):
    version: str = Field(description="Pass back as `since` to fetch only what changed")
    full: bool = Field(description="false: a delta since `since`; apply `removed`, then upsert `tickets`")
    generated_at: UtcDatetime
    window_minutes: int
    config: GateConfig
    fields: list[str] = Field(description="The meaning of each entry of `tickets`")
    tickets: list[list[Any]] = Field(
        description="[qr_hash, type, remaining, valid_from_unix, valid_to_unix, zone_mask]: qr_hash is "
        "base64url(sha256(qr_token))[:22]; type s|m|t|c (single, multi, timepass, credit); remaining "
        "is null for an unused single entry; bit i of zone_mask = config.zones[i] (0: every zone)"
    )
    removed: list[str] = Field(description="qr_hashes that no longer pass (used up, refunded)")


class SyncOp(CommandModel):
    op_id: str = Field(min_length=10, max_length=40, description="A ULID made on the device")
    type: OpType
    ts: UtcDatetime = Field(description="When the device did it")
    device_seq: int | None = Field(default=None, ge=0, description="The device's own counter")
    payload: dict[str, Any] = Field(default_factory=dict)


class SyncBatch(CommandModel):
    ops: list[SyncOp] = Field(min_length=1, max_length=500)
    outbox_remaining: int | None = Field(
        default=None, ge=0, le=10_000_000, description="Ops still waiting on the device after this batch"
    )


class OpResult(ReadModel):
    op_id: str
    status: Literal["applied", "duplicate", "rejected"]
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = Field(default=None, description="{code, message} for a rejected op")


class SyncResult(ReadModel):
    results: list[OpResult]


class IncidentRead(ReadModel):
    incident_id: str
    kind: str
    ticket_id: str
    store_id: str
    created_at: UtcDatetime
    passes: list[dict[str, Any]]
    redemption_id: str
    status: str
