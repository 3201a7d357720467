"""Every client-visible failure is an AppError with a stable E_ code and an HTTP status."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias


class AppError(Exception):
    code: ClassVar[str] = "E_INTERNAL"
    status: ClassVar[int] = 500
    default_message: ClassVar[str] = "Something went wrong on our side."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details
        self.headers = headers or {}
        super().__init__(self.message)


class ValidationFailed(AppError):
    code = "E_VALIDATION"
    status = 400
    default_message = "The request is not valid."


class Unauthenticated(AppError):
    code = "E_UNAUTHENTICATED"
    status = 401
    default_message = "Authentication is required."


class PermissionDenied(AppError):
    code = "E_PERMISSION"
    status = 403
    default_message = "You are not allowed to do this."


class NotFound(AppError):
    code = "E_NOT_FOUND"
    status = 404
    default_message = "Not found."


class MethodNotAllowed(AppError):
    code = "E_METHOD_NOT_ALLOWED"
    status = 405
    default_message = "This method is not allowed on this path."


class Conflict(AppError):
    code = "E_CONFLICT"
    status = 409
    default_message = "The request conflicts with the current state."


class RateLimited(AppError):
    code = "E_RATE_LIMITED"
    status = 429
    default_message = "Too many requests; retry later."


class PayloadTooLarge(AppError):
    """A request body over the route's limit, refused before it is read (core/middleware.py)."""

    code = "E_PAYLOAD_TOO_LARGE"
    status = 413
    default_message = "The request body is too large."


class Unavailable(AppError):
    code = "E_UNAVAILABLE"
    status = 503
    default_message = "The database is unreachable; retry shortly."


class Internal(AppError):
    """The generic answer for anything unexpected: never carries the real cause."""


ERROR_CODES: tuple[str, ...] = (
    "E_VALIDATION",
    "E_UNAUTHENTICATED",
    "E_PERMISSION",
    "E_NOT_FOUND",
    "E_METHOD_NOT_ALLOWED",
    "E_CONFLICT",
    "E_IDEMPOTENCY_MISMATCH",
    "E_IN_PROGRESS",
    "E_RATE_LIMITED",
    "E_PAYLOAD_TOO_LARGE",
    "E_DEVICE_SUSPENDED",
    "E_DEVICE_REVOKED",
    "E_PIN_LOCKED",
    "E_APPROVAL_REQUIRED",
    "E_SHIFT_CLOSED",
    "E_NO_OPEN_SHIFT",
    "E_INSUFFICIENT_CASH",
    "E_DUPLICATE_USE",
    "E_EXPIRED",
    "E_NOT_STARTED",
    "E_EXHAUSTED",
    "E_INVALID_SIG",
    "E_WRONG_DEVICE",
    "E_RULE_CONFLICT",
    "E_CAP_EXCEEDED",
    "E_CLOCK_SKEW",
    "E_PAYMENT_DISABLED",
    "E_TOO_LARGE",
    "E_UNAVAILABLE",
    "E_INTERNAL",
)
"""Every `error.code` the API sends (tests/unit/test_error_codes.py holds each error class to it)."""

if TYPE_CHECKING:
    ErrorCode: TypeAlias = str  # mypy takes no Literal built from a tuple
else:
    # The same codes as a type, for ErrorBody.code: the OpenAPI schema enumerates them.
    ErrorCode = Literal[ERROR_CODES]


class DeviceSuspended(AppError):
    code = "E_DEVICE_SUSPENDED"
    status = 403
    default_message = "This device is suspended; ask a manager to reactivate it."


class DeviceRevoked(AppError):
    code = "E_DEVICE_REVOKED"
    status = 403
    default_message = "This device has been revoked; pair it again."


class ApprovalRequired(AppError):
    code = "E_APPROVAL_REQUIRED"
    status = 403
    default_message = "This needs a manager's approval first."


class PinLocked(AppError):
    code = "E_PIN_LOCKED"
    status = 423
    default_message = "Too many wrong attempts; this account is locked for a while."


class NoOpenShift(AppError):
    code = "E_NO_OPEN_SHIFT"
    status = 409
    default_message = "Open a shift on this device first."


class ShiftClosed(AppError):
    code = "E_SHIFT_CLOSED"
    status = 409
    default_message = "This shift is closed; nothing more can be added to it."


class InsufficientCash(AppError):
    code = "E_INSUFFICIENT_CASH"
    status = 409
    default_message = "The drawer does not hold that much cash."


class IdempotencyMismatch(AppError):
    code = "E_IDEMPOTENCY_MISMATCH"
    status = 409
    default_message = "This Idempotency-Key was used for a different request."


class InProgress(AppError):
    code = "E_IN_PROGRESS"
    status = 409
    default_message = "The first request with this Idempotency-Key is still running; retry shortly."


class InvalidSig(AppError):
    code = "E_INVALID_SIG"
    status = 400
    default_message = "This QR code is not a valid ticket of ours."


class CapExceeded(AppError):
    code = "E_CAP_EXCEEDED"
    status = 429
    default_message = "Today's limit for this is used up."


class ClockSkew(AppError):
    """An offline op dated outside what the device's clock can be trusted for."""

    code = "E_CLOCK_SKEW"
    status = 422
    default_message = "This op's time is before the device's last contact or after now."


class PaymentTypeDisabled(AppError):
    code = "E_PAYMENT_DISABLED"
    status = 422
    default_message = "This payment type is turned off at this store."


class TooLarge(AppError):
    code = "E_TOO_LARGE"
    status = 422
    default_message = "This request is larger than this store allows."
