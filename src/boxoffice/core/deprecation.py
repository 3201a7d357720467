"""Deprecating a `/v1` route or field without breaking anyone: the policy in docs/API_POLICY.md, in code.

A deprecated route keeps working until its sunset. It is marked `deprecated: true` in the OpenAPI
schema (with its dates and replacement) and every answer it gives, errors included, carries:

- `Deprecation: @<unix seconds>` (RFC 9745, a Structured Field Date): when it was deprecated;
- `Sunset: <HTTP-date>` (RFC 8594): the earliest time it may stop answering;
- `Link: <...>; rel="deprecation"` to where the deprecation is explained (the API docs, which show
  the operation struck through with its replacement), and `rel="sunset"` to the same.

Mark a route with `@router.get(..., **deprecated_route(since=..., sunset=..., use_instead=...))`
and a field with `name: str = Field(..., **deprecated_field(since=..., sunset=..., use_instead=...))`.
`install_deprecations(app)` adds the headers and the schema notes once for every such route.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email.utils import format_datetime
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The shortest life a deprecated route or field has between its Deprecation and Sunset dates.
MIN_NOTICE_DAYS = 183
#: Where clients read about a deprecation: the interactive docs mark the operation and name its
#: replacement (a relative reference, resolved against the request's own URL).
DEFAULT_INFO_LINK = "/v1/docs"
#: The OpenAPI extension that carries a route's deprecation (read back by the middleware).
EXTENSION = "x-deprecation"


def _instant(value: date | datetime) -> datetime:
    """A day means its first second, UTC; a datetime must say its zone."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("deprecation dates need a time zone (or give a date)")
        return value.astimezone(UTC).replace(microsecond=0)
    return datetime.combine(value, time(0, 0), tzinfo=UTC)


@dataclass(frozen=True)
class Deprecation:
    since: datetime
    sunset: datetime
    use_instead: str = ""
    link: str = DEFAULT_INFO_LINK

    @classmethod
    def of(
        cls,
        since: date | datetime,
        sunset: date | datetime,
        use_instead: str = "",
        link: str = DEFAULT_INFO_LINK,
    ) -> Deprecation:
        """Refuses a sunset sooner than the policy's notice: a typo must not cut a client off early."""
        start, end = _instant(since), _instant(sunset)
        if (end - start).days < MIN_NOTICE_DAYS:
            raise ValueError(
                f"a sunset must come at least {MIN_NOTICE_DAYS} days after the deprecation date "
                f"(docs/API_POLICY.md); got {start.date()} → {end.date()}"
            )
        return cls(start, end, use_instead, link)

    @property
    def deprecation_header(self) -> str:
        """RFC 9745: a Structured Field Date, `@` and whole seconds since the epoch."""
        return f"@{int(self.since.timestamp())}"

    @property
    def sunset_header(self) -> str:
        """RFC 8594: an IMF-fixdate HTTP-date, `Sun, 06 Nov 1994 08:49:37 GMT`."""
        return format_datetime(self.sunset, usegmt=True)

    @property
    def link_header(self) -> str:
        return ", ".join(f'<{self.link}>; rel="{rel}"; type="text/html"' for rel in ("deprecation", "sunset"))

    def headers(self) -> dict[str, str]:
        return {
            "Deprecation": self.deprecation_header,
            "Sunset": self.sunset_header,
            "Link": self.link_header,
        }

    def note(self) -> str:
        """One sentence for the docs: since when, until when, what to use instead."""
        text = (
            f"Deprecated since {self.since.date().isoformat()}; it may stop working after "
            f"{self.sunset.date().isoformat()}."
        )
        return f"{text} Use {self.use_instead} instead." if self.use_instead else text

    def extension(self) -> dict[str, str]:
        return {
            "since": self.since.isoformat().replace("+00:00", "Z"),
            "sunset": self.sunset.isoformat().replace("+00:00", "Z"),
            "use_instead": self.use_instead,
            "link": self.link,
        }

    @classmethod
    def from_extension(cls, data: dict[str, str]) -> Deprecation:
        return cls(
            datetime.fromisoformat(data["since"]),
            datetime.fromisoformat(data["sunset"]),
            data.get("use_instead", ""),
            data.get("link", DEFAULT_INFO_LINK),
        )


def deprecated_route(
    *, since: date | datetime, sunset: date | datetime, use_instead: str = "", link: str = DEFAULT_INFO_LINK
) -> dict[str, Any]:
    """Keyword arguments for a route decorator: `deprecated: true` and the dates, in the schema."""
    deprecation = Deprecation.of(since, sunset, use_instead, link)
    return {"deprecated": True, "openapi_extra": {EXTENSION: deprecation.extension()}}


def deprecated_field(
    *, since: date | datetime, sunset: date | datetime, use_instead: str = ""
) -> dict[str, Any]:
    """Keyword arguments for `pydantic.Field`: `deprecated: true` and the dates in the JSON schema.

    The schema is marked through `json_schema_extra` rather than `Field(deprecated=...)`, which also
    warns whenever our own code reads the attribute: the field must keep working, quietly, until
    its sunset."""
    deprecation = Deprecation.of(since, sunset, use_instead)
    return {
        "json_schema_extra": {"deprecated": True, EXTENSION: deprecation.extension()},
        "description": deprecation.note(),
    }


def route_deprecation(route: Any) -> Deprecation | None:
    extra = getattr(route, "openapi_extra", None) or {}
    data = extra.get(EXTENSION)
    return Deprecation.from_extension(data) if isinstance(data, dict) else None


class DeprecationHeaders:
    """Adds the deprecation headers to every answer of a deprecated route, errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                deprecation = route_deprecation(scope.get("route"))  # set once the router matched
                if deprecation is not None:
                    headers = MutableHeaders(scope=message)
                    for name, value in deprecation.headers().items():
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


_HEADER_DOCS = {
    "Deprecation": "RFC 9745: when this operation was deprecated, `@<unix seconds>`.",
    "Sunset": "RFC 8594: the HTTP-date after which it may stop answering.",
    "Link": 'Where the deprecation is explained: `rel="deprecation"` and `rel="sunset"`.',
}


def _document(operation: dict[str, Any]) -> None:
    data = operation.get(EXTENSION)
    if not isinstance(data, dict):
        return
    deprecation = Deprecation.from_extension(data)
    operation["description"] = (deprecation.note() + "\n\n" + operation.get("description", "")).strip()
    for response in operation.get("responses", {}).values():
        headers = response.setdefault("headers", {})
        for name, text in _HEADER_DOCS.items():
            headers[name] = {"description": text, "schema": {"type": "string"}}


def install_deprecations(app: Any) -> None:
    """The headers on every deprecated route's answers, and their notes in the OpenAPI schema."""
    app.add_middleware(DeprecationHeaders)
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            cached: dict[str, Any] = app.openapi_schema
            return cached
        schema = build()
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                if isinstance(operation, dict):
                    _document(operation)
        return schema

    app.openapi = openapi
