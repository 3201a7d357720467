"""The admin web service: the built SPA from `admin-ui/dist`, and `/v1/*` proxied to the API.

The browser's session lives here (httpOnly cookie); the SPA never holds a bearer token. Every
answer carries the security headers; paths that would climb out of `/v1/` are refused before
routing; bodies are limited as in the API.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote, unquote

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boxoffice import __version__
from boxoffice.admin.session import (
    SESSION_COOKIE,
    SessionToken,
    clear_session,
    csrf_ok,
    ensure_csrf_cookie,
    over_https,
    session_token,
    set_session,
)
from boxoffice.config import Settings
from boxoffice.core.clock import Clock, SystemClock
from boxoffice.core.context import current_context
from boxoffice.core.envelope import ErrorBody, envelope_body, error_response, install_error_handlers
from boxoffice.core.errors import (
    AppError,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
    ValidationFailed,
)
from boxoffice.core.metrics import Metrics
from boxoffice.core.middleware import BodyLimitMiddleware, RequestMiddleware, body_limits

#: Hop-by-hop headers are about one connection and must not be forwarded (RFC 9110 §7.6.1).
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "date",
    "server",
}
#: Never forwarded from the browser: the session cookie is turned into a bearer token here.
DROP_FROM_BROWSER = {"cookie", "authorization", "x-csrf-token"}
#: Claims about the client's address or scheme: the API believes the admin's, so a browser's own
#: are dropped and the admin writes X-Forwarded-For / X-Forwarded-Proto from what it saw itself.
FORWARDING_HEADERS = {
    "forwarded",
    "x-real-ip",
    "x-client-ip",
    "true-client-ip",
    "cf-connecting-ip",
    "fastly-client-ip",
    "x-cluster-client-ip",
    "x-original-forwarded-for",
}

#: Self only. Mantine writes <style> elements at run time, hence 'unsafe-inline' for styles; no
#: script runs but the built bundle. `data:` images: the page's empty favicon (`data:,`).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
#: Sent only over https (a browser ignores it over http, and it must not pin a plain-http setup).
HSTS = "max-age=31536000"

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ENCODED_SEPARATOR = re.compile(r"%(2f|5c)", re.IGNORECASE)


def _fully_decoded(path: str) -> str:
    """Percent-decoding repeated until nothing changes: `%252e` is a dot to someone down the line."""
    for _ in range(5):
        decoded = unquote(path, errors="strict") if "%" in path else path
        if decoded == path:
            break
        path = decoded
    return path


def path_problem(path: str, raw_path: bytes | None) -> AppError | None:
    """Control characters are a bad request; dot segments, backslashes and (under /v1) encoded
    separators are paths that do not exist: nothing may climb out of `/v1/` or the build."""
    raw = raw_path.decode("latin-1") if raw_path else path
    try:
        views = (_fully_decoded(path), _fully_decoded(raw))
    except UnicodeDecodeError:
        return ValidationFailed("The path is not valid UTF-8.")
    for view in views:
        if _CONTROL.search(view):
            return ValidationFailed("The path holds control characters.")
        if "\\" in view or any(segment in (".", "..") for segment in view.split("/")):
            return NotFound()
    if path.startswith("/v1/") and _ENCODED_SEPARATOR.search(raw):
        return NotFound()
    return None


class PathGuard:
    """Refuses, in the envelope, paths that could climb out of where they point (see path_problem)."""

    def __init__(self, app: ASGIApp, *, clock: Clock) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = path_problem(scope["path"], scope.get("raw_path"))
            if problem is not None:
                await error_response(self.clock, problem)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class SecurityHeaders:
    """On every answer, the SPA's and the proxied API's alike; HSTS only over https."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if https:
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await self.app(scope, receive, with_headers)


def _retry_after(upstream: httpx.Response) -> dict[str, str]:
    value = upstream.headers.get("retry-after")
    return {"Retry-After": value} if value else {}


