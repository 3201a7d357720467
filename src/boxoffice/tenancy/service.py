"""Stores, site keys and the device lifecycle: register → (approve) → login → suspend/revoke/rotate.

Device state changes are conditional updates on the current status, so two admins clicking at
once cannot, say, reactivate a device that the other just revoked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from boxoffice.access.policy import DEFAULT_CAPS, DeviceType
from boxoffice.access.principal import Principal
from boxoffice.audit import service as audit
from boxoffice.core.db import Document
from boxoffice.core.deps import Deps
from boxoffice.core.errors import (
    ApprovalRequired,
    Conflict,
    DeviceRevoked,
    DeviceSuspended,
    NotFound,
    Unauthenticated,
)
from boxoffice.core.ids import new_id
from boxoffice.core.repository import Scope
from boxoffice.core.security import issue_access_token, new_secret_token, same_hash, sha256_hex
from boxoffice.events import outbox
from boxoffice.tenancy.repository import (
    DeviceRepository,
    SiteKeyRepository,
    StoreRepository,
    count_site_key_use_unscoped,
    device_by_id_unscoped,
    site_key_by_hash_unscoped,
)
from boxoffice.tenancy.schemas import CapsUpdate, DeviceRegister, SiteKeyCreate, StoreCreate, StoreUpdate

#: last_used_at is written at most this often per device, to keep the hot path free of writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_DUMMY_TOKEN_HASH = sha256_hex("no-such-device")


class DeviceCache:
    """Device documents as `authenticate_device` read them, kept DEVICE_CACHE_SECONDS (default 5)
    per API process, so a device's requests cost no device read. Status and token version are
    checked against the cached document on every request: a suspension, revocation or token
    rotation made through this process forgets the device at once (`forget`); one made through
    another replica applies here within the cache's lifetime."""

    MAX_ENTRIES = 10_000

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self.now = now
        self._entries: dict[tuple[str, str, str], tuple[float, Document]] = {}
        #: Bumped by `forget`: a read that began before a change made here is not cached after it.
        self._forgotten = 0

    def get(self, key: tuple[str, str, str]) -> Document | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self.now():
            self._entries.pop(key, None)
            return None
        return entry[1]

    def version(self) -> int:
        """Taken before reading a device, given to `put`."""
        return self._forgotten

    def put(self, key: tuple[str, str, str], device: Document, ttl: float, version: int) -> None:
        if version != self._forgotten:  # a change was made here meanwhile: this read may predate it
            return
        now = self.now()
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            if len(self._entries) >= self.MAX_ENTRIES:
                self._entries.clear()
        self._entries[key] = (now + ttl, device)

    def replace(self, key: tuple[str, str, str], device: Document) -> None:
        """The cached document as this process just changed it (same expiry)."""
        entry = self._entries.get(key)
        if entry is not None:
            self._entries[key] = (entry[0], device)

    def forget(self, deps: Deps, tenant_id: str, device_id: str) -> None:
        self._forgotten += 1
        self._entries.pop(_cache_key(deps, tenant_id, device_id), None)


#: This process's device cache.
devices_seen = DeviceCache()


def _cache_key(deps: Deps, tenant_id: str, device_id: str) -> tuple[str, str, str]:
    return (deps.db.db.name, tenant_id, device_id)


# ---- stores ---------------------------------------------------------------------------------


async def list_stores(deps: Deps, scope: Scope) -> list[Document]:
    return await StoreRepository(deps.db, scope).find_many(sort=[("name", 1)])


async def get_store(deps: Deps, scope: Scope, store_id: str) -> Document:
    return await StoreRepository(deps.db, scope).get({"store_id": store_id}, "Store")


async def create_store(deps: Deps, principal: Principal, body: StoreCreate) -> Document:
    store = {**body.model_dump(), "store_id": new_id(), "active": True, "created_at": deps.clock.now()}
    saved = await StoreRepository(deps.db, Scope(principal.tenant_id)).insert(store)
    details = {"name": saved["name"], **({"synthetic": True} if saved.get("synthetic") else {})}
    await audit.record(deps, principal, "store.created", details, store_id=saved["store_id"])
    return saved


async def update_store(
    deps: Deps, principal: Principal, scope: Scope, store_id: str, body: StoreUpdate
) -> Document:
    repo = StoreRepository(deps.db, scope)
    before = await repo.get({"store_id": store_id}, "Store")
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        return before
    after = await repo.find_one_and_update({"store_id": store_id}, {"$set": changes})
    if after is None:
        raise NotFound("Store not found.")
    await audit.record(
        deps,
        principal,
        "store.updated",
        {"before": {k: before.get(k) for k in changes}, "after": changes},
        store_id=store_id,
    )
    return after


