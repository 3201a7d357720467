"""A query parameter that takes one value, given twice, is an error rather than a silent pick."""

from __future__ import annotations

import types
import typing
from collections import Counter
from collections.abc import Iterator
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