def create_admin_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """`transport` lets tests route the proxy straight into an API app without a socket."""
    clock = clock or SystemClock()
    dist = settings.admin_dist.resolve()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(
            base_url=settings.api_url, transport=transport, timeout=httpx.Timeout(30.0, connect=3.0)
        ) as client:
            app.state.api = client
            yield

    app = FastAPI(
        title="BoxOffice admin",
        version=__version__,
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.clock = clock
    app.state.settings = settings
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, clock=clock, limits=body_limits(settings))
    app.add_middleware(PathGuard, clock=clock)
    app.add_middleware(RequestMiddleware, clock=clock, metrics=Metrics())
    app.add_middleware(SecurityHeaders)

    def forward_headers(request: Request) -> dict[str, str]:
        """The browser's headers minus hop-by-hop ones, credentials and any claim about where it is
        (X-Forwarded-*, Forwarded, X-Real-IP…): the API trusts this service's word on that alone."""
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() not in HOP_BY_HOP | DROP_FROM_BROWSER | FORWARDING_HEADERS
            and not k.lower().startswith("x-forwarded-")
        }
        headers["x-forwarded-for"] = request.client.host if request.client else ""
        headers["x-forwarded-proto"] = "https" if over_https(request) else "http"
        ctx = current_context()
        if ctx is not None:
            headers["x-request-id"] = ctx.request_id  # one id across both services' logs
        return headers

    def failure(err: AppError, status: int | None = None) -> JSONResponse:
        body = envelope_body(clock, error=ErrorBody(code=err.code, message=err.message))
        return JSONResponse(body, status_code=status or err.status, headers=err.headers)

    def relay(upstream: httpx.Response) -> JSONResponse:
        return JSONResponse(upstream.json(), status_code=upstream.status_code, headers=_retry_after(upstream))

    @app.get("/health")
    async def health() -> dict[str, object]:
        return envelope_body(
            clock, data={"status": "ok", "version": __version__, "spa": (dist / "index.html").exists()}
        )

    async def me(api: httpx.AsyncClient, token: str, headers: dict[str, str]) -> httpx.Response:
        return await api.get("/v1/employees/me", headers={**headers, "authorization": f"Bearer {token}"})

    def session_view(me_body: dict[str, Any]) -> dict[str, Any]:
        data = me_body["data"]
        keys = ("employee_id", "name", "email", "tenant_id", "store_ids", "permissions", "grants")
        return envelope_body(clock, data={k: data[k] for k in keys})

    @app.get("/session")
    async def get_session(request: Request) -> Response:
        api: httpx.AsyncClient = request.app.state.api
        headers = forward_headers(request)
        try:
            current = await session_token(request, api, clock, headers)
            answer = await me(api, current.token, headers) if current.token else None
        except httpx.TransportError:
            return failure(Unavailable("The API is unreachable; retry shortly."))
        if answer is None or answer.status_code == 401:
            response = failure(Unauthenticated("Not signed in."))
            clear_session(request, response)
        elif answer.status_code != 200:
            response = relay(answer)
        else:
            response = JSONResponse(session_view(answer.json()))
            if current.refreshed and current.token:
                set_session(request, response, current.token)
        ensure_csrf_cookie(request, response)
        return response

    @app.post("/session/login")
    async def login(request: Request) -> Response:
        if not csrf_ok(request):
            return failure(PermissionDenied("Reload the page and try again (missing CSRF token)."))
        try:
            body = await request.json()
            credentials = {"email": str(body["email"]), "password": str(body["password"])}
        except (ValueError, KeyError, TypeError):
            return failure(ValidationFailed("Give an email and a password."))
        api: httpx.AsyncClient = request.app.state.api
        headers = forward_headers(request)
        try:
            answer = await api.post("/v1/employees/login", json=credentials, headers=headers)
            if answer.status_code != 200:
                return relay(answer)
            token = str(answer.json()["data"]["access_token"])
            profile = await me(api, token, headers)
        except httpx.TransportError:
            return failure(Unavailable("The API is unreachable; retry shortly."))
        response = JSONResponse(session_view(profile.json()))
        set_session(request, response, token)
        return response

    @app.post("/session/logout")
    async def logout(request: Request) -> Response:
        if not csrf_ok(request):
            return failure(PermissionDenied("Reload the page and try again (missing CSRF token)."))
        response = JSONResponse(envelope_body(clock, data={"signed_out": True}))
        clear_session(request, response)
        return response

    @app.api_route("/v1/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def proxy(path: str, request: Request) -> Response:
        api: httpx.AsyncClient = request.app.state.api
        headers = forward_headers(request)
        current = SessionToken(None)
        if "authorization" not in request.headers and request.cookies.get(SESSION_COOKIE):
            if not csrf_ok(request):
                return failure(PermissionDenied("Reload the page and try again (missing CSRF token)."))
            try:
                current = await session_token(request, api, clock, headers)
            except httpx.TransportError:
                return failure(Unavailable("The API is unreachable; retry shortly."))
            if current.token is None:
                ended = failure(Unauthenticated("Your session has ended; sign in again."))
                clear_session(request, ended)
                return ended
            headers["authorization"] = f"Bearer {current.token}"
        elif "authorization" in request.headers:
            headers["authorization"] = request.headers["authorization"]
        # The path as the browser sent it (still percent-encoded), already checked by PathGuard: never
        # re-joined from decoded parts, which httpx would normalise (`/v1/../metrics` → `/metrics`).
        raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
        upstream_path = quote(raw_path, safe="/%:@!$&'()*+,;=-._~")
        if not upstream_path.startswith("/v1/"):
            return failure(NotFound())
        upstream_request = api.build_request(
            request.method,
            upstream_path,
            params=httpx.QueryParams(request.url.query),
            headers=headers,
            content=await request.body(),
        )
        try:
            upstream = await api.send(upstream_request, stream=True)
        except httpx.TransportError:
            return failure(Unavailable("The API is unreachable; retry shortly."))
        out_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
        response = StreamingResponse(
            upstream.aiter_raw(),
            status_code=upstream.status_code,
            headers=out_headers,
            background=BackgroundTask(upstream.aclose),
        )
        if current.refreshed and current.token:
            set_session(request, response, current.token)
        return response

    @app.get("/{path:path}", include_in_schema=False)
    async def spa(path: str, request: Request) -> Response:
        """Files from the build; any other path is a client-side route and gets index.html."""
        candidate = (dist / path).resolve()  # PathGuard has refused NUL bytes and dot segments
        if path and candidate.is_file() and candidate.is_relative_to(dist):
            return FileResponse(candidate)
        index = dist / "index.html"
        if not index.exists():
            return Response(
                "The admin app is not built yet: run `make run` (or `npm run build` in admin-ui).",
                status_code=503,
                media_type="text/plain",
            )
        response = FileResponse(index, headers={"Cache-Control": "no-cache"})
        ensure_csrf_cookie(request, response)
        return response

    return app
