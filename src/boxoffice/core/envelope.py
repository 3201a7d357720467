"""The response envelope every endpoint answers with, success or failure."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Generic, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel
from pymongo.errors import ConnectionFailure
from starlette.exceptions import HTTPException as StarletteHTTPException

from boxoffice.core.clock import Clock, isoformat_z
from boxoffice.core.context import current_context
from boxoffice.core.errors import (
    AppError,
    Conflict,
    ErrorCode,
    Internal,
    MethodNotAllowed,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
    ValidationFailed,
)

T = TypeVar("T")


class ErrorBody(BaseModel):
    code: ErrorCode
    message: str
    details: Any | None = None


class Envelope(BaseModel, Generic[T]):
    server_time: str
    request_id: str
    data: T | None = None
    error: ErrorBody | None = None


class ErrorEnvelope(BaseModel):
    """The failure shape, for OpenAPI `responses=` declarations."""

    server_time: str
    request_id: str
    data: None = None
    error: ErrorBody


def _request_id() -> str:
    ctx = current_context()
    return ctx.request_id if ctx else ""


def envelope_body(clock: Clock, *, data: Any = None, error: ErrorBody | None = None) -> dict[str, Any]:
    return {
        "server_time": isoformat_z(clock.now()),
        "request_id": _request_id(),
        "data": data,
        "error": error.model_dump(exclude_none=True) if error else None,
    }


def ok(request: Request, data: Any) -> dict[str, Any]:
    """Wrap a success payload; routers return this from handlers typed `Envelope[T]`."""
    clock: Clock = request.app.state.clock
    return envelope_body(clock, data=data)


def error_response(clock: Clock, err: AppError) -> JSONResponse:
    ctx = current_context()
    if ctx is not None:
        ctx.error_code = err.code
    body = envelope_body(clock, error=ErrorBody(code=err.code, message=err.message, details=err.details))
    return JSONResponse(body, status_code=err.status, headers=err.headers)


_HTTP_STATUS_ERRORS: dict[int, type[AppError]] = {
    400: ValidationFailed,
    401: Unauthenticated,
    403: PermissionDenied,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
}


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Field paths and messages only: never echo the submitted values back."""
    return [
        {"loc": [str(part) for part in e.get("loc", ())], "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]


def _template_regex(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\{[^}:]+:path\}", ".+", template)
    pattern = re.sub(r"\{[^}]+\}", "[^/]+", pattern)
    return re.compile(f"^{pattern}$")


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Methods of the path's resource: a static route (`/devices/me`) wins over a template
    (`/devices/{device_id}`) that would also match it."""
    exact: set[str] = set()
    templated: set[str] = set()
    for context in iter_route_contexts(app.routes):
        template = context.path or ""
        if not context.methods or not getattr(context.original_route, "include_in_schema", True):
            continue  # guards such as "PUT /settings/effective is read-only" are not methods of the path
        if template == path:
            exact |= set(context.methods)
        elif "{" in template and _template_regex(template).match(path):
            templated |= set(context.methods)
    return sorted(exact or templated)


def install_error_handlers(app: FastAPI) -> None:
    """Map every failure kind the framework can raise onto the envelope."""

    def clock() -> Clock:
        c: Clock = app.state.clock
        return c

    async def on_app_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        return error_response(clock(), exc)

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(clock(), ValidationFailed(details=_validation_details(exc)))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 405:
            # Starlette names only the first matching route's methods; list every one of the path.
            exc.headers = {**(exc.headers or {}), "Allow": ", ".join(allowed_methods(app, request.url.path))}
        kind = _HTTP_STATUS_ERRORS.get(exc.status_code)
        if kind is None:
            err: AppError = Internal() if exc.status_code >= 500 else ValidationFailed()
        else:
            err = kind()
        response = error_response(clock(), err)
        response.status_code = exc.status_code
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    async def on_db_down(_: Request, exc: Exception) -> JSONResponse:
        return error_response(clock(), Unavailable(headers={"Retry-After": "2"}))

    app.add_exception_handler(AppError, on_app_error)
    app.add_exception_handler(ConnectionFailure, on_db_down)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


def content_etag(content: Any) -> str:
    """A weak ETag of JSON content: equal content, equal tag."""
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
    return f'W/"{digest[:24]}"'


def ok_or_not_modified(
    request: Request, response: Response, data: Any, etag: str
) -> Response | dict[str, Any]:
    """A conditional GET: 304 when the caller already holds this ETag, else the envelope with it."""
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    response.headers["ETag"] = etag
    return ok(request, data)
