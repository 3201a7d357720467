"""The Fraud Watch report as the API gives it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from boxoffice.core.schemas import ReadModel

EntityKind = Literal["employee", "device"]
MetricName = Literal[
    "reprints",
    "refunds",
    "manual_discounts",
    "approvals",
    "duplicate_use",
    "offline_conflicts",
    "after_hours",
]


class FraudMetric(ReadModel):
    metric: MetricName
    count: int = Field(description="The day's count")
    amount: int | None = Field(
        description="Satang involved (refunded, discounted, approved, sold after hours)"
    )
    baseline_mean: float = Field(
        description="Mean daily count over the 28 local days before (zeros included)"
    )
    baseline_stdev: float = Field(description="Their standard deviation")
    z: float = Field(description="(count - mean) / max(stdev, 1)")
    peer_median: float | None = Field(
        description="Median count of the store's other employees, or other devices of the same type, "
        "active that day"
    )
    peers: int = Field(description="How many others that is")
    flagged: bool = Field(description="z ≥ the z_threshold setting and count ≥ the metric's floor")
    explanation: str | None = Field(description="Why it is flagged, in words (null when it is not)")
    drill_downs: list[str] = Field(
        description="API lists of the records behind the count (after-hours: one per part of the day "
        "outside opening hours)"
    )


class FraudEntity(ReadModel):
    entity: EntityKind
    entity_id: str
    name: str
    flagged: bool
    sales: int = Field(description="Sales that day (context for the counts)")
    sales_amount: int
    scans: int = Field(description="Gate scans that day (devices)")
    duplicate_use_offline: int = Field(description="Of the duplicate_use FAILs, those uploaded from offline")
    metrics: list[FraudMetric]


class FraudFlag(ReadModel):
    entity: EntityKind
    entity_id: str
    name: str
    metric: MetricName
    count: int
    z: float
    explanation: str
    drill_downs: list[str]
    alert_id: str | None = Field(description="The alert it raised (only once the day is over)")


class FraudStore(ReadModel):
    store_id: str
    store_name: str
    tz: str
    day: str = Field(description="The judged local day")
    closed: bool = Field(description="The day is over in the store's zone: its flags are raised as alerts")
    z_threshold: float
    floors: dict[str, int]
    entities: list[FraudEntity]
    flags: list[FraudFlag]


class FraudReport(ReadModel):
    stores: list[FraudStore]
