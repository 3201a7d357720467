"""Alerts as the API gives them, and the acknowledgement it takes."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field

from boxoffice.core.schemas import MULTILINE_TEXT, CommandModel, ReadModel, UtcDatetime

#: Every kind of alert, in one list (a feature that raises a new kind adds it here). The kind
#: decides what `cause_key` names: for webhook_failing, the endpoint; offline_double_admission, the
#: ticket; cash_difference, the shift; unsynced_ops, the device; audit_chain_broken, the first
#: entry where the chain breaks (`<seq>:<audit_id>`).
AlertKind = Literal[
    "webhook_failing",
    "pin_burst",
    "account_guessing",
    "offline_double_admission",
    "cash_difference",
    "unsynced_ops",
    "audit_chain_broken",
    "fraud_flag",  # cause: <store>:<employee|device>:<entity id>:<metric>:<local day>
    "backup_stale",  # cause: "backup" (ops/backup_watch.py); raised in every tenant, resolved when fresh
]
ALERT_KINDS: tuple[str, ...] = get_args(AlertKind)

AlertStatus = Literal["open", "acknowledged", "resolved"]


class AlertAcknowledge(CommandModel):
    note: str | None = Field(
        default=None,
        max_length=500,
        pattern=MULTILINE_TEXT,
        description="What was done about it (kept in the audit log)",
    )


class AlertRead(ReadModel):
    alert_id: str
    kind: AlertKind
    cause_key: str = Field(description="What the alert is about, per kind (e.g. the webhook id)")
    store_id: str | None = Field(description="null: about the whole tenant")
    title: str
    detail: str
    links: dict[str, str] = Field(description='The records it is about, e.g. {"webhook_id": "..."}')
    status: AlertStatus = Field(
        description="open → acknowledged (a person saw it) → resolved (the cause cleared)"
    )
    raised_at: UtcDatetime
    last_seen_at: UtcDatetime = Field(description="When the cause was last reported")
    occurrences: int = Field(description="How many times the cause was reported while unresolved")
    acknowledged_at: UtcDatetime | None = None
    acknowledged_by: str | None = None
    acknowledge_note: str | None = None
    resolved_at: UtcDatetime | None = None
