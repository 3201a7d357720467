"""`/metrics` counts requests by route template and status, errors by code, and latency."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from boxoffice.app import create_app
from boxoffice.config import Settings
from boxoffice.core.clock import FixedClock
from boxoffice.core.db import Database
from tests.helpers import error_code


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one Prometheus sample with exactly these labels (0 if absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line[len(name) : line.index("}") + 1]))
        if found == labels:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_metrics_count_requests_errors_and_latency(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        await client.get("/v1/health")
    await client.get("/v1/missing/thing")
    await client.get("/v1/missing/other")
    await client.delete("/v1/health")

    text = (await client.get("/metrics")).text

    ok = {"route": "/v1/health", "method": "GET", "status": "200"}
    assert sample(text, "boxoffice_http_requests_total", **ok) == 3
    assert sample(text, "boxoffice_http_requests_total", route="unmatched", method="GET", status="404") == 2
    assert sample(text, "boxoffice_http_errors_total", code="E_NOT_FOUND") == 2
    assert sample(text, "boxoffice_http_errors_total", code="E_METHOD_NOT_ALLOWED") == 1
    count = sample(text, "boxoffice_http_request_duration_seconds_count", route="/v1/health", method="GET")
    assert count == 3
    inf_bucket = sample(
        text, "boxoffice_http_request_duration_seconds_bucket", route="/v1/health", method="GET", le="+Inf"
    )
    assert inf_bucket == 3


async def test_metrics_are_per_app(client: httpx.AsyncClient) -> None:
    """A fresh app starts from zero: counts from other tests never leak in."""
    text = (await client.get("/metrics")).text
    assert sample(text, "boxoffice_http_requests_total", route="/v1/health", method="GET", status="200") == 0


TOKEN = "scrape-" + "t" * 40


@pytest.fixture
async def guarded(
    settings: Settings, clean_db: Database, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    application = create_app(
        replace(settings, metrics_token=TOKEN), clock=clock, db=clean_db, background=False
    )
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as c:
            yield c


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Authorization": f"Basic {TOKEN}"}],
)
async def test_with_a_token_metrics_need_it(guarded: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await guarded.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert error_code(response) == "E_UNAUTHENTICATED"
    assert response.headers["www-authenticate"] == "Bearer"
    assert "boxoffice_http_requests" not in response.text


async def test_prometheus_scrapes_with_the_bearer_token(guarded: httpx.AsyncClient) -> None:
    await guarded.get("/v1/health")
    response = await guarded.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert (
        response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    )  # the exposition format
    assert (
        sample(response.text, "boxoffice_http_requests_total", route="/v1/health", method="GET", status="200")
        == 1
    )
