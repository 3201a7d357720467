"""The outermost layers of every request: request id, context, access log, metrics, last-resort 500;
and the body-size limit that refuses an oversized request before reading it."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boxoffice.config import Settings
from boxoffice.core.clock import Clock
from boxoffice.core.context import RequestContext, reset_context, set_context
from boxoffice.core.envelope import ErrorBody, envelope_body, error_response
from boxoffice.core.errors import Internal, PayloadTooLarge
from boxoffice.core.ids import new_id
from boxoffice.core.logging import get_logger
from boxoffice.core.metrics import Metrics

log = get_logger("boxoffice.http")

#: A caller's request id is kept only if it is short and plain, so it cannot forge log lines.
_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _route_label(scope: Scope) -> str:
    """The full route template (`/v1/tickets/{ticket_id}`), so label cardinality stays bounded.

    Included routers only know their own part of the template; the static prefix in front of it
    is recovered from the request path, segment by segment.
    """
    route: Any = scope.get("route")
    template = getattr(route, "path", None)
    if not isinstance(template, str):
        return "unmatched"
    if ":path}" in template:
        return template
    path_segments = scope["path"].rstrip("/").split("/")
    template_segments = template.rstrip("/").split("/")
    prefix = path_segments[: len(path_segments) - len(template_segments) + 1]
    return "/".join(prefix) + template if len(prefix) > 1 else template


class RequestMiddleware:
    def __init__(self, app: ASGIApp, *, clock: Clock, metrics: Metrics) -> None:
        self.app = app
        self.clock = clock
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("x-request-id", "")
        request_id = given if _REQUEST_ID_OK.match(given) else new_id()
        ctx = RequestContext(request_id=request_id)
        token = set_context(ctx)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                log.exception("unhandled_error", method=scope["method"], path=scope["path"])
                if not response_started:
                    err = Internal()
                    ctx.error_code = err.code
                    body = envelope_body(self.clock, error=ErrorBody(code=err.code, message=err.message))
                    await JSONResponse(body, status_code=err.status)(scope, receive, send_with_id)
            finally:
                seconds = time.perf_counter() - started
                self.metrics.observe(
                    route=_route_label(scope),
                    method=scope["method"],
                    status=status,
                    seconds=seconds,
                    error_code=ctx.error_code,
                )
                log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    route=_route_label(scope),
                    status=status,
                    duration_ms=round(seconds * 1000, 2),
                    error_code=ctx.error_code,
                    tenant_id=ctx.tenant_id,
                    device_id=ctx.device_id,
                    employee_id=ctx.employee_id,
                )
                reset_context(token)


@dataclass(frozen=True)
class BodyLimits:
    """The most a request body may hold: `default`, or the route's own allowance by (method, path)."""

    default: int
    routes: Mapping[tuple[str, str], int] = field(default_factory=dict)

    def for_request(self, method: str, path: str) -> int:
        return self.routes.get((method.upper(), path.rstrip("/") or "/"), self.default)


def document_body_limits(app: Any, limits: BodyLimits) -> None:
    """Every operation that takes a body documents its 413 in the OpenAPI schema, with its limit."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            cached: dict[str, Any] = app.openapi_schema
            return cached
        schema = build()
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                if not isinstance(operation, dict) or "requestBody" not in operation:
                    continue
                limit = limits.for_request(method, path)
                operation.setdefault("responses", {})["413"] = {
                    "description": f"E_PAYLOAD_TOO_LARGE: the body is over {limit} bytes",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}
                    },
                }
        return schema

    app.openapi = openapi


def body_limits(settings: Settings) -> BodyLimits:
    """Small by default; offline sync batches (up to 500 ops) get their own, larger allowance."""
    return BodyLimits(
        settings.body_limit_bytes,
        {("POST", "/v1/sync/batch"): max(settings.sync_body_limit_bytes, settings.body_limit_bytes)},
    )


class BodyLimitMiddleware:
    """413 `E_PAYLOAD_TOO_LARGE` before the body is read: a declared Content-Length over the limit is
    refused at once; a chunked body is counted as it streams in and cut off at the limit, so the
    server never holds more than the limit (plus one chunk) of it. The answer closes the connection:
    the unread rest of the body is never drained."""

    def __init__(self, app: ASGIApp, *, clock: Clock, limits: BodyLimits) -> None:
        self.app = app
        self.clock = clock
        self.limits = limits

    async def refuse(self, scope: Scope, send: Send, limit: int) -> None:
        err = PayloadTooLarge(
            f"The request body is larger than the {limit} bytes allowed here.",
            details={"limit_bytes": limit},
            headers={"Connection": "close"},
        )

        async def nothing() -> Message:  # the refusal never reads the body
            return {"type": "http.disconnect"}

        await error_response(self.clock, err)(scope, nothing, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_request(scope["method"], scope["path"])
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            await self.refuse(scope, send, limit)
            return
        received = 0
        exceeded = False
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise PayloadTooLarge()
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise PayloadTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if exceeded and not response_started:
                return  # whatever the app made of the cut-off body (a parse error), the answer is 413
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except PayloadTooLarge:
            if not exceeded:
                raise
        if exceeded and not response_started:
            await self.refuse(scope, send, limit)
