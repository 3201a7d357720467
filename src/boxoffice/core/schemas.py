"""Pydantic building blocks shared by every domain's schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar, get_args
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from boxoffice.core.clock import isoformat_z

T = TypeVar("T")

#: A UTC timestamp, serialized as ISO-8601 with milliseconds and a Z, like `server_time`.
UtcDatetime = Annotated[datetime, PlainSerializer(isoformat_z, return_type=str, when_used="json")]

#: How a customer pays; the settings' payment_types say which are on at a store and their fees.
PaymentMethod = Literal["cash", "qr", "card", "other"]


class ReadModel(BaseModel):
    """Built from stored documents: unknown fields (hashes, counters) are dropped, never leaked."""

    model_config = ConfigDict(extra="ignore")


#: Never in text a person reads: control characters (C0 — tab and newline included —, DEL, C1), the
#: line/paragraph separators, and the Unicode bidirectional embeddings, overrides and isolates
#: (U+202A to U+202E, U+2066 to U+2069) that make text display other than it reads ("Trojan Source").
#: Zero-width joiners and the LRM/RLM marks are fine: real names and scripts need them.
UNSAFE_TEXT = r"\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
#: The same, but a multi-line text (a receipt header or footer) may hold newlines.
UNSAFE_MULTILINE_TEXT = r"\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_BLANK = r" \t\n\r\f\v"

#: A single-line human-readable text (a name, a label, a reason): something besides spaces, and none
#: of UNSAFE_TEXT. (Values are kept as sent: stripping them would make the server reject strings the
#: schema admits. Characters are spelled as escapes both the schema's ECMA regexes, Python and the
#: validator's Rust regexes read alike; `\s` means a different set in each.)
NOT_BLANK = rf"^[^{UNSAFE_TEXT}]*[^{_BLANK}{UNSAFE_TEXT}][^{UNSAFE_TEXT}]*$"
#: A single-line human-readable text that may be empty (an optional label or reason).
SINGLE_LINE_TEXT = rf"^[^{UNSAFE_TEXT}]*$"
#: A multi-line human-readable text (receipt header and footer, notes, an address): newlines
#: allowed, the rest of UNSAFE_TEXT not; may be empty.
MULTILINE_TEXT = rf"^[^{UNSAFE_MULTILINE_TEXT}]*$"

#: The same rules as reusable types, for fields declared without `Field(pattern=...)`:
#: `name: HumanName = Field(max_length=80)`.
HumanName = Annotated[str, StringConstraints(min_length=1, pattern=NOT_BLANK)]
SingleLineText = Annotated[str, StringConstraints(pattern=SINGLE_LINE_TEXT)]
MultilineText = Annotated[str, StringConstraints(pattern=MULTILINE_TEXT)]


class CommandModel(BaseModel):
    """Request bodies: unknown fields are an error, so a typo does not silently do nothing; a
    number is a number (`true` is not 1 satang, whatever lax parsing would make of it) and a
    yes/no is a boolean (`0` or `"no"` is not `false`)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, info in cls.model_fields.items():
                value = data.get(info.alias or name)
                kinds = (info.annotation, *get_args(info.annotation))
                if isinstance(value, bool) and bool not in kinds and (int in kinds or float in kinds):
                    raise ValueError(f"{info.alias or name} is a number, not {str(value).lower()}")
                if (
                    value is not None
                    and not isinstance(value, bool)
                    and bool in kinds
                    and not ({int, float, str} & set(kinds))
                ):
                    raise ValueError(f"{info.alias or name} is true or false, not {value!r}")
        return data


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
