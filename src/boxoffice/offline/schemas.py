"""Gate bootstrap, sync batches and incidents as the API takes and gives them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, AwareDatetime, ConfigDict, Field

from boxoffice.core.schemas import CommandModel, ReadModel, UtcDatetime

OpType = Literal["sale", "redemption", "audit", "shift_open", "shift_close"]
#: How a bootstrap lays out its allow-list: a row per ticket, or a group per set of equal values.
GateLayout = Literal["rows", "packed"]
OP_ID_PATTERN = r"^[0-9A-Za-z_-]{10,40}$"


def _in_utc(value: datetime) -> datetime:
    """The instant in UTC; one that UTC cannot hold (year 1 or 9999 with an offset) is refused."""
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("ts lies outside the years UTC can hold") from exc


class GateConfig(ReadModel):
    store_id: str
    device_id: str
    zones: list[dict[str, Any]] = Field(description="The store's zones (id, name, credit price)")
    gate_zones: list[str] = Field(description="The zones this gate serves (empty: any)")
    gate_binding: bool
    grace_seconds: int
    max_offline_minutes: int = Field(
        description="Refuse offline passes once the bootstrap is older (ops made later are flagged)"
    )
    offline_cap: int = Field(
        description="Offline passes one ticket may get from this gate, and never more than its own uses "
        "(a single entry once, N visits N times): min(offline_cap, the entry's remaining)"
    )
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
        "is null for an unused single entry; bit i of zone_mask = config.zones[i] (0: every zone). "
        "Empty with layout=packed (see `groups`)"
    )
    groups: list[list[Any]] = Field(
        default_factory=list,
        description="Only with layout=packed, in place of `tickets`: [type, remaining, valid_from_unix, "
        "valid_to_unix, zone_mask, qr_hashes], one per set of tickets sharing those five values (as in "
        "`tickets`); qr_hashes is their 22-character qr_hashes end to end, sorted: split it every 22 "
        "characters. In a delta, upsert every ticket of every group",
    )
    removed: list[str] = Field(description="qr_hashes that no longer pass (used up, refunded)")


class SyncOp(CommandModel):
    """One op, checked on its own: an op that breaks these rules is `rejected` E_VALIDATION, never
    the whole batch."""

    op_id: str = Field(
        pattern=OP_ID_PATTERN, description="A ULID made on the device; unique per device (not per tenant)"
    )
    type: OpType
    ts: Annotated[AwareDatetime, AfterValidator(_in_utc)] = Field(
        description="When the device did it, with a zone (e.g. 2026-11-26T05:00:00Z). It must lie between "
        "the device's last contact less offline.clock_skew_seconds and now plus that allowance: outside, "
        "a sale is rejected E_CLOCK_SKEW, any other op is kept at the server's time and flagged `clock_skew`"
    )
    device_seq: int | None = Field(default=None, ge=0, description="The device's own counter")
    payload: dict[str, Any] = Field(default_factory=dict)
    employee_id: str | None = Field(
        default=None,
        max_length=64,
        description="POS sale and shift ops: the staff member signed in on the POS when it was done "
        "(the batch's own signed-in employee if omitted); they need the permission at its store",
    )


class SyncOpIn(CommandModel):
    """An op as the batch takes it: its shape only (strings, an integer, an object), so that each
    op's rules (op_id a ULID, a known type, ts with a zone and in bounds) are checked on the op
    alone (as SyncOp) and one bad op is `rejected` alone. Fields beyond these go on to that check."""

    model_config = ConfigDict(extra="allow", title="SyncOp")

    op_id: str = Field(description="A ULID made on the device (checked per op)")
    type: str = Field(description=f"One of {', '.join(get_args(OpType))} (checked per op)")
    ts: str = Field(description=SyncOp.model_fields["ts"].description)
    device_seq: int | None = Field(default=None, description="The device's own counter")
    payload: dict[str, Any] = Field(default_factory=dict)


class SyncBatch(CommandModel):
    ops: list[SyncOpIn] = Field(min_length=1, max_length=500)
    outbox_remaining: int | None = Field(
        default=None, ge=0, le=10_000_000, description="Ops still waiting on the device after this batch"
    )


class OpResult(ReadModel):
    op_id: str
    status: Literal["applied", "duplicate", "rejected"]
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = Field(default=None, description="{code, message} for a rejected op")
    flags: list[str] = Field(
        default_factory=list,
        description="What the server noticed: `clock_skew` (ts outside the device's trusted span: kept at "
        "the server's time), `offline_too_long` (made after more than max_offline_minutes without contact)",
    )


class SyncResult(ReadModel):
    results: list[OpResult]


class IncidentPass(ReadModel):
    device_id: str | None = Field(default=None, description="The device that let the ticket in")
    at: UtcDatetime | None = Field(default=None, description="When, by that device's record")
    redemption_id: str | None = None


class IncidentRead(ReadModel):
    incident_id: str
    kind: str = Field(
        description="offline_double_pass (two passes where one use was left: `passes` names both gates and "
        "times, earliest first; `redemption_id` is the one that became the conflict), offline_cap (a gate "
        "passed a ticket beyond its offline cap), offline_pass_void (a gate passed a refunded or cancelled "
        "ticket), offline_verdict_override (a gate's offline PASS used the ticket where the server would "
        "have said `details.server_reason`, e.g. its clock ran behind), offline_clock_skew and "
        "offline_too_long (ops of one upload: `details.op_ids`)"
    )
    ticket_id: str = ""
    store_id: str
    device_id: str = Field(default="", description="The device whose op or scan this is about")
    created_at: UtcDatetime
    passes: list[IncidentPass]
    redemption_id: str = ""
    status: str
    details: dict[str, Any] = Field(default_factory=dict)