# ---- site keys ------------------------------------------------------------------------------


async def create_site_key(
    deps: Deps, principal: Principal, scope: Scope, store_id: str, body: SiteKeyCreate
) -> tuple[Document, str]:
    """Returns the stored record and the key itself, which is never stored or shown again."""
    await get_store(deps, scope, store_id)
    now = deps.clock.now()
    key = new_secret_token("sk")
    record = {
        "site_key_id": new_id(),
        "store_id": store_id,
        "key_hash": sha256_hex(key),
        "label": body.label,
        "require_approval": body.require_approval,
        "expires_at": now + timedelta(hours=body.expires_in_hours),
        "revoked": False,
        "revoked_at": None,
        "created_at": now,
        "created_by": principal.actor_id,
        "uses": 0,
    }
    saved = await SiteKeyRepository(deps.db, scope).insert(record)
    await audit.record(
        deps,
        principal,
        "site_key.created",
        {"site_key_id": saved["site_key_id"], "require_approval": body.require_approval},
        store_id=store_id,
    )
    return saved, key


async def list_site_keys(deps: Deps, scope: Scope, store_id: str) -> list[Document]:
    await get_store(deps, scope, store_id)
    return await SiteKeyRepository(deps.db, scope).list_for_store(store_id)


async def revoke_site_key(deps: Deps, principal: Principal, scope: Scope, site_key_id: str) -> Document:
    repo = SiteKeyRepository(deps.db, scope)
    doc = await repo.find_one_and_update(
        {"site_key_id": site_key_id, "revoked": False},
        {"$set": {"revoked": True, "revoked_at": deps.clock.now()}},
    )
    if doc is None:
        return await repo.get({"site_key_id": site_key_id}, "Site key")  # already revoked: idempotent
    await audit.record(
        deps, principal, "site_key.revoked", {"site_key_id": site_key_id}, store_id=doc["store_id"]
    )
    return doc


# ---- device registration and login ------------------------------------------------------------


async def register_device(deps: Deps, body: DeviceRegister, ip: str | None) -> tuple[Document, str]:
    now = deps.clock.now()
    site_key = await site_key_by_hash_unscoped(deps.db, sha256_hex(body.site_key))
    if site_key is None or site_key.get("revoked_at") is not None or site_key["expires_at"] <= now:
        raise Unauthenticated("This site key is not valid or has expired; ask for a new one.")
    tenant_id = str(site_key["tenant_id"])
    store = await StoreRepository(deps.db, Scope(tenant_id)).find_one({"store_id": site_key["store_id"]})
    if store is None or not store.get("active", True):
        raise Unauthenticated("This site key's store is closed.")
    token = new_secret_token("dt")
    device_type: DeviceType = body.type
    device = {
        "device_id": new_id(),
        "store_id": store["store_id"],
        "type": device_type,
        "name": body.name,
        "status": "pending" if site_key["require_approval"] else "active",
        "registered_at": now,
        "registered_by": site_key["site_key_id"],
        "approved_at": None if site_key["require_approval"] else now,
        "approved_by": None,
        "suspended_at": None,
        "revoked_at": None,
        "device_token_hash": sha256_hex(token),
        "token_version": 1,
        "last_used_at": None,
        "last_ip": ip,
        "caps": dict(DEFAULT_CAPS[device_type]),
        "notes": "",
        "meta": body.meta,
    }
    saved = await DeviceRepository(deps.db, Scope(tenant_id)).insert(device)
    await count_site_key_use_unscoped(deps.db, tenant_id, site_key["site_key_id"])
    await audit.append(
        deps.db,
        deps.clock,
        tenant_id=tenant_id,
        store_id=saved["store_id"],
        device_id=saved["device_id"],
        ip=ip,
        event_type="device.registered",
        payload={
            "type": device_type,
            "name": body.name,
            "status": saved["status"],
            "site_key_id": site_key["site_key_id"],
        },
    )
    return saved, token


def _status_error(device: Document) -> Exception | None:
    status = device["status"]
    if status == "suspended":
        return DeviceSuspended()
    if status == "revoked":
        return DeviceRevoked()
    if status == "pending":
        return ApprovalRequired("This device is waiting for a manager to approve it in the admin.")
    return None


