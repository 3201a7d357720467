"""Read the effective settings of a store; change one section at the tenant or a store level.

Every change bumps that level's version, so the effective version (tenant + store) only grows and
a device's cached ETag stops matching on the next fetch.
"""

from __future__ import annotations

import base64
from typing import Any

import pydantic

from boxoffice.access.principal import ALL_STORES, Principal
from boxoffice.audit import service as audit
from boxoffice.core.db import Document
from boxoffice.core.deps import Deps
from boxoffice.core.errors import PermissionDenied, ValidationFailed
from boxoffice.core.repository import Scope
from boxoffice.settings.receipt import WIDTH_CHARS, ReceiptData, render, to_escpos
from boxoffice.settings.repository import TENANT_LEVEL, SettingsRepository
from boxoffice.settings.rules import etag_of, resolve
from boxoffice.settings.schemas import validate_section


async def _level(deps: Deps, tenant_id: str, store_id: str) -> tuple[int, dict[str, Any]]:
    doc = await SettingsRepository(deps.db, Scope(tenant_id)).find_one({"store_id": store_id})
    if doc is None:
        return 0, {}
    return int(doc.get("version", 0)), dict(doc.get("values") or {})


async def effective(deps: Deps, tenant_id: str, store_id: str | None) -> dict[str, Any]:
    """The caller must already have checked that it may see `store_id` (None: tenant defaults)."""
    tenant_version, tenant_values = await _level(deps, tenant_id, TENANT_LEVEL)
    store_version, store_values = await _level(deps, tenant_id, store_id) if store_id else (0, {})
    values, sources = resolve(tenant_values, store_values)
    version = tenant_version + store_version
    return {
        "store_id": store_id,
        "version": version,
        "etag": etag_of(version, values),
        "values": values,
        "sources": sources,
    }


async def level(deps: Deps, tenant_id: str, store_id: str | None) -> dict[str, Any]:
    version, values = await _level(deps, tenant_id, store_id or TENANT_LEVEL)
    return {
        "store_id": store_id,
        "version": version,
        "values": {k: v for k, v in values.items() if v is not None},
    }


#: Access zones tag packages, so catalog editors may change them too.
WRITERS: dict[str, tuple[str, ...]] = {"zones": ("settings_write", "catalog_write")}


def _require_write(principal: Principal, section: str, store_id: str | None) -> None:
    permissions = WRITERS.get(section, ("settings_write",))
    held = (
        principal.grants.get(ALL_STORES, frozenset())
        if store_id is None
        else principal.permissions_at(store_id)
    )
    if not any(p in held for p in permissions):
        where = "every store (tenant defaults)" if store_id is None else "this store"
        raise PermissionDenied(f"Changing {section} needs {' or '.join(permissions)} at {where}.")


async def put_section(
    deps: Deps, principal: Principal, section: str, store_id: str | None, value: Any
) -> dict[str, Any]:
    _require_write(principal, section, store_id)
    try:
        clean = validate_section(section, value)
    except pydantic.ValidationError as exc:
        details = [{"loc": ["body", *map(str, e["loc"])], "msg": e["msg"]} for e in exc.errors()]
        raise ValidationFailed(f"The {section} settings are not valid.", details=details) from exc
    return await _write(deps, principal, section, store_id, clean)


async def clear_override(deps: Deps, principal: Principal, section: str, store_id: str) -> dict[str, Any]:
    """Back to the tenant default (stored as None: filters and updates never rely on $unset)."""
    _require_write(principal, section, store_id)
    return await _write(deps, principal, section, store_id, None)


async def _write(
    deps: Deps, principal: Principal, section: str, store_id: str | None, value: Any
) -> dict[str, Any]:
    level_id = store_id or TENANT_LEVEL
    _, before_values = await _level(deps, principal.tenant_id, level_id)
    repo = SettingsRepository(deps.db, Scope(principal.tenant_id))
    await repo.update_one(
        {"store_id": level_id},
        {
            "$set": {
                f"values.{section}": value,
                "updated_at": deps.clock.now(),
                "updated_by": principal.actor_id,
            },
            "$inc": {"version": 1},
        },
        upsert=True,
    )
    await audit.record(
        deps,
        principal,
        "settings.changed",
        {
            "section": section,
            "level": store_id or "tenant",
            "before": before_values.get(section),
            "after": value,
        },
        store_id=store_id,
    )
    return await level(deps, principal.tenant_id, store_id)


def print_receipt(
    store: Document, receipt: dict[str, Any], data: ReceiptData, paper_width: int | None
) -> dict[str, Any]:
    """A receipt as the store's printer prints it: text and ESC/POS bytes (base64), at the paper
    width asked for (58 or 80 mm) or the `receipt` setting's."""
    if paper_width not in (None, 58, 80):
        raise ValidationFailed(
            "paper_width is 58 or 80.", details=[{"loc": ["query", "paper_width"], "msg": "58 or 80"}]
        )
    width = paper_width or int(receipt["paper_width"])
    text = render(
        data,
        header=receipt["header"] or store.get("receipt_header", ""),
        footer=receipt["footer"] or store.get("receipt_footer", ""),
        paper_width=width,
        blocks=receipt["blocks"],
    )
    escpos = base64.b64encode(to_escpos(text)).decode()
    return {"paper_width": width, "width_chars": WIDTH_CHARS[width], "text": text, "escpos_base64": escpos}
