"""Request and response shapes for tenants, stores, site keys and devices."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from boxoffice.access.policy import DeviceType
from boxoffice.core.schemas import (
    MULTILINE_TEXT,
    NOT_BLANK,
    SINGLE_LINE_TEXT,
    CommandModel,
    ReadModel,
    TimeZone,
    UtcDatetime,
)

DeviceStatus = Literal["pending", "active", "suspended", "revoked"]
PaperWidth = Literal[58, 80]


class TenantRead(ReadModel):
    tenant_id: str
    name: str
    legal_name: str
    tz: str
    currency: str
    billing_plan: str
    status: str
    created_at: UtcDatetime


class StoreRead(ReadModel):
    store_id: str
    name: str
    address: str = ""
    tz: str
    tax_id: str | None = None
    receipt_header: str = ""
    receipt_footer: str = ""
    logo_ref: str | None = None
    paper_width: PaperWidth = 80
    active: bool = True
    synthetic: bool = Field(
        default=False, description="Kept for synthetic checks: left out of reports and dashboards"
    )
    created_at: UtcDatetime


class StoreCreate(CommandModel):
    name: str = Field(min_length=1, max_length=120, pattern=NOT_BLANK)
    address: str = Field(default="", max_length=500, pattern=MULTILINE_TEXT)
    tz: TimeZone = "Asia/Bangkok"
    tax_id: str | None = Field(default=None, max_length=40, pattern=SINGLE_LINE_TEXT)
    receipt_header: str = Field(default="", max_length=500, pattern=MULTILINE_TEXT)
    receipt_footer: str = Field(default="", max_length=500, pattern=MULTILINE_TEXT)
    logo_ref: str | None = Field(default=None, max_length=200)
    paper_width: PaperWidth = 80
    synthetic: bool = Field(
        default=False,
        description=(
            "A store for synthetic checks (`boxoffice synthetic`): its sales, tickets and shifts are "
            "left out of reports and dashboards. Chosen when the store is opened; it cannot change."
        ),
    )


class StoreUpdate(CommandModel):
    name: str | None = Field(default=None, min_length=1, max_length=120, pattern=NOT_BLANK)
    address: str | None = Field(default=None, max_length=500, pattern=MULTILINE_TEXT)
    tz: TimeZone | None = None
    tax_id: str | None = Field(default=None, max_length=40, pattern=SINGLE_LINE_TEXT)
    receipt_header: str | None = Field(default=None, max_length=500, pattern=MULTILINE_TEXT)
    receipt_footer: str | None = Field(default=None, max_length=500, pattern=MULTILINE_TEXT)
    logo_ref: str | None = Field(default=None, max_length=200)
    paper_width: PaperWidth | None = None
    active: bool | None = None


class SiteKeyCreate(CommandModel):
    label: str = Field(default="", max_length=80, pattern=SINGLE_LINE_TEXT)
    expires_in_hours: int = Field(default=24, ge=1, le=720)
    require_approval: bool = True


class SiteKeyRead(ReadModel):
    site_key_id: str
    store_id: str
    label: str
    expires_at: UtcDatetime
    require_approval: bool
    revoked_at: UtcDatetime | None = None
    created_at: UtcDatetime
    created_by: str | None = None
    uses: int = 0


class SiteKeyCreated(SiteKeyRead):
    site_key: str = Field(description="Shown once; only its hash is stored.")


class DeviceRegister(CommandModel):
    site_key: str = Field(min_length=8, max_length=200)
    type: DeviceType
    name: str = Field(min_length=1, max_length=80, pattern=NOT_BLANK)
    meta: dict[str, str | int | bool | None] = Field(default_factory=dict, max_length=20)


class DeviceRegistered(ReadModel):
    device_id: str
    device_token: str = Field(description="Shown once; only its hash is stored.")
    status: DeviceStatus
    tenant_id: str
    store_id: str
    type: DeviceType


class DeviceLogin(CommandModel):
    device_id: str = Field(min_length=1, max_length=64)
    device_token: str = Field(min_length=1, max_length=200)
    purpose: Literal["session", "sync"] = Field(
        default="session",
        description="sync: a suspended device may sign in to upload its offline work (sync only)",
    )


class AccessToken(ReadModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: UtcDatetime


class Caps(ReadModel):
    can_sell: bool
    can_redeem: bool
    kiosk_mode: bool
    offline_cap: int


class CapsUpdate(CommandModel):
    can_sell: bool | None = None
    can_redeem: bool | None = None
    kiosk_mode: bool | None = None
    offline_cap: int | None = Field(default=None, ge=0, le=100_000)


class DeviceRead(ReadModel):
    device_id: str
    tenant_id: str
    store_id: str
    type: DeviceType
    name: str
    status: DeviceStatus
    registered_at: UtcDatetime
    registered_by: str | None = None
    approved_at: UtcDatetime | None = None
    approved_by: str | None = None
    suspended_at: UtcDatetime | None = None
    revoked_at: UtcDatetime | None = None
    last_used_at: UtcDatetime | None = None
    last_ip: str | None = None
    token_version: int
    caps: Caps
    notes: str = ""
    meta: dict[str, Any] = Field(default_factory=dict)
    zones: list[str] = Field(default_factory=list)
    simulate_offline: bool = False
    last_sync_at: UtcDatetime | None = None
    outbox_remaining: int = Field(default=0, description="Ops the device said it had not yet uploaded")
    ops_synced: int = 0


class DeviceLoggedIn(AccessToken):
    device: DeviceRead


class DeviceUpdate(CommandModel):
    name: str | None = Field(default=None, min_length=1, max_length=80, pattern=NOT_BLANK)
    notes: str | None = Field(default=None, max_length=2000, pattern=MULTILINE_TEXT)
    caps: CapsUpdate | None = None
    zones: list[str] | None = Field(default=None, max_length=50, description="Zones this gate serves")
    simulate_offline: bool | None = Field(
        default=None, description="QA: the device uses only its bootstrap and marks its ops offline"
    )


class DeviceAction(CommandModel):
    reason: str = Field(default="", max_length=500, pattern=SINGLE_LINE_TEXT)


class DeviceTokenRotated(ReadModel):
    device_id: str
    device_token: str
    token_version: int
