"""What every service call needs from the app: database, clock and settings, in one small object."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, get_type_hints

from fastapi import Depends, Request

from boxoffice.config import Settings
from boxoffice.core.clock import Clock
from boxoffice.core.db import Database


@dataclass(frozen=True)
class Deps:
    db: Database
    clock: Clock
    settings: Settings


async def get_deps(request: Request) -> Deps:
    """`async`: a plain function dependency would run in the thread pool, a hop per request."""
    return Deps(request.app.state.db, request.app.state.clock, request.app.state.settings)


def client_ip(request: Request) -> str | None:
    """The peer address, as the server settled it: uvicorn replaces it with X-Forwarded-For only when
    the peer is in FORWARDED_ALLOW_IPS (the admin service; see cli.api_server_config). Never read a
    forwarding header here: any caller can send one."""
    return request.client.host if request.client else None


AppDeps = Annotated[Deps, Depends(get_deps)]

T = TypeVar("T")


def built_in_loop(cls: type[T]) -> Callable[..., Awaitable[T]]:
    """A class whose __init__ parameters are request parameters, as an `async` dependency: FastAPI
    runs a class given to Depends, like any plain callable, in the thread pool (a hop per request).
    Same parameters, so the same OpenAPI schema."""

    async def build(**params: Any) -> T:
        return cls(**params)

    hints = get_type_hints(cls.__init__, include_extras=True)
    signature = inspect.signature(cls)
    parameters = [
        p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()
    ]
    build.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=parameters, return_annotation=cls
    )
    build.__name__ = build.__qualname__ = cls.__name__
    return build
