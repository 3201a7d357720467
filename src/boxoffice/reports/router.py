"""HTTP for the reports (JSON and CSV of the same figures) and the drill-down lists of reprints and
redemptions. Every report needs `reports_view` and covers the stores where the caller holds it."""

from __future__ import annotations

import csv
import inspect
import io
import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from bson import ObjectId
from bson.errors import InvalidId
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from boxoffice.access.dependencies import auth_responses, staff_with
from boxoffice.access.principal import Principal
from boxoffice.aftersale.reprints import reprint_view
from boxoffice.aftersale.schemas import ReprintRead
from boxoffice.core.deps import AppDeps
from boxoffice.core.envelope import Envelope, ok
from boxoffice.core.errors import NotFound, ValidationFailed
from boxoffice.core.pagination import Cursor, Limit, page_filter, page_of
from boxoffice.core.query import DATE_TIME, list_filters
from boxoffice.core.repository import Scope
from boxoffice.core.schemas import Page
from boxoffice.reports import reconcile, service
from boxoffice.reports.schemas import REPORT_MODELS, ReconcileReport, RedemptionRead
from boxoffice.tenancy.repository import StoreRepository
from boxoffice.tickets.repository import RedemptionRepository, ReprintRepository

router = APIRouter(tags=["reports"])
Reporter = Annotated[Principal, staff_with(service.PERMISSION)]
DAY = r"^\d{4}-\d{2}-\d{2}$"
ID_LENGTH = 64

#: Query parameters a report may take: name → (annotation, Query).
_FILTER_PARAMS: dict[str, Any] = {
    "store_id": Annotated[str | None, Query(description="One store", max_length=ID_LENGTH)],
    "device_id": Annotated[str | None, Query(description="A POS, kiosk or gate", max_length=ID_LENGTH)],
    "employee_id": Annotated[
        str | None, Query(description="Who sold, refunded, printed or opened the shift", max_length=ID_LENGTH)
    ],
    "approver_id": Annotated[str | None, Query(description="Who approved", max_length=ID_LENGTH)],
    "package_id": Annotated[str | None, Query(max_length=ID_LENGTH)],
    "zone": Annotated[str | None, Query(max_length=40)],
    "payment_type": Annotated[str | None, Query(pattern=r"^(cash|qr|card|other)$")],
    "reason": Annotated[str | None, Query(description="A reason code", max_length=40)],
}

DOCS = {
    "sales": "Completed sales (pending ones never count): count, gross, discounts, net, taxes, total, "
    "payment fees, what was taken, refunds (on the day, device, employee and method they were made) and "
    "what is left after them. By package, a sale holding two packages counts once in each.",
    "shifts": "Closed shifts by the local day they opened: opening float, cash sales, cash refunds, pay-ins, "
    "pay-outs, expected, counted, difference (as corrected), reprints on the POS while it was open.",
    "tickets": "Tickets by the local day they were sold: issued, redeemed at least once, redemption rate, "
    "uses consumed, refunded, expired unused. By zone, only uses (PASS scans, by the day of the scan).",
    "refunds": "Refunds: count, tickets, amount; by cashier (employee), approver, device, reason, method.",
    "reprints": "Reprints: count; by cashier (employee), approver, device, reason.",
    "throughput": "Gate scans: PASS, FAIL, pass rate; by local hour of day (every hour listed), gate "
    "(device), zone or failure reason (failures only); the period's top failure reasons. Scans of codes "
    "that name no ticket are not counted.",
}


def _listed(report: service.Report) -> str:
    return "".join(
        f"; `{group}` lists records one by one, over at most {days} days"
        for group, days in service.LISTED_MAX_DAYS.items()
        if group in report.group_bys
    )


def _report_params(name: str) -> list[inspect.Parameter]:
    report = service.REPORTS[name]
    groups = "|".join(report.group_bys)
    params = [
        inspect.Parameter(
            "from_",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                str | None,
                Query(alias="from", pattern=DAY, description="First local day (default: 6 days before to)"),
            ],
        ),
        inspect.Parameter(
            "to",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                str | None, Query(pattern=DAY, description="Last local day, included (default: today)")
            ],
        ),
        inspect.Parameter(
            "group_by",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                str | None,
                Query(
                    pattern=f"^({groups})$", description=f"Default {report.default_group}{_listed(report)}"
                ),
            ],
        ),
    ]
    params += [
        inspect.Parameter(f, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=_FILTER_PARAMS[f])
        for f in report.filters
    ]
    return params


