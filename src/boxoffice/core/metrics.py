"""Prometheus metrics: requests by route and status, errors by code, latency histograms; and the
business: sales, tickets, redemptions, reprints, refunds, manual discounts (counted as their events
are written, core/writes.py and events/outbox.py: once per committed change, never for a retry's
duplicate), the offline backlog and open alerts (read when scraped)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

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
        # From the backup job's status document (ops/backup_watch.py); NaN until one has reported.
        self.backup_age = Gauge(
            "boxoffice_backup_age_seconds",
            "Seconds since the last good backup (since the backup job started, if it never made one).",
            registry=self.registry,
        )
        self.backup_age.set(math.nan)
        self.backup_last_success = Gauge(
            "boxoffice_backup_last_success_timestamp_seconds",
            "When the last good backup was taken (UNIX seconds).",
            registry=self.registry,
        )
        self.backup_last_success.set(math.nan)

        self._business()

    def _business(self) -> None:
        """Labels hold only small fixed sets (payment types, ticket types, scan results and reason
        codes, alert kinds): never an id, so a series per tenant or device cannot pile up."""
        r = self.registry
        self.sales = Counter(
            "boxoffice_sales", "Completed sales, by payment type.", ["payment_type"], registry=r
        )
        self.sales_satang = Counter(
            "boxoffice_sales_satang",
            "What completed sales came to (grand total, satang), by payment type.",
            ["payment_type"],
            registry=r,
        )
        self.tickets_issued = Counter(
            "boxoffice_tickets_issued", "Tickets issued, by ticket type.", ["type"], registry=r
        )
        self.redemptions = Counter(
            "boxoffice_redemptions",
            "Gate scans of a ticket: result (pass, fail), FAIL reason (none for a PASS), made offline.",
            ["result", "reason", "offline"],
            registry=r,
        )
        self.reprints = Counter("boxoffice_reprints", "Tickets reprinted.", registry=r)
        self.refunds = Counter("boxoffice_refunds", "Refunds made, by method.", ["method"], registry=r)
        self.refunds_satang = Counter(
            "boxoffice_refunds_satang", "Paid back by refunds (satang), by method.", ["method"], registry=r
        )
        self.manual_discounts = Counter(
            "boxoffice_manual_discounts", "Sales given a manual (approved) discount.", registry=r
        )
        self.manual_discounts_satang = Counter(
            "boxoffice_manual_discounts_satang", "Manual discounts given (satang).", registry=r
        )
        self.alerts_raised = Counter(
            "boxoffice_alerts_raised", "Alerts raised, by kind.", ["kind"], registry=r
        )
        self.offline_backlog_ops = Gauge(
            "boxoffice_offline_backlog_ops",
            "Ops devices said they still hold, not yet uploaded (as of each device's last upload).",
            registry=r,
        )
        self.offline_backlog_devices = Gauge(
            "boxoffice_offline_backlog_devices", "Devices holding ops not yet uploaded.", registry=r
        )
        self.alerts_open = Gauge(
            "boxoffice_alerts_open",
            "Alerts not resolved yet, by kind and status (open: nobody has acknowledged it yet).",
            ["kind", "status"],
            registry=r,
        )

    def count_events(self, events: Iterable[Mapping[str, Any]]) -> None:
        """Count what newly written outbox events say happened (each event is written once per
        change, so a retried request or a replayed sync op adds nothing)."""
        for event in events:
            counting = _COUNTERS.get(str(event.get("type")))
            if counting is not None:
                counting(self, event.get("data") or {})

    def set_backlog(self, ops: int, devices: int) -> None:
        self.offline_backlog_ops.set(ops)
        self.offline_backlog_devices.set(devices)

    def set_open_alerts(self, counts: Mapping[tuple[str, str], int]) -> None:
        """(kind, status) → count; kinds no longer open drop back to 0."""
        self.alerts_open.clear()
        for (kind, status), count in counts.items():
            self.alerts_open.labels(kind=_label(kind), status=_label(status)).set(count)

    def observe(
        self, *, route: str, method: str, status: int, seconds: float, error_code: str | None
    ) -> None:
        self.requests.labels(route=route, method=method, status=str(status)).inc()
        self.latency.labels(route=route, method=method).observe(seconds)
        if error_code:
            self.errors.labels(code=error_code).inc()

    def attach(self) -> Callable[[], None]:
        """Count the events this process writes from now on (an app's lifespan); answers the
        function that stops it."""
        _counting.append(self)

        def detach() -> None:
            if self in _counting:
                _counting.remove(self)

        return detach

    def render(self) -> bytes:
        return generate_latest(self.registry)


_LABEL = re.compile(r"^[a-z0-9_]{1,32}$")


def _label(value: Any) -> str:
    """A label value from a fixed set of codes; anything else is `other` (bounded cardinality)."""
    text = str(value or "none").lower()
    return text if _LABEL.match(text) else "other"


def _sale(metrics: Metrics, data: Mapping[str, Any]) -> None:
    sale = data.get("sale") or {}
    payment_type = _label(sale.get("payment_method"))
    metrics.sales.labels(payment_type=payment_type).inc()
    metrics.sales_satang.labels(payment_type=payment_type).inc(max(0, int(sale.get("grand_total") or 0)))
    manual = sum(
        int(discount.get("amount") or 0)
        for line in sale.get("lines") or []
        for discount in line.get("discounts") or []
        if discount.get("kind") == "manual"
    )
    if manual > 0:
        metrics.manual_discounts.inc()
        metrics.manual_discounts_satang.inc(manual)


def _ticket(metrics: Metrics, data: Mapping[str, Any]) -> None:
    metrics.tickets_issued.labels(type=_label((data.get("ticket") or {}).get("type"))).inc()


def _redemption(metrics: Metrics, data: Mapping[str, Any]) -> None:
    scan = data.get("redemption") or {}
    result = _label(scan.get("result"))
    reason = "none" if result == "pass" else _label(scan.get("reason") or "unknown")
    offline = "true" if data.get("offline") else "false"
    metrics.redemptions.labels(result=result, reason=reason, offline=offline).inc()


def _refund(metrics: Metrics, data: Mapping[str, Any]) -> None:
    refund = data.get("refund") or {}
    method = _label(refund.get("method"))
    metrics.refunds.labels(method=method).inc()
    metrics.refunds_satang.labels(method=method).inc(max(0, int(refund.get("amount") or 0)))


def _reprint(metrics: Metrics, _: Mapping[str, Any]) -> None:
    metrics.reprints.inc()


def _alert(metrics: Metrics, data: Mapping[str, Any]) -> None:
    metrics.alerts_raised.labels(kind=_label(data.get("kind"))).inc()


_COUNTERS: dict[str, Callable[[Metrics, Mapping[str, Any]], None]] = {
    "sale.created": _sale,
    "ticket.issued": _ticket,
    "ticket.redeemed.pass": _redemption,
    "ticket.redeemed.fail": _redemption,
    "refund.created": _refund,
    "reprint.created": _reprint,
    "alert.raised": _alert,
}

#: The apps of this process that count events as they are written (`Metrics.attach`).
_counting: list[Metrics] = []


def events_written(events: Iterable[Mapping[str, Any]]) -> None:
    """Outbox events this process has just stored (not ones a retry found already there)."""
    written = list(events)
    if written:
        for metrics in list(_counting):
            metrics.count_events(written)
