"""Resolving settings, pure: built-in defaults ← tenant defaults ← store overrides, per section."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from boxoffice.settings.schemas import SECTIONS, WEEKDAYS

DEFAULTS: dict[str, Any] = {
    "features": {
        "kiosk": True,
        "gate_binding": False,
        "multi_price": True,
        "webhooks": False,
        "require_open_shift": True,
    },
    "billing": {"plan": "standard", "renews_on": None, "seats": 5},
    "payment_types": [
        {"code": "cash", "name": "Cash", "enabled": True, "fee_bp": 0, "fee_satang": 0},
        {"code": "qr", "name": "Thai QR (PromptPay)", "enabled": True, "fee_bp": 0, "fee_satang": 0},
        {"code": "card", "name": "Card", "enabled": True, "fee_bp": 0, "fee_satang": 0},
        {"code": "other", "name": "Other", "enabled": False, "fee_bp": 0, "fee_satang": 0},
    ],
    "taxes": {
        "profiles": [
            {"tax_profile_id": "vat7", "name": "VAT 7% (included)", "rate_bp": 700, "inclusive": True}
        ],
        "default_profile_id": "vat7",
    },
    "receipt": {
        "header": "",
        "footer": "",
        "logo_ref": None,
        "paper_width": 80,
        "blocks": ["header", "items", "totals", "payment", "qr", "footer"],
    },
    "ticket_printers": {"profiles": [], "by_device": {}},
    "zones": [],
    "redemption": {"grace_seconds": 30, "max_offline_minutes": 240},
    "reasons": [
        {"code": "customer_request", "label": "Customer asked", "applies_to": ["refund"], "active": True},
        {"code": "wrong_item", "label": "Wrong item sold", "applies_to": ["refund"], "active": True},
        {"code": "closure", "label": "Attraction closed", "applies_to": ["refund"], "active": True},
        {"code": "printer_jam", "label": "Printer jammed", "applies_to": ["reprint"], "active": True},
        {"code": "lost_ticket", "label": "Ticket lost", "applies_to": ["reprint"], "active": True},
        {"code": "damaged", "label": "Ticket damaged", "applies_to": ["reprint"], "active": True},
    ],
    "refunds": {"partial_use": "pro_rata"},
    "reprints": {"daily_cap_per_device": 20, "daily_cap_per_staff": 10},
    "sales": {"max_tickets_per_sale": 100},
    "offline": {"clock_skew_seconds": 120, "pos_max_sales": 100, "pos_max_amount": 5_000_000},
    "shifts": {"cash_difference_alert": 10_000},
    "hours": {day: {"open": "00:00", "close": "24:00"} for day in WEEKDAYS},
    "fraud": {
        "z_threshold": 3.0,
        "floors": {
            "reprints": 3,
            "refunds": 3,
            "manual_discounts": 3,
            "approvals": 5,
            "duplicate_use": 5,
            "offline_conflicts": 2,
            "after_hours": 2,
        },
    },
}


def resolve(
    tenant_values: dict[str, Any], store_values: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Each section from the most specific level that sets it (a None means "not set here")."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for section in SECTIONS:
        if store_values.get(section) is not None:
            values[section], sources[section] = store_values[section], "store"
        elif tenant_values.get(section) is not None:
            values[section], sources[section] = tenant_values[section], "tenant"
        else:
            values[section], sources[section] = DEFAULTS[section], "default"
    return values, sources


def etag_of(version: int, values: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(values, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return f'W/"{version}-{digest[:16]}"'
