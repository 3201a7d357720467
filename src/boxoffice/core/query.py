"""Query-string rules shared by every router: instants with a zone, and no silently repeated parameters."""

from __future__ import annotations

import types
import typing
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from fastapi import Request

from boxoffice.core.errors import ValidationFailed


def _query_fields(dependant: Any) -> Iterator[Any]:
    yield from dependant.query_params
    for sub in dependant.dependencies:
        yield from _query_fields(sub)


def _takes_many(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_takes_many(arg) for arg in typing.get_args(annotation))
    return origin in (list, tuple, set, frozenset)


async def reject_repeated_query_params(request: Request) -> None:
    counts = Counter(key for key, _ in request.query_params.multi_items())
    repeated = {key for key, count in counts.items() if count > 1}
    if not repeated:
        return
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    many = (
        {f.alias for f in _query_fields(dependant) if _takes_many(f.field_info.annotation)}
        if dependant
        else set()
    )
    single = sorted(repeated - many)
    if single:
        raise ValidationFailed(
            f"Give {', '.join(single)} once.",
            details=[{"loc": ["query", key], "msg": "given more than once"} for key in single],
        )


DATE_TIME: dict[str, Any] = {"json_schema_extra": {"format": "date-time"}, "max_length": 40}


def parse_instant(name: str, value: str | None) -> datetime | None:
    """ISO-8601 with a zone only: a bare number or a zone-less time is refused, not guessed."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None or "T" not in value.upper():
        raise ValidationFailed(
            f"{name} must be a date-time with a zone, e.g. 2026-11-26T00:00:00Z.",
            details=[{"loc": ["query", name], "msg": "not an ISO-8601 date-time with a zone"}],
        )
    return parsed


def whole_seconds(first: datetime | None, end: datetime | None) -> tuple[datetime | None, datetime | None]:
    """[first, end) widened to whole seconds: the embedded server compares stored instants to the
    second (a bound of 10:00:00.600 is read as 10:00:00, so `$lt` it would drop the whole second;
    tests/conformance pins this), so bounds are widened to the seconds they fall in, the same on
    every server."""
    floor = first.replace(microsecond=0) if first else None
    ceil = end.replace(microsecond=0) + timedelta(seconds=1) if end and end.microsecond else end
    return floor, ceil


def list_filters(time_field: str, from_: str | None, to: str | None, **equals: str | None) -> dict[str, Any]:
    """A list's query: `time_field` in [from, to), widened to whole seconds, and each equality
    given (None: not filtered)."""
    query: dict[str, Any] = {field: value for field, value in equals.items() if value is not None}
    first, end = whole_seconds(parse_instant("from", from_), parse_instant("to", to))
    span = {op: at for op, at in (("$gte", first), ("$lt", end)) if at is not None}
    if span:
        query[time_field] = span
    return query
