"""Request and response shapes for employees, roles, logins and approvals."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from boxoffice.access.policy import PERMISSIONS, Permission
from boxoffice.core.money import MAX_SATANG
from boxoffice.core.schemas import NOT_BLANK, CommandModel, Email, PaymentMethod, ReadModel, UtcDatetime

PIN_PATTERN = r"^[0-9]{4,8}$"


def _known_permissions(values: list[Permission]) -> list[Permission]:
    """Each permission once, in a stable order."""
    return sorted(set(values))


class MembershipIn(CommandModel):
    store_id: str = Field(min_length=1, max_length=64, description='A store id, or "*" for every store.')
    role_ids: list[str] = Field(min_length=1, max_length=10)
    active: bool = True


class MembershipRead(ReadModel):
    store_id: str
    role_ids: list[str]
    active: bool


class EmployeeCreate(CommandModel):
    name: str = Field(min_length=1, max_length=120, pattern=NOT_BLANK)
    email: Email
    password: str | None = Field(default=None, min_length=10, max_length=200)
    pin: str | None = Field(default=None, pattern=PIN_PATTERN)
    memberships: list[MembershipIn] = Field(default_factory=list, max_length=200)


class EmployeeUpdate(CommandModel):
    name: str | None = Field(default=None, min_length=1, max_length=120, pattern=NOT_BLANK)
    email: Email | None = None
    password: str | None = Field(default=None, min_length=10, max_length=200)


class MembershipsReplace(CommandModel):
    memberships: list[MembershipIn] = Field(max_length=200)


class PinReset(CommandModel):
    pin: str = Field(pattern=PIN_PATTERN)


class EmployeeRead(ReadModel):
    employee_id: str
    name: str
    email: str
    status: Literal["active", "suspended"]
    has_pin: bool
    has_password: bool
    created_at: UtcDatetime
    memberships: list[MembershipRead] = Field(default_factory=list)


class RoleCreate(CommandModel):
    name: str = Field(min_length=1, max_length=60, pattern=NOT_BLANK)
    permissions: list[Permission] = Field(max_length=len(PERMISSIONS))

    _perms = field_validator("permissions")(_known_permissions)


class RoleUpdate(CommandModel):
    name: str | None = Field(default=None, min_length=1, max_length=60, pattern=NOT_BLANK)
    permissions: list[Permission] | None = Field(default=None, max_length=len(PERMISSIONS))

    @field_validator("permissions")
    @classmethod
    def _perms(cls, values: list[Permission] | None) -> list[Permission] | None:
        return None if values is None else _known_permissions(values)


class RoleRead(ReadModel):
    role_id: str
    name: str
    permissions: list[str]
    builtin: bool


class PermissionMatrix(ReadModel):
    permissions: list[str]
    roles: list[RoleRead]


class PasswordLogin(CommandModel):
    """Back-office sign-in with a password."""

    email: Email
    password: str = Field(min_length=1, max_length=200)


class PinLogin(CommandModel):
    """Sign-in on a paired device: the employee tapped on the name tiles, then their PIN."""

    employee_id: str = Field(
        min_length=1, max_length=64, description="From GET /v1/devices/me/staff (the name tiles)"
    )
    pin: str = Field(pattern=PIN_PATTERN)


EmployeeLogin = PasswordLogin | PinLogin


class StaffTile(ReadModel):
    employee_id: str
    name: str


class SignedOut(ReadModel):
    employee_id: str
    signed_out: bool = True


class EmployeeSession(ReadModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: UtcDatetime
    employee_id: str
    name: str
    store_id: str | None = Field(default=None, description="Set when the session is bound to a device.")
    device_id: str | None = None


class Me(ReadModel):
    employee_id: str
    name: str
    email: str
    tenant_id: str
    store_id: str | None = Field(default=None, description="The device's store, for a session on a device.")
    device_id: str | None = None
    store_ids: list[str] = Field(description='Stores the employee belongs to ("*" = every store).')
    permissions: list[str] = Field(
        description="Permissions at the current store, or anywhere for the back office."
    )
    grants: dict[str, list[str]] = Field(description="Permissions per store id (or '*').")


class ApprovalContext(CommandModel):
    """What the approval is for: it works only for this (a bigger discount needs a new approval)."""

    target_type: str | None = Field(default=None, max_length=40)
    target_id: str | None = Field(
        default=None, max_length=64, description="Required for refund (the sale) and reprint (the ticket)"
    )
    amount: int | None = Field(
        default=None, ge=0, le=MAX_SATANG, description="manual_discount: the largest discount in satang"
    )
    percent_bp: int | None = Field(
        default=None, ge=0, le=10_000, description="manual_discount: the largest discount in basis points"
    )
    refund_method: PaymentMethod | None = Field(
        default=None,
        description="refund: pay back by this method instead of the sale's own (the approver's choice)",
    )


class VerifyPin(CommandModel):
    action: Literal["refund", "reprint", "manual_discount", "shift_close", "settings_write"]
    pin: str = Field(pattern=PIN_PATTERN)
    employee_id: str | None = Field(
        default=None, max_length=64, description="The approver, tapped on the name tiles (or give email)"
    )
    email: Email | None = None
    store_id: str | None = Field(
        default=None, description="Required for back-office callers; a device's store otherwise."
    )
    context: ApprovalContext = Field(default_factory=ApprovalContext)
    target_id: str | None = Field(default=None, max_length=64, description="Shorthand for context.target_id")

    @model_validator(mode="after")
    def _bound_to_what_it_approves(self) -> VerifyPin:
        if (self.employee_id is None) == (self.email is None):
            raise ValueError("name the approver: employee_id (the name tile) or email, one of them")
        if self.target_id is not None:
            if self.context.target_id not in (None, self.target_id):
                raise ValueError("target_id and context.target_id differ")
            self.context = self.context.model_copy(update={"target_id": self.target_id})
        if self.action in ("refund", "reprint") and not self.context.target_id:
            raise ValueError(f"a {self.action} approval names its target_id (the sale or the ticket)")
        if self.action == "manual_discount" and (self.context.amount is None) == (
            self.context.percent_bp is None
        ):
            raise ValueError("a manual_discount approval names its amount or its percent_bp (one of them)")
        if self.context.refund_method is not None and self.action != "refund":
            raise ValueError("refund_method belongs to a refund approval")
        return self


class ApprovalGranted(ReadModel):
    approval_token: str = Field(description="Single use; bound to action, store and target.")
    expires_at: UtcDatetime
    action: str
    store_id: str
    approver_id: str
    approver_name: str
