"""create_app(): the API's routers, middleware and lifespan in one place."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

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
from boxoffice.core import retention
from boxoffice.core.background import Background, Pass
from boxoffice.core.clock import Clock, SystemClock
from boxoffice.core.db import Database
from boxoffice.core.deps import Deps
from boxoffice.core.envelope import install_error_handlers
from boxoffice.core.lease import Lease, holder_id
from boxoffice.core.logging import get_logger
from boxoffice.core.metrics import Metrics
from boxoffice.core.middleware import (
    BodyLimitMiddleware,
    RequestMiddleware,
    body_limits,
    document_body_limits,
)
from boxoffice.core.query import reject_repeated_query_params
from boxoffice.events.outbox import on_emit
from boxoffice.offline.allowlist import AllowLists
from boxoffice.offline.router import router as offline_router
from boxoffice.reports import projection as report_projection
from boxoffice.reports.router import router as reports_router
from boxoffice.sales.router import router as sales_router
from boxoffice.sales.service import sweep_stale_sales
from boxoffice.sales.shifts import sweep_unfinished_closes
from boxoffice.settings.router import router as settings_router
from boxoffice.staff.router import router as staff_router
from boxoffice.tenancy.router import router as tenancy_router
from boxoffice.tickets.keys import KeyCache
from boxoffice.tickets.redeem import RulesCache
from boxoffice.tickets.router import router as tickets_router
from boxoffice.webhooks import worker as webhook_worker
from boxoffice.webhooks.router import router as webhooks_router
from boxoffice.webhooks.transport import webhook_client
from boxoffice.webhooks.worker import Worker

log = get_logger(__name__)


#: The sweeper's passes: 30 s apart, backing off to 5 minutes while there is nothing to finish.
SWEEP_FIRST_IDLE_SECONDS = 30.0
SWEEP_MOST_IDLE_SECONDS = 300.0


async def sweep(deps: Deps) -> Pass:
    """Finish half-done sales, closes and refunds whose requester died. Each work list is an
    indexed equality (only the in-flight few are read); each item is claimed before it is finished."""
    finished = await sweep_stale_sales(deps)
    if finished:
        log.info("stale_sales_finished", count=finished)
    closed = await sweep_unfinished_closes(deps)
    if closed:
        log.info("unfinished_closes_finished", count=closed)
    refunded = await sweep_stale_refunds(deps)
    if refunded:
        log.info("stale_refunds_finished", count=refunded)
    return Pass(busy=bool(finished or closed or refunded))


def background_loops(deps: Deps, worker: Worker, holder: str) -> list[Background]:
    """The API's background work, each on one replica at a time (a lease per loop)."""

    def lease(name: str) -> Lease:
        return Lease(deps.db, deps.clock, name, holder)

    return [
        Background(
            lease("webhook_worker"),
            worker.background_pass,
            first_idle=webhook_worker.FIRST_IDLE_SECONDS,
            most_idle=webhook_worker.MOST_IDLE_SECONDS,
            busy_pause=webhook_worker.BUSY_PAUSE_SECONDS,
            initial_delay=2.0,  # start-up checks the database first
        ),
        Background(
            lease("sweeper"),
            lambda: sweep(deps),
            first_idle=SWEEP_FIRST_IDLE_SECONDS,
            most_idle=SWEEP_MOST_IDLE_SECONDS,
            busy_pause=1.0,
            initial_delay=SWEEP_FIRST_IDLE_SECONDS,
        ),
        Background(
            lease("retention"),
            lambda: retention.run(deps.db, deps.clock),
            first_idle=retention.EVERY_SECONDS,
            most_idle=retention.EVERY_SECONDS,
            initial_delay=60.0,
        ),
        report_projection.background(deps, lease(report_projection.LOOP)),
    ]


def create_app(
    settings: Settings, *, clock: Clock | None = None, db: Database | None = None, background: bool = True
) -> FastAPI:
    """Build the API. A database handed in is used as is (tests); otherwise one is opened.
    `background=False` leaves out the background loops (webhook worker, sweeper, retention), for
    tests that drive them."""
    clock = clock or SystemClock()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_db = db is None
        database = db or Database(settings.mongo_uri, settings.mongo_db, timeout_ms=settings.mongo_timeout_ms)
        app.state.db = database
        app.state.qr_keys = KeyCache(database, settings)
        app.state.gate_rules = RulesCache()
        app.state.gate_lists = AllowLists()
        if not database.indexes_ready:
            await database.try_ensure_indexes()
        log.info("api_started", version=__version__, environment=settings.environment)
        deps = Deps(database, clock, settings)
        app.state.webhook_http = webhook_client(settings)
        app.state.webhook_worker = Worker(deps, app.state.webhook_http, metrics)
        loops = background_loops(deps, app.state.webhook_worker, holder_id()) if background else []
        app.state.background = loops
        stop_waking = on_emit(loops[0].wake) if loops else None  # this process's emits wake its worker
        tasks = [asyncio.create_task(loop.run_forever()) for loop in loops]
        try:
            yield
        finally:
            if stop_waking is not None:
                stop_waking()
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for loop in loops:
                await loop.stop()
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
    # bootstraps and long lists, for gates on 3G; level 6: ~3x faster than 9 on a gate's list, ~3% larger
    app.add_middleware(GZipMiddleware, minimum_size=16_384, compresslevel=6)
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
    v1.include_router(reports_router)
    app.include_router(v1)
    app.add_api_route("/health", health.liveness, methods=["GET"], include_in_schema=False)

    @app.get("/metrics", include_in_schema=False, dependencies=[Depends(health.metrics_scraper)])
    async def prometheus_metrics(request: Request) -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return app
