"""HTTP for the audit explorer, its CSV export, and access logs (sign-in events)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from boxoffice.access.dependencies import auth_responses, staff_with
from boxoffice.access.principal import Principal
from boxoffice.audit import service as audit
from boxoffice.audit.repository import AuditRepository
from boxoffice.audit.schemas import AuditRead
from boxoffice.core.clock import isoformat_z
from boxoffice.core.deps import AppDeps, built_in_loop
from boxoffice.core.envelope import Envelope, ok
from boxoffice.core.pagination import Limit, SeqCursor
from boxoffice.core.query import DATE_TIME, parse_instant
from boxoffice.core.schemas import Page

router = APIRouter(tags=["audit"])
Auditor = Annotated[Principal, staff_with("audit_view")]
ACCESS_PREFIX = "auth."
CSV_FIELDS = (
    "seq",
    "ts",
    "event_type",
    "store_id",
    "actor_id",
    "device_id",
    "ip",
    "payload",
    "audit_id",
    "hash",
)
EXPORT_BATCH = 1000


class AuditFilters:
    """The query parameters shared by the explorer, the export and the access log."""

    def __init__(
        self,
        from_: Annotated[
            str | None, Query(alias="from", description="Inclusive, ISO-8601 with a zone.", **DATE_TIME)
        ] = None,
        to: Annotated[str | None, Query(description="Exclusive, ISO-8601 with a zone.", **DATE_TIME)] = None,
        store_id: Annotated[str | None, Query(max_length=64)] = None,
        actor_id: Annotated[str | None, Query(max_length=64)] = None,
        device_id: Annotated[str | None, Query(max_length=64)] = None,
        event_type: Annotated[list[str] | None, Query(max_length=20)] = None,
        subject_id: Annotated[
            str | None, Query(max_length=64, description="Entries about this sale, ticket, refund…")
        ] = None,
        cursor: SeqCursor = None,
    ) -> None:
        self.since, self.until = parse_instant("from", from_), parse_instant("to", to)
        self.store_id, self.actor_id, self.device_id = store_id, actor_id, device_id
        self.event_types = event_type
        self.subject_id = subject_id
        self.cursor = cursor

    async def search(
        self, repo: AuditRepository, *, limit: int, prefix: str | None = None
    ) -> list[dict[str, Any]]:
        return await repo.search(
            since=self.since,
            until=self.until,
            store_id=self.store_id,
            actor_id=self.actor_id,
            device_id=self.device_id,
            event_types=[t for t in self.event_types or [] if prefix is None or t.startswith(prefix)] or None,
            event_prefix=prefix,
            subject_id=self.subject_id,
            before_seq=self.cursor,
            limit=limit,
        )


audit_filters = built_in_loop(AuditFilters)


def _page(docs: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    next_cursor = str(docs[limit - 1]["seq"]) if len(docs) > limit else None
    page = Page[AuditRead](items=[AuditRead.model_validate(d) for d in docs[:limit]], next_cursor=next_cursor)
    return page.model_dump(mode="json")


@router.get(
    "/audits",
    response_model=Envelope[Page[AuditRead]],
    summary="The audit log, newest first, filtered by date range, store, actor, device and event type",
    responses=auth_responses(),
)
async def list_audits(
    request: Request,
    deps: AppDeps,
    principal: Auditor,
    filters: Annotated[AuditFilters, Depends(audit_filters)],
    limit: Limit = 50,
) -> dict[str, Any]:
    repo = AuditRepository(deps.db, principal.scope_with("audit_view"))
    await audit.catch_up(deps.db, deps.clock, principal.tenant_id)
    return ok(request, _page(await filters.search(repo, limit=limit + 1), limit))


@router.get(
    "/access_logs",
    response_model=Envelope[Page[AuditRead]],
    summary="Who signed in (or failed to), where, from which device and IP",
    responses=auth_responses(),
)
async def access_logs(
    request: Request,
    deps: AppDeps,
    principal: Auditor,
    filters: Annotated[AuditFilters, Depends(audit_filters)],
    limit: Limit = 50,
) -> dict[str, Any]:
    repo = AuditRepository(deps.db, principal.scope_with("audit_view"))
    await audit.catch_up(deps.db, deps.clock, principal.tenant_id)
    return ok(request, _page(await filters.search(repo, limit=limit + 1, prefix=ACCESS_PREFIX), limit))


@router.get(
    "/audits/export.csv",
    summary="The filtered audit log as CSV (newest first)",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {}}, "description": "CSV with a header row"},
        **auth_responses(),
    },
)
async def export_audits(
    deps: AppDeps, principal: Auditor, filters: Annotated[AuditFilters, Depends(audit_filters)]
) -> StreamingResponse:
    repo = AuditRepository(deps.db, principal.scope_with("audit_view"))
    await audit.catch_up(deps.db, deps.clock, principal.tenant_id)

    async def rows() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_FIELDS)
        while True:
            batch = await filters.search(repo, limit=EXPORT_BATCH)
            for doc in batch:
                writer.writerow(
                    [
                        doc["seq"],
                        isoformat_z(doc["ts"]),
                        doc["event_type"],
                        doc.get("store_id") or "",
                        doc.get("actor_id") or "",
                        doc.get("device_id") or "",
                        doc.get("ip") or "",
                        json.dumps(doc.get("payload", {}), sort_keys=True, default=str),
                        doc["audit_id"],
                        doc.get("hash") or "",  # empty while waiting to be linked
                    ]
                )
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if len(batch) < EXPORT_BATCH:
                return
            filters.cursor = int(batch[-1]["seq"])

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'},
    )
