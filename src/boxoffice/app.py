"""create_app(): the API's routers, middleware and lifespan in one place."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response
from starlette.middleware.gzip import GZipMiddleware

from boxoffice import __version__, health
from boxoffice.aftersale.refunds import sweep_stale_refunds
from boxoffice.aftersale.router import router as aftersale_router
from boxoffice.alerts.router import router as alerts_router
from boxoffice.audit.router import router as audit_router
from boxoffice.catalog.router import router as catalog_router
from boxoffice.config import Settings
from boxoffice.core.clock import Clock, SystemClock
from boxoffice.core.db import Database
from boxoffice.core.deps import Deps
from boxoffice.core.envelope import install_error_handlers
from boxoffice.core.logging import get_logger
from boxoffice.core.metrics import Metrics
from boxoffice.core.middleware import (
    BodyLimitMiddleware,
    RequestMiddleware,
    body_limits,
    document_body_limits,
)
from boxoffice.core.query import reject_repeated_query_params
from boxoffice.offline.router import router as offline_router
from boxoffice.sales.router import router as sales_router
from boxoffice.sales.service import sweep_stale_sales
from boxoffice.sales.shifts import sweep_unfinished_closes
from boxoffice.settings.router import router as settings_router
from boxoffice.staff.router import router as staff_router
from boxoffice.tenancy.router import router as tenancy_router
from boxoffice.tickets.keys import KeyCache
from boxoffice.tickets.redeem import RulesCache
from boxoffice.tickets.router import router as tickets_router
from boxoffice.webhooks.router import router as webhooks_router
from boxoffice.webhooks.worker import Worker, run_forever

log = get_logger(__name__)


SWEEP_SECONDS = 30.0


async def _sweeper(deps: Deps) -> None:
    """Finish half-done sales and refunds whose requester died; every replica runs one, leases keep
    them apart."""
    while True:
        await asyncio.sleep(SWEEP_SECONDS)
        try:
            finished = await sweep_stale_sales(deps)
            if finished:
                log.info("stale_sales_finished", count=finished)
            closed = await sweep_unfinished_closes(deps)
            if closed:
                log.info("unfinished_closes_finished", count=closed)
            refunded = await sweep_stale_refunds(deps)
            if refunded:
                log.info("stale_refunds_finished", count=refunded)
        except Exception:  # the loop must outlive a bad pass (database down, one odd sale)
            log.exception("sweeper_failed")


def create_app(
    settings: Settings, *, clock: Clock | None = None, db: Database | None = None, background: bool = True
) -> FastAPI:
    """Build the API. A database handed in is used as is (tests); otherwise one is opened.
    `background=False` leaves out the sweeper and the webhook worker, for tests that drive them."""
    clock = clock or SystemClock()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_db = db is None
        database = db or Database(settings.mongo_uri, settings.mongo_db, timeout_ms=settings.mongo_timeout_ms)
        app.state.db = database
        app.state.qr_keys = KeyCache(database, settings)
        app.state.gate_rules = RulesCache()
        if not database.indexes_ready:
            await database.try_ensure_indexes()
        log.info("api_started", version=__version__, environment=settings.environment)
        deps = Deps(database, clock, settings)
        app.state.webhook_http = httpx.AsyncClient(follow_redirects=False)
        app.state.webhook_worker = Worker(deps, app.state.webhook_http, metrics)
        tasks = (
            [
                asyncio.create_task(_sweeper(deps)),
                asyncio.create_task(run_forever(app.state.webhook_worker)),
            ]
            if background
            else []
        )
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await app.state.webhook_http.aclose()
            if own_db:
                await database.close()

    app = FastAPI(
        title="BoxOffice API",
        version=__version__,
        summary="Sell and redeem tickets at attraction venues.",
        openapi_url="/v1/openapi.json",
        docs_url="/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.metrics = metrics
    install_error_handlers(app)
    app.add_middleware(GZipMiddleware, minimum_size=16_384)  # bootstraps and long lists, for gates on 3G
    limits = body_limits(settings)
    app.add_middleware(BodyLimitMiddleware, clock=clock, limits=limits)  # 413 before the body is read
    document_body_limits(app, limits)
    app.add_middleware(RequestMiddleware, clock=clock, metrics=metrics)

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(reject_repeated_query_params)])
    v1.include_router(health.router)
    v1.include_router(tenancy_router)
    v1.include_router(staff_router)
    v1.include_router(audit_router)
    v1.include_router(catalog_router)
    v1.include_router(settings_router)
    v1.include_router(sales_router)
    v1.include_router(tickets_router)
    v1.include_router(aftersale_router)
    v1.include_router(offline_router)
    v1.include_router(webhooks_router)
    v1.include_router(alerts_router)
    app.include_router(v1)
    app.add_api_route("/health", health.liveness, methods=["GET"], include_in_schema=False)

    @app.get("/metrics", include_in_schema=False, dependencies=[Depends(health.metrics_scraper)])
    async def prometheus_metrics(request: Request) -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return app