async def _audit_denied(deps: Deps, device: Document, ip: str | None, where: str) -> None:
    await audit.append(
        deps.db,
        deps.clock,
        tenant_id=device["tenant_id"],
        store_id=device["store_id"],
        device_id=device["device_id"],
        ip=ip,
        event_type="auth.device.denied",
        payload={"status": device["status"], "where": where},
    )


async def login_device(
    deps: Deps, device_id: str, token: str, ip: str | None, purpose: str = "session"
) -> tuple[Document, str, Any]:
    """`purpose="sync"`: a suspended device may still sign in to upload what it did before its
    suspension; that session reaches /v1/sync/batch only."""
    device = await device_by_id_unscoped(deps.db, device_id)
    if not same_hash(token, device["device_token_hash"] if device else _DUMMY_TOKEN_HASH) or device is None:
        if device is not None:
            await audit.append(
                deps.db,
                deps.clock,
                tenant_id=device["tenant_id"],
                store_id=device["store_id"],
                device_id=device_id,
                ip=ip,
                event_type="auth.device.login_failed",
                payload={"reason": "bad_token"},
            )
        raise Unauthenticated("Device id or token is wrong.")
    denial = _status_error(device)
    sync_only = purpose == "sync" and device["status"] == "suspended"
    if denial is not None and not sync_only:
        await _audit_denied(deps, device, ip, "login")
        raise denial
    now = deps.clock.now()
    claims: dict[str, Any] = {
        "typ": "device",
        "sub": device["device_id"],
        "tid": device["tenant_id"],
        "sid": device["store_id"],
        "dty": device["type"],
        "caps": device["caps"],
        "tv": device["token_version"],
    }
    if sync_only:
        claims["scp"] = "sync"
    access_token, expires_at = issue_access_token(deps.settings.jwt_secret, claims, now=now)
    updated = await DeviceRepository(deps.db, Scope(device["tenant_id"])).find_one_and_update(
        {"device_id": device_id}, {"$set": {"last_used_at": now, "last_ip": ip}}
    )
    devices_seen.forget(deps, device["tenant_id"], device_id)
    await audit.append(
        deps.db,
        deps.clock,
        tenant_id=device["tenant_id"],
        store_id=device["store_id"],
        device_id=device_id,
        ip=ip,
        event_type="auth.device.login",
        payload={"token_version": device["token_version"]},
    )
    return updated or device, access_token, expires_at


async def authenticate_device(
    deps: Deps,
    tenant_id: str,
    device_id: str,
    token_version: object,
    ip: str | None,
    allow_suspended: bool = False,
) -> Document:
    """Per request: the device must exist, be active (or, for uploading its offline work,
    suspended) and still be on the token version the session was issued for (rotation ends every
    older session). The device is read at most once per DEVICE_CACHE_SECONDS per process
    (`DeviceCache`), and its last_used_at (and last_ip) written at most once a minute, or when its
    address changes, by `_id`: a warm device's request costs no round trip here."""
    repo = DeviceRepository(deps.db, Scope(tenant_id))
    ttl = deps.settings.device_cache_seconds
    key = _cache_key(deps, tenant_id, device_id)
    device = devices_seen.get(key) if ttl > 0 else None
    if device is None:
        version = devices_seen.version()
        device = await repo.find_one({"device_id": device_id}, with_id=True)
        if device is None:
            raise Unauthenticated("This session is no longer valid; log in again.")
        if ttl > 0:
            devices_seen.put(key, device, ttl, version)
    denial = _status_error(device)
    if denial is not None and not (allow_suspended and device["status"] == "suspended"):
        await _audit_denied(deps, device, ip, "request")
        raise denial
    if device["token_version"] != token_version:
        raise Unauthenticated("This device's token was rotated; log in again.")
    now = deps.clock.now()
    last_used = device.get("last_used_at")
    if last_used is None or now - last_used >= LAST_USED_RESOLUTION or device.get("last_ip") != ip:
        await repo.update_one({"_id": device["_id"]}, {"$set": {"last_used_at": now, "last_ip": ip}})
        device = {**device, "last_used_at": now, "last_ip": ip}
        devices_seen.replace(key, device)
    return {k: v for k, v in device.items() if k != "_id"}


# ---- device administration --------------------------------------------------------------------

