"""The request context: set once per request, read by logs, metrics and repositories."""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass


@dataclass
class RequestContext:
    request_id: str
    tenant_id: str | None = None
    store_id: str | None = None
    device_id: str | None = None
    employee_id: str | None = None
    error_code: str | None = None


_current: ContextVar[RequestContext | None] = ContextVar("boxoffice_request", default=None)


def current_context() -> RequestContext | None:
    return _current.get()


def set_context(ctx: RequestContext | None) -> Token[RequestContext | None]:
    return _current.set(ctx)


def reset_context(token: Token[RequestContext | None]) -> None:
    _current.reset(token)
