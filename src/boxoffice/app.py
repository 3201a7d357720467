"""create_app(): the API's routers, middleware and lifespan in one place."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response
from starlette.middleware.gzip import GZipMiddleware

from boxoffice import __version__, health
from boxoffice.aftersale.refunds import sweep_stale_refunds
from boxoffice.aftersale.router import router as aftersale_router
from boxoffice.alerts import checks as alert_checks
from boxoffice.alerts.router import router as alerts_router
from boxoffice.audit.router import router as audit_router
from boxoffice.catalog.router import router as catalog_router
from boxoffice.config import Settings
from boxoffice.contract.openapi import document_contract
from boxoffice.core import retention
from boxoffice.core.background import Background, Pass, bounded
from boxoffice.core.clock import Clock, SystemClock
from boxoffice.core.db import Database
from boxoffice.core.deprecation import install_deprecations
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
from boxoffice.dashboard import service as dashboard_service
from boxoffice.dashboard.router import router as dashboard_router
from boxoffice.events.outbox import on_emit
from boxoffice.fraud import service as fraud_watch
from boxoffice.fraud.router import router as fraud_router
from boxoffice.migrations import runner as migration_runner
from boxoffice.migrations.steps import STEPS as MIGRATION_STEPS
from boxoffice.offline.allowlist import AllowLists
from boxoffice.offline.router import router as offline_router
from boxoffice.ops import backup_watch
from boxoffice.ops import retention as daily_retention
from boxoffice.ops.settings import OpsSettings, load_ops_settings
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


def background_loops(
    deps: Deps, worker: Worker, holder: str, ops: OpsSettings | None = None
) -> list[Background]:
    """The API's background work, each on one replica at a time (a lease per loop)."""
    ops = ops or load_ops_settings()

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
        daily_retention.background(deps, lease(daily_retention.JOB), ops),  # audits, scans, summaries
        Background(
            lease("backup_watch"),  # the backup's age: the `backup_stale` alert
            lambda: backup_watch.watch(deps, ops),
            first_idle=backup_watch.EVERY_SECONDS,
            most_idle=backup_watch.EVERY_SECONDS,
            initial_delay=120.0,
        ),
        fraud_watch.background(deps, lease(fraud_watch.LOOP)),  # the Fraud Watch's daily check
        *alert_checks.background(deps, lease),  # unsynced ops; the nightly audit chain verify
    ]


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    db: Database | None = None,
    background: bool = True,
    ops: OpsSettings | None = None,
    migrate: bool | None = None,
) -> FastAPI:
    """Build the API. A database handed in is used as is (tests); otherwise one is opened.
    `background=False` leaves out the background loops (webhook worker, sweeper, retention), for
    tests that drive them. `migrate` (default: as `background`) runs the pending migration steps at
    start-up, on one replica while the others wait (migrations/runner.py). `ops`: the operations
    settings (retention, backups; default: from the environment)."""
    clock = clock or SystemClock()
    metrics = Metrics()
    ops = ops or load_ops_settings()
    migrate = background if migrate is None else migrate
    backup_gauges = backup_watch.BackupGauges(metrics, clock)

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
        holder = holder_id()
        retrying: asyncio.Task[None] | None = None
        if migrate:  # before serving; with the database away (no indexes either), in the background
            context = migration_runner.Context(deps, ops)
            ran = database.indexes_ready and await migration_runner.run_at_start(
                context, MIGRATION_STEPS, holder
            )
            if not ran:
                retrying = asyncio.create_task(migration_runner.keep_trying(context, MIGRATION_STEPS, holder))
        app.state.webhook_http = webhook_client(settings)
        app.state.webhook_worker = Worker(deps, app.state.webhook_http, metrics)
        loops = background_loops(deps, app.state.webhook_worker, holder, ops) if background else []
        app.state.background = loops
        stop_waking = on_emit(loops[0].wake) if loops else None  # this process's emits wake its worker
        stop_counting = metrics.attach()  # business counters count the events this process writes
        tasks = [asyncio.create_task(loop.run_forever()) for loop in loops]
        if retrying is not None:
            tasks.append(retrying)
        try:
            yield
        finally:
            stop_counting()
            if stop_waking is not None:
                stop_waking()
            for task in tasks:
                task.cancel()
            if tasks:
                await bounded(asyncio.gather(*tasks, return_exceptions=True), "background_tasks")
            for loop in loops:
                await loop.stop()
            await bounded(app.state.webhook_http.aclose(), "webhook_client")
            if own_db:
                await bounded(database.close(), "database_client")

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
    install_deprecations(app)  # Deprecation/Sunset headers on deprecated routes (docs/API_POLICY.md)
    document_contract(app)  # principals, headers, real statuses and recorded examples (docs/api/)
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
    v1.include_router(fraud_router)
    v1.include_router(dashboard_router)
    app.include_router(v1)
    app.add_api_route("/health", health.liveness, methods=["GET"], include_in_schema=False)

    @app.get("/metrics", include_in_schema=False, dependencies=[Depends(health.metrics_scraper)])
    async def prometheus_metrics(request: Request) -> Response:
        await backup_gauges.refresh(request.app.state.db)
        await dashboard_service.scrape_gauges(request.app.state.db, metrics)
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return app
