"""Pydantic building blocks shared by every domain's schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer, StringConstraints

from boxoffice.core.clock import isoformat_z

T = TypeVar("T")

#: A UTC timestamp, serialized as ISO-8601 with milliseconds and a Z, like `server_time`.
UtcDatetime = Annotated[datetime, PlainSerializer(isoformat_z, return_type=str, when_used="json")]


class ReadModel(BaseModel):
    """Built from stored documents: unknown fields (hashes, counters) are dropped, never leaked."""

    model_config = ConfigDict(extra="ignore")


class CommandModel(BaseModel):
    """Request bodies: unknown fields are an error, so a typo does not silently do nothing."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def _normalize_email(value: str) -> str:
    value = value.strip().lower()
    local, _, domain = value.partition("@")
    if not local or "." not in domain or domain.startswith(".") or domain.endswith("."):
        raise ValueError("must be an email address such as name@example.com")
    return value


#: An email address, lower-cased. Deliberately permissive (internal domains such as .test are fine):
#: it names a login, it is not used to send mail.
Email = Annotated[
    str,
    StringConstraints(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$"),
    AfterValidator(_normalize_email),
]
