"""Prometheus metrics: requests by route and status, errors by code, latency histograms."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

#: Buckets in seconds, dense below 250 ms where the hot paths live, so p50/p95 are readable.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class Metrics:
    """One registry per app, so two apps in one process (tests) never share counts."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "boxoffice_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "boxoffice_http_errors",
            "Error responses by error code.",
            ["code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "boxoffice_http_request_duration_seconds",
            "Request latency by route template and method.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

        self.webhook_deliveries = Counter(
            "boxoffice_webhook_deliveries",
            "Webhook delivery attempts by outcome (delivered, retrying, dead).",
            ["outcome"],
            registry=self.registry,
        )
        self.webhook_latency = Histogram(
            "boxoffice_webhook_delivery_duration_seconds",
            "How long receivers take to answer a delivery.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.webhook_queue_depth = Gauge(
            "boxoffice_webhook_queue_depth",
            "Deliveries waiting to be sent (due now or later).",
            registry=self.registry,
        )

    def observe(
        self, *, route: str, method: str, status: int, seconds: float, error_code: str | None
    ) -> None:
        self.requests.labels(route=route, method=method, status=str(status)).inc()
        self.latency.labels(route=route, method=method).observe(seconds)
        if error_code:
            self.errors.labels(code=error_code).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
