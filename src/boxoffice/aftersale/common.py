"""Shared steps of refunds and reprints: the device's store, its settings, and reason codes."""

from __future__ import annotations

from typing import Any

from boxoffice.access.principal import Principal
from boxoffice.core.db import Document
from boxoffice.core.deps import Deps
from boxoffice.core.errors import PermissionDenied, ValidationFailed
from boxoffice.settings import service as settings


def device_of(principal: Principal) -> Document:
    if principal.device is None:
        raise PermissionDenied("Refunds and reprints are made on a POS.")
    return principal.device


async def store_settings(deps: Deps, principal: Principal, store_id: str) -> dict[str, Any]:
    values: dict[str, Any] = (await settings.effective(deps, principal.tenant_id, store_id))["values"]
    return values


def check_reason(values: dict[str, Any], use: str, code: str) -> None:
    """The code must be an active reason for this use in the store's `reasons` setting."""
    allowed = [r["code"] for r in values["reasons"] if r.get("active", True) and use in r["applies_to"]]
    if code not in allowed:
        raise ValidationFailed(
            f"Unknown {use} reason {code!r}.",
            details=[{"loc": ["body", "reason_code"], "msg": f"one of: {', '.join(allowed) or '(none)'}"}],
        )
