"""The outermost layer of every request: request id, context, access log, metrics, last-resort 500."""

from __future__ import annotations

import re
import time
from typing import Any

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boxoffice.core.clock import Clock
from boxoffice.core.context import RequestContext, reset_context, set_context
from boxoffice.core.envelope import ErrorBody, envelope_body
from boxoffice.core.errors import Internal
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
