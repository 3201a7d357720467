"""Pydantic building blocks shared by every domain's schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer, StringConstraints, WithJsonSchema

from boxoffice.core.clock import isoformat_z

T = TypeVar("T")

#: A UTC timestamp, serialized as ISO-8601 with milliseconds and a Z, like `server_time`.
UtcDatetime = Annotated[datetime, PlainSerializer(isoformat_z, return_type=str, when_used="json")]


class ReadModel(BaseModel):
    """Built from stored documents: unknown fields (hashes, counters) are dropped, never leaked."""

    model_config = ConfigDict(extra="ignore")


#: A name must hold something besides spaces. (Values are kept as sent: stripping them would make
#: the server reject strings the schema admits. Whitespace is spelled out in ASCII because `\s`
#: means different sets in the schema's ECMA regexes, Python and the validator's Rust regexes.)
NOT_BLANK = r"[^ \t\n\r\f\v]"


class CommandModel(BaseModel):
    """Request bodies: unknown fields are an error, so a typo does not silently do nothing."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def _normalize_email(value: str) -> str:
    return value.lower()


#: An email address, lower-cased. Deliberately permissive (internal domains such as .test are fine):
#: it names a login, it is not used to send mail.
Email = Annotated[
    str,
    StringConstraints(
        min_length=5, max_length=254, pattern=r"^[^@ \t\n\r\f\v]+@[^@ \t\n\r\f\v.]+(\.[^@ \t\n\r\f\v.]+)+$"
    ),
    AfterValidator(_normalize_email),
]


#: IANA zones this server knows, listed in the schema so integrators (and generated clients) see them.
TIME_ZONES: tuple[str, ...] = tuple(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))


def _known_zone(value: str) -> str:
    if value not in TIME_ZONES:
        raise ValueError("must be an IANA time zone such as Asia/Bangkok")
    return value


TimeZone = Annotated[
    str,
    AfterValidator(_known_zone),
    WithJsonSchema({"type": "string", "enum": list(TIME_ZONES), "examples": ["Asia/Bangkok"]}),
]
