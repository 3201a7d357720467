"""Webhook endpoints, deliveries and attempts as the API takes and gives them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from boxoffice.core.schemas import NOT_BLANK, CommandModel, ReadModel, UtcDatetime
from boxoffice.events.outbox import EVENT_TYPES, EventType

URL_PATTERN = r"^https?://[^\s/$.?#][^\s]*$"


class WebhookCreate(CommandModel):
    url: str = Field(max_length=500, pattern=URL_PATTERN, description="Where events are POSTed")
    events: list[EventType] = Field(min_length=1, max_length=len(EVENT_TYPES))
    description: str | None = Field(default=None, max_length=200, pattern=NOT_BLANK)

    @field_validator("events")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return sorted(set(value))


class WebhookUpdate(CommandModel):
    url: str | None = Field(default=None, max_length=500, pattern=URL_PATTERN)
    events: list[EventType] | None = Field(default=None, min_length=1, max_length=len(EVENT_TYPES))
    description: str | None = Field(default=None, max_length=200, pattern=NOT_BLANK)
    active: bool | None = Field(default=None, description="false pauses deliveries; true resumes them")


class SecretRotate(CommandModel):
    grace_hours: int = Field(
        default=24, ge=0, le=168, description="How long the old secret keeps signing too"
    )


class WebhookRead(ReadModel):
    webhook_id: str
    url: str
    events: list[str]
    description: str | None
    active: bool
    healthy: bool = Field(description="false after a failed delivery, until one succeeds")
    paused_reason: str | None = None
    created_at: UtcDatetime
    rotating_until: UtcDatetime | None = Field(
        default=None, description="Until then the previous secret signs too"
    )


class WebhookWithSecret(WebhookRead):
    secret: str = Field(description="Shown once: sign-checking key for the receiver")


DeliveryStatus = Literal["pending", "delivered", "dead", "cancelled"]


class AttemptRead(ReadModel):
    n: int
    at: UtcDatetime
    status_code: int | None
    latency_ms: float
    response_snippet: str | None
    error: str | None
    next_retry_at: UtcDatetime | None


class DeliveryRead(ReadModel):
    delivery_id: str
    webhook_id: str
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: UtcDatetime | None
    last_status_code: int | None = None
    last_error: str | None = None
    created_at: UtcDatetime
    delivered_at: UtcDatetime | None = None


class DeliveryDetail(DeliveryRead):
    attempts_log: list[AttemptRead]
    body: str = Field(description="The JSON that is POSTed (the same on every attempt)")


class TestResult(ReadModel):
    success: bool
    status_code: int | None
    latency_ms: float
    error: str | None
    response_snippet: str | None