#: action → (statuses it may start from, the status it leaves, timestamp field it sets, audit event)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str, str | None, str]] = {
    "approve": (("pending",), "active", "approved_at", "device.approved"),
    "suspend": (("active",), "suspended", "suspended_at", "device.suspended"),
    "reactivate": (("suspended",), "active", None, "device.reactivated"),
    "revoke": (("pending", "active", "suspended"), "revoked", "revoked_at", "device.revoked"),
}


async def list_devices(deps: Deps, scope: Scope, filters: dict[str, str]) -> list[Document]:
    return await DeviceRepository(deps.db, scope).find_many(
        filters, sort=[("registered_at", -1)], projection={"_id": 0, "device_token_hash": 0}
    )


async def get_device(deps: Deps, scope: Scope, device_id: str) -> Document:
    return await DeviceRepository(deps.db, scope).get({"device_id": device_id}, "Device")


async def transition_device(
    deps: Deps, principal: Principal, scope: Scope, device_id: str, action: str, reason: str
) -> Document:
    allowed_from, target, stamp, event_type = TRANSITIONS[action]
    repo = DeviceRepository(deps.db, scope)
    changes: dict[str, Any] = {"status": target}
    if stamp:
        changes[stamp] = deps.clock.now()
    if action == "approve":
        changes["approved_by"] = principal.actor_id
    before = await repo.find_one_and_update(
        {"device_id": device_id, "status": {"$in": list(allowed_from)}}, {"$set": changes}, after=False
    )
    devices_seen.forget(deps, principal.tenant_id, device_id)  # suspended/revoked here: at once
    if before is None:
        current = await repo.get({"device_id": device_id}, "Device")
        if current["status"] == target:
            return current  # asked twice: the first request already did it
        raise Conflict(f"The device is {current['status']}; it cannot be changed to {target} from there.")
    await audit.record(
        deps,
        principal,
        event_type,
        {"from": before["status"], "to": target, "reason": reason},
        store_id=before["store_id"],
        device_id=device_id,
    )
    if action == "suspend":
        at = changes["suspended_at"]
        await outbox.emit_one(
            deps.db,
            principal.tenant_id,
            event_id=f"{device_id}.device.suspended.{int(at.timestamp() * 1000)}",
            type="device.suspended",
            store_id=before["store_id"],
            resource="device",
            resource_id=device_id,
            sequence=int(at.timestamp() * 1000),
            at=at,
            data={"device_id": device_id, "name": before["name"], "reason": reason},
        )
    return {**before, **changes}


async def rotate_device_token(
    deps: Deps, principal: Principal, scope: Scope, device_id: str
) -> tuple[Document, str]:
    token = new_secret_token("dt")
    updated = await DeviceRepository(deps.db, scope).find_one_and_update(
        {"device_id": device_id, "status": {"$ne": "revoked"}},
        {"$set": {"device_token_hash": sha256_hex(token)}, "$inc": {"token_version": 1}},
    )
    devices_seen.forget(deps, principal.tenant_id, device_id)
    if updated is None:
        current = await get_device(deps, scope, device_id)
        raise Conflict(f"The device is {current['status']}; its token cannot be rotated.")
    await audit.record(
        deps,
        principal,
        "device.token_rotated",
        {"token_version": updated["token_version"]},
        store_id=updated["store_id"],
        device_id=device_id,
    )
    return updated, token


async def update_device(
    deps: Deps,
    principal: Principal,
    scope: Scope,
    device_id: str,
    *,
    name: str | None,
    notes: str | None,
    caps: CapsUpdate | None,
    zones: list[str] | None = None,
    simulate_offline: bool | None = None,
) -> Document:
    repo = DeviceRepository(deps.db, scope)
    before = await repo.get({"device_id": device_id}, "Device")
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = name
    if notes is not None:
        changes["notes"] = notes
    if caps is not None:
        for cap, value in caps.model_dump(exclude_none=True).items():
            changes[f"caps.{cap}"] = value
    if zones is not None:
        changes["zones"] = sorted(set(zones))
    if simulate_offline is not None:
        changes["simulate_offline"] = simulate_offline
    if not changes:
        return before
    after = await repo.find_one_and_update({"device_id": device_id}, {"$set": changes})
    devices_seen.forget(deps, principal.tenant_id, device_id)  # caps, zones: the next request sees them
    if after is None:
        raise NotFound("Device not found.")
    await audit.record(
        deps,
        principal,
        "device.updated",
        {"changes": changes},
        store_id=after["store_id"],
        device_id=device_id,
    )
    return after
