"""HTTP for gates and devices working offline: bootstrap, sync batches, and the incidents the
merge finds."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from boxoffice.access.dependencies import (
    auth_responses,
    check_device_route,
    device_route,
    staff_with,
    sync_principal,
)
from boxoffice.access.principal import Principal
from boxoffice.core.deps import AppDeps
from boxoffice.core.envelope import Envelope, ok
from boxoffice.core.errors import PermissionDenied
from boxoffice.core.pagination import Cursor, Limit, page_filter, page_of
from boxoffice.core.schemas import Page
from boxoffice.offline import bootstrap as gate_bootstrap
from boxoffice.offline import sync
from boxoffice.offline.allowlist import AllowLists
from boxoffice.offline.schemas import GateBootstrap, GateLayout, IncidentRead, SyncBatch, SyncResult
from boxoffice.tickets.keys import KeyCache
from boxoffice.tickets.repository import IncidentRepository

router = APIRouter()


@router.get(
    "/gate/bootstrap",
    tags=["gate"],
    response_model=Envelope[GateBootstrap],
    summary="What a gate needs to decide offline: its config and an allow-list of ticket hashes",
    description=(
        "`tickets` holds the tickets of this gate's store (and zones) that may pass within `window` "
        "minutes, as hashes of their QR tokens — never a token or a key. Pass `version` back as "
        "`since` to get only what changed (`full: false`: drop `removed`, upsert `tickets`); a `since` "
        "from too far back (or of another set-up) answers the full list (`full: true`). ETag / "
        "If-None-Match answer 304 when nothing changed. `layout=packed` answers the same list as "
        "`groups` of tickets sharing type, remaining, validity and zones (`tickets` empty): 10-15% "
        "fewer bytes gzipped; `version` and `since` work alike, the ETag is the layout's own."
    ),
    responses={**auth_responses(), 304: {"description": "Not modified"}},
)
async def get_bootstrap(
    request: Request,
    deps: AppDeps,
    principal: Annotated[Principal, device_route("gate.bootstrap", staff=False)],
    window: Annotated[int, Query(ge=1, le=7 * 24 * 60, description="Minutes ahead")] = 240,
    since: Annotated[
        str | None,
        Query(max_length=40, description="`version` of a previous bootstrap (else: the full list)"),
    ] = None,
    layout: Annotated[
        GateLayout,
        Query(
            description="`rows`: a row per ticket in `tickets`; `packed`: the same tickets as `groups`, "
            "their hashes end to end (a smaller download for a long list)"
        ),
    ] = "rows",
) -> Any:
    """Answered as bytes: the list is serialized once per version (offline/allowlist.py)."""
    assert principal.device is not None
    lists: AllowLists = request.app.state.gate_lists
    answer = await gate_bootstrap.bootstrap(
        deps, lists, principal.device, window, since, request.headers.get("if-none-match"), layout
    )
    if answer.data is None:
        return Response(status_code=304, headers={"ETag": answer.etag})
    return Response(
        _enveloped(request, answer.data), media_type="application/json", headers={"ETag": answer.etag}
    )


def _enveloped(request: Request, data: bytes) -> bytes:
    """The envelope around `data` already serialized."""
    shell = ok(request, None)
    head = json.dumps({"server_time": shell["server_time"], "request_id": shell["request_id"]})
    return head[:-1].encode() + b',"data":' + data + b',"error":null}'


@router.post(
    "/sync/batch",
    tags=["sync"],
    response_model=Envelope[SyncResult],
    summary="Upload what a device did offline: each op applied once, in time order",
    description=(
        "Up to 500 ops. Each answers `applied`, `duplicate` (this op_id was applied before: its "
        "stored result, nothing changed) or `rejected` (with an error; one bad op never blocks the "
        "others). Sales go through the same code as POST /v1/sales with op_id as the Idempotency-Key. "
        "Offline redemptions merge per ticket in `ts` order: the first PASS wins; a later PASS that "
        "finds no use left is stored as FAIL duplicate_use with offline_conflict, and `result` "
        "carries the authoritative remaining. A suspended device may upload ops made before its "
        "suspension (sign in with purpose=sync); later ones are rejected E_DEVICE_SUSPENDED."
    ),
    responses=auth_responses(),
)
async def sync_batch(
    request: Request,
    deps: AppDeps,
    body: SyncBatch,
    principal: Annotated[Principal, Depends(sync_principal)],
) -> dict[str, Any]:
    if principal.device is None:
        raise PermissionDenied("Only a device uploads its offline work.")
    check_device_route(principal, "sync.batch")
    cache: KeyCache = request.app.state.qr_keys
    results = await sync.apply_batch(deps, principal, body.ops, await cache.ring(), body.outbox_remaining)
    return ok(request, SyncResult.model_validate({"results": results}).model_dump(mode="json"))


@router.get(
    "/incidents",
    tags=["sync"],
    response_model=Envelope[Page[IncidentRead]],
    summary="For the fraud watch: tickets two devices both let in offline, newest first",
    responses=auth_responses(),
)
async def list_incidents(
    request: Request,
    deps: AppDeps,
    principal: Annotated[Principal, staff_with("reports_view")],
    limit: Limit = 50,
    cursor: Cursor = None,
    ticket_id: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    filters: dict[str, Any] = page_filter("incident_id", cursor)
    if ticket_id:
        filters["ticket_id"] = ticket_id
    docs = await IncidentRepository(deps.db, principal.scope_with("reports_view")).find_many(
        filters, sort=[("incident_id", -1)], limit=limit + 1
    )
    items, next_cursor = page_of(docs, "incident_id", limit)
    page = Page[IncidentRead](items=[IncidentRead.model_validate(d) for d in items], next_cursor=next_cursor)
    return ok(request, page.model_dump(mode="json"))
