"""Liveness (the process answers) and readiness (the database answers and is indexed); and who
may scrape `/metrics`."""

from __future__ import annotations

import hmac
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel
from pymongo.errors import ConnectionFailure, OperationFailure

from boxoffice import __version__
from boxoffice.config import Settings
from boxoffice.core.db import Database
from boxoffice.core.envelope import Envelope, ErrorEnvelope, ok
from boxoffice.core.errors import Unauthenticated, Unavailable


class Liveness(BaseModel):
    status: Literal["ok"]
    version: str


class Readiness(BaseModel):
    status: Literal["ready"]
    version: str
    db_latency_ms: float
    indexes: Literal["ok"]


router = APIRouter(tags=["health"])


@router.get("/health", response_model=Envelope[Liveness], summary="Liveness: the process is up")
async def liveness(request: Request) -> dict[str, object]:
    return ok(request, Liveness(status="ok", version=__version__).model_dump())


@router.get(
    "/health/ready",
    response_model=Envelope[Readiness],
    summary="Readiness: the database answers and every index is in place",
    responses={
        503: {"model": ErrorEnvelope, "description": "E_UNAVAILABLE: database down or indexes missing"}
    },
)
async def readiness(request: Request) -> dict[str, object]:
    db: Database = request.app.state.db
    try:
        latency_ms = await db.ping()
        if not db.indexes_ready:
            await db.ensure_indexes()
        missing = await db.missing_indexes()
    except (ConnectionFailure, OperationFailure) as exc:
        raise Unavailable(
            details={"db": "unreachable", "version": __version__}, headers={"Retry-After": "2"}
        ) from exc
    if missing:
        db.indexes_ready = False
        raise Unavailable(
            "Database indexes are missing.",
            details={"indexes": "missing", "missing": missing, "version": __version__},
            headers={"Retry-After": "2"},
        )
    body = Readiness(status="ready", version=__version__, db_latency_ms=round(latency_ms, 2), indexes="ok")
    return ok(request, body.model_dump())


async def metrics_scraper(request: Request) -> None:
    """With METRICS_TOKEN set (required outside development), `/metrics` answers only
    `Authorization: Bearer <token>` — what Prometheus sends with `authorization: {credentials_file}`."""
    settings: Settings = request.app.state.settings
    if not settings.metrics_token:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), settings.metrics_token.encode()
    ):
        raise Unauthenticated(
            "Scraping /metrics needs the metrics bearer token.", headers={"WWW-Authenticate": "Bearer"}
        )