async def compute(deps: AppDeps, principal: Principal, name: str, params: dict[str, Any]) -> dict[str, Any]:
    """The report as its JSON data (the CSV is written from exactly this)."""
    reader = service.Reader(deps, principal)
    query = service.parse_query(
        service.REPORTS[name],
        await reader.today(),
        params.pop("from_"),
        params.pop("to"),
        params.pop("group_by"),
        **params,
    )
    answer = await service.read(reader, name, query)
    model = REPORT_MODELS[name][0]
    data: dict[str, Any] = model.model_validate(answer).model_dump(mode="json")
    return data


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def to_csv(name: str, data: dict[str, Any]) -> str:
    """The rows, then the totals row (group `TOTAL`), with the JSON's values exactly."""
    _, figures, row_model = REPORT_MODELS[name]
    columns = ["group", "label", *figures.model_fields]
    columns += [c for c in row_model.model_fields if c not in columns]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in data["rows"]:
        writer.writerow([_cell(row.get(c)) for c in columns])
    writer.writerow(["TOTAL", *(_cell(data["totals"].get(c)) for c in columns[1:])])
    return buffer.getvalue()


Endpoint = Callable[..., Coroutine[Any, Any, Any]]


def _endpoints(name: str) -> tuple[Endpoint, Endpoint]:
    common = [
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
        inspect.Parameter("deps", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=AppDeps),
        inspect.Parameter("principal", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Reporter),
    ]

    async def as_json(request: Request, deps: AppDeps, principal: Principal, **params: Any) -> dict[str, Any]:
        return ok(request, await compute(deps, principal, name, params))

    async def as_csv(request: Request, deps: AppDeps, principal: Principal, **params: Any) -> Response:
        data = await compute(deps, principal, name, params)
        filename = f"{name}-{data['from_day']}-{data['to_day']}-by-{data['group_by']}.csv"
        return Response(
            to_csv(name, data),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    signature = inspect.Signature([*common, *_report_params(name)])
    as_json.__signature__ = signature  # type: ignore[attr-defined]  # FastAPI reads the parameters
    as_csv.__signature__ = signature  # type: ignore[attr-defined]
    as_json.__name__, as_csv.__name__ = f"{name}_report", f"{name}_report_csv"
    return as_json, as_csv


for _name in service.REPORTS:
    _json, _csv = _endpoints(_name)
    router.add_api_route(
        f"/reports/{_name}",
        _json,
        methods=["GET"],
        response_model=Envelope[REPORT_MODELS[_name][0]],  # type: ignore[misc]
        summary=f"The {_name} report: rows and a totals row",
        description=DOCS[_name],
        responses=auth_responses(),
        operation_id=f"report_{_name}",
    )
    router.add_api_route(
        f"/reports/{_name}/export.csv",
        _csv,
        methods=["GET"],
        response_class=Response,
        summary=f"The {_name} report as CSV: the same rows, then the totals row",
        description=DOCS[_name],
        responses={
            200: {"content": {"text/csv": {}}, "description": "CSV with a header row"},
            **auth_responses(),
        },
        operation_id=f"report_{_name}_csv",
    )


#: Differences one answer lists (all are counted).
RECONCILE_LISTED = 500


@router.get(
    "/reports/reconcile",
    response_model=Envelope[ReconcileReport],
    summary="Reconcile a period: sales less refunds, shift snapshots, ticket shares and report summaries",
    description="For the local days from..to (default: the last 7) and the caller's stores (or one): "
    "each completed sale against its lines and its tickets' prices, each refund against its lines and "
    "tickets, each closed shift's snapshot against the sales, refunds and drawer movements recorded on "
    "it, and every report summary against a recomputation from the raw records (and each month's "
    "against its days), to the satang. Lists every difference with the records behind it; `clean` "
    "when there is none. An occasional check (a nightly one runs `boxoffice reports reconcile`): it "
    "reads the period's records: a month of a store selling 126 sales a day took 19 s on the embedded "
    "server (bench/reports.py). E_IN_PROGRESS (409, "
    "Retry-After) while the tenant's report projector stays busy.",
    responses=auth_responses(
        404,
        notes={
            409: "E_IN_PROGRESS: the tenant's report projector (or a rebuild) holds the summaries; "
            "Retry-After says when to ask again"
        },
    ),
    operation_id="report_reconcile",
)
async def reconcile_report(
    request: Request,
    deps: AppDeps,
    principal: Reporter,
    from_: Annotated[
        str | None,
        Query(alias="from", pattern=DAY, description="First local day (default: 6 days before to)"),
    ] = None,
    to: Annotated[
        str | None, Query(pattern=DAY, description="Last local day, included (default: today)")
    ] = None,
    store_id: Annotated[str | None, Query(description="One store", max_length=ID_LENGTH)] = None,
) -> dict[str, Any]:
    reader = service.Reader(deps, principal)
    stores = await reader.stores()
    first, last = reconcile.parse_period(await reader.today(), from_, to)
    if store_id is not None and store_id not in stores:
        raise NotFound("Store not found.")
    every = await StoreRepository(deps.db, Scope(principal.tenant_id)).find_many(
        projection={"_id": 0, "store_id": 1, "tz": 1}
    )
    zones = {str(s["store_id"]): str(s.get("tz") or deps.settings.tz) for s in every}
    outcome = await reconcile.reconcile(
        deps,
        principal.tenant_id,
        zones,
        [store_id] if store_id else sorted(stores),
        first,
        last,
        visible=stores,
    )
    answer = ReconcileReport.model_validate(outcome.as_dict(RECONCILE_LISTED))
    return ok(request, answer.model_dump(mode="json"))


@router.get(
    "/reprints",
    response_model=Envelope[Page[ReprintRead]],
    summary="Reprints, newest first, by store, device, employee, ticket and date range",
    responses=auth_responses(),
)
async def list_reprints(
    request: Request,
    deps: AppDeps,
    principal: Reporter,
    limit: Limit = 50,
    cursor: Cursor = None,
    store_id: Annotated[str | None, Query(max_length=ID_LENGTH)] = None,
    device_id: Annotated[str | None, Query(max_length=ID_LENGTH)] = None,
    employee_id: Annotated[str | None, Query(description="Who printed", max_length=ID_LENGTH)] = None,
    ticket_id: Annotated[str | None, Query(max_length=ID_LENGTH)] = None,
    from_: Annotated[str | None, Query(alias="from", description="Inclusive", **DATE_TIME)] = None,
    to: Annotated[str | None, Query(description="Exclusive", **DATE_TIME)] = None,
) -> dict[str, Any]:
    filters = {
        **list_filters(
            "created_at",
            from_,
            to,
            store_id=store_id,
            device_id=device_id,
            printed_by=employee_id,
            ticket_id=ticket_id,
        ),
        "status": "completed",
        **page_filter("reprint_id", cursor),
    }
    docs = await ReprintRepository(deps.db, principal.scope_with(service.PERMISSION)).find_many(
        filters, sort=[("reprint_id", -1)], limit=limit + 1
    )
    items, next_cursor = page_of(docs, "reprint_id", limit)
    page = Page[ReprintRead](
        items=[ReprintRead.model_validate(reprint_view(d)) for d in items], next_cursor=next_cursor
    )
    return ok(request, page.model_dump(mode="json"))


REDEMPTION_FIELDS = dict.fromkeys(
    (
        "_id",
        "redemption_id",
        "ticket_id",
        "store_id",
        "device_id",
        "ts",
        "recorded_at",
        "result",
        "reason",
        "metadata",
    ),
    1,
)


def _redemption(doc: dict[str, Any]) -> RedemptionRead:
    meta = doc.get("metadata") or {}
    return RedemptionRead.model_validate(
        {
            **doc,
            "zone": meta.get("zone"),
            "offline": bool(meta.get("offline")),
            "offline_conflict": bool(meta.get("offline_conflict")),
        }
    )


@router.get(
    "/redemptions",
    response_model=Envelope[Page[RedemptionRead]],
    summary="Gate scans, newest recorded first, by store, gate, ticket, result and time range",
    responses=auth_responses(),
)
async def list_redemptions(
    request: Request,
    deps: AppDeps,
    principal: Reporter,
    limit: Limit = 50,
    cursor: Cursor = None,
    store_id: Annotated[str | None, Query(max_length=ID_LENGTH)] = None,
    device_id: Annotated[str | None, Query(description="The gate", max_length=ID_LENGTH)] = None,
    ticket_id: Annotated[str | None, Query(max_length=ID_LENGTH)] = None,
    result: Annotated[str | None, Query(pattern="^(pass|fail)$")] = None,
    reason: Annotated[str | None, Query(max_length=40)] = None,
    from_: Annotated[str | None, Query(alias="from", description="Scanned at or after", **DATE_TIME)] = None,
    to: Annotated[str | None, Query(description="Scanned before", **DATE_TIME)] = None,
) -> dict[str, Any]:
    filters = list_filters(
        "ts",
        from_,
        to,
        store_id=store_id,
        device_id=device_id,
        ticket_id=ticket_id,
        result=result,
        reason=reason,
    )
    if cursor:
        try:
            filters["_id"] = {"$lt": ObjectId(cursor)}
        except InvalidId as exc:
            raise ValidationFailed(
                "cursor is not one this list gave.",
                details=[{"loc": ["query", "cursor"], "msg": "unknown cursor"}],
            ) from exc
    docs = await RedemptionRepository(deps.db, principal.scope_with(service.PERMISSION)).find_many(
        filters, sort=[("_id", -1)], limit=limit + 1, projection=REDEMPTION_FIELDS
    )
    next_cursor = str(docs[limit - 1]["_id"]) if len(docs) > limit else None
    page = Page[RedemptionRead](items=[_redemption(d) for d in docs[:limit]], next_cursor=next_cursor)
    return ok(request, page.model_dump(mode="json"))
