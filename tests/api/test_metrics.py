"""`/metrics` counts requests by route template and status, errors by code, and latency."""

from __future__ import annotations

import re

import httpx


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
