"""The admin web service: the built SPA from `admin-ui/dist`, and `/v1/*` proxied to the API.

Later the browser's session lives here too (httpOnly cookie); the SPA never holds a bearer token.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from boxoffice import __version__
from boxoffice.config import Settings
from boxoffice.core.clock import Clock, SystemClock
from boxoffice.core.context import current_context
from boxoffice.core.envelope import ErrorBody, envelope_body, install_error_handlers
from boxoffice.core.errors import Unavailable
from boxoffice.core.metrics import Metrics
from boxoffice.core.middleware import RequestMiddleware

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
    app.add_middleware(RequestMiddleware, clock=clock, metrics=Metrics())

    @app.get("/health")
    async def health() -> dict[str, object]:
        return envelope_body(
            clock, data={"status": "ok", "version": __version__, "spa": (dist / "index.html").exists()}
        )

    @app.api_route("/v1/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def proxy(path: str, request: Request) -> Response:
        client: httpx.AsyncClient = request.app.state.api
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["x-forwarded-for"] = request.client.host if request.client else ""
        ctx = current_context()
        if ctx is not None:
            headers["x-request-id"] = ctx.request_id  # one id across both services' logs
        upstream_request = client.build_request(
            request.method,
            f"/v1/{path}",
            params=httpx.QueryParams(request.url.query),
            headers=headers,
            content=await request.body(),
        )
        try:
            upstream = await client.send(upstream_request, stream=True)
        except httpx.TransportError:
            err = Unavailable("The API is unreachable; retry shortly.")
            return JSONResponse(
                envelope_body(clock, error=ErrorBody(code=err.code, message=err.message)),
                status_code=err.status,
            )
        out_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
        return StreamingResponse(
            upstream.aiter_raw(),
            status_code=upstream.status_code,
            headers=out_headers,
            background=BackgroundTask(upstream.aclose),
        )

    @app.get("/{path:path}", include_in_schema=False)
    async def spa(path: str) -> Response:
        """Files from the build; any other path is a client-side route and gets index.html."""
        candidate = (dist / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(dist):
            return FileResponse(candidate)
        index = dist / "index.html"
        if not index.exists():
            return Response(
                "The admin app is not built yet: run `make run` (or `npm run build` in admin-ui).",
                status_code=503,
                media_type="text/plain",
            )
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    return app
