"""Calls through the app that are kept: each request and answer becomes an example of its operation
(docs/api/examples/), and each call made inside a flow becomes a step the Postman collection replays.

Flows are written as Postman requests are: `{{name}}` placeholders in paths, queries, headers and
bodies, filled from variables that earlier answers captured (`capture={"sale_id": "data.sale_id"}`)
or that a step computes before it is sent (`before={"scan_ts": 0}`: an ISO time, seconds from now).
The recorder sends the filled-in request, checks the answer's status, and keeps both forms."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from boxoffice.core.clock import FixedClock, isoformat_z
from boxoffice.core.ids import new_id

PLACEHOLDER = re.compile(r"\{\{([A-Za-z0-9_]+)\}\}")
#: Lists in a kept answer are cut to this many items (the shape is what an example shows).
KEEP_ITEMS = 5
KEEP_CSV_LINES = 6


class FlowError(AssertionError):
    """A flow got another answer than it expected: the flow or the API changed."""


@dataclass
class Step:
    """One request of a flow, as the Postman collection replays it."""

    folder: str
    name: str
    actor: str
    operation_id: str
    example: str
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]
    body: Any
    status: int
    captures: dict[str, str]
    checks: dict[str, Any]
    before: dict[str, int]
    days: dict[str, int]
    error_code: str | None
    content_type: str
    note: str


@dataclass
class Answer:
    status: int
    headers: httpx.Headers
    body: Any  # parsed JSON, text, or None

    @property
    def data(self) -> Any:
        return self.body.get("data") if isinstance(self.body, dict) else None

    @property
    def code(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return str(self.body["error"].get("code"))
        return None


@dataclass(frozen=True)
class Sent:
    """A request as it was sent (placeholders filled in), to be sent again with one thing changed."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: Any
    token: str | None


@dataclass
class Operation:
    operation_id: str
    method: str
    template: str
    pattern: re.Pattern[str]
    static: bool


def _operations(schema: dict[str, Any]) -> list[Operation]:
    found: list[Operation] = []
    for template, operations in schema.get("paths", {}).items():
        parts = re.split(r"(\{[^}]+\})", template)
        regex = "^" + "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$"
        for method, operation in operations.items():
            if isinstance(operation, dict) and "operationId" in operation:
                found.append(
                    Operation(
                        str(operation["operationId"]),
                        method,
                        template,
                        re.compile(regex),
                        "{" not in template,
                    )
                )
    found.sort(key=lambda op: not op.static)  # /devices/me before /devices/{device_id}
    return found


SEGMENT = re.compile(r"\[[^\]]*\]|[^.]+")


def segments(path: str) -> list[str]:
    """`data.items.[name=Single Entry].package_id` → its steps; `[key=value]` picks the first item
    of a list whose `key` is `value`."""
    return SEGMENT.findall(path)


def lookup(value: Any, path: str) -> Any:
    """`data.tickets.0.ticket_id` in a parsed answer (None when any step is missing)."""
    for part in segments(path):
        if part.startswith("["):
            key, _, wanted = part[1:-1].partition("=")
            items = value if isinstance(value, list) else []
            value = next((v for v in items if isinstance(v, dict) and str(v.get(key)) == wanted), None)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return None
    return value


def trimmed(value: Any) -> Any:
    """A kept answer, its long lists cut short."""
    if isinstance(value, list):
        return [trimmed(v) for v in value[:KEEP_ITEMS]]
    if isinstance(value, dict):
        return {k: trimmed(v) for k, v in value.items()}
    return value


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60] or "example"


#: The demo store's zone (Asia/Bangkok keeps no summer time): `days=` variables are its local dates.
STORE_UTC_OFFSET = timedelta(hours=7)
#: Where requests come from (documentation addresses, RFC 5737): rate limits count per address.
DEFAULT_IP = "203.0.113.10"


@dataclass
class Recorder:
    app: Any
    schema: dict[str, Any]
    clock: FixedClock
    tick: timedelta = timedelta(seconds=2)
    vars: dict[str, Any] = field(default_factory=dict)
    #: Variables the collection's environment supplies (base_url, the site key, the owner's sign-in).
    environment: dict[str, str] = field(default_factory=dict)
    examples: dict[str, dict[str, Any]] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    folder: str | None = None
    actor: str = "Device"
    calls: int = 0
    #: operation id → its first successful request, as sent
    sent: dict[str, Sent] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._ops = _operations(self.schema)
        self._clients: dict[tuple[int, str], httpx.AsyncClient] = {}

    def client(self, ip: str = DEFAULT_IP, app: Any = None) -> httpx.AsyncClient:
        app = app or self.app
        if (id(app), ip) not in self._clients:
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(ip, 51000))
            client = httpx.AsyncClient(transport=transport, base_url="http://api.boxoffice.test")
            self._clients[(id(app), ip)] = client
        return self._clients[(id(app), ip)]

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()

    # ---- placeholders ----------------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        if isinstance(value, str):
            whole = PLACEHOLDER.fullmatch(value)
            if whole:
                return self._var(whole.group(1))
            return PLACEHOLDER.sub(lambda m: str(self._var(m.group(1))), value)
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value

    def _var(self, name: str) -> Any:
        if name not in self.vars:
            raise FlowError(f"{{{{{name}}}}} was never captured")
        return self.vars[name]

    def operation(self, method: str, path: str) -> Operation | None:
        for op in self._ops:
            if op.method == method.lower() and op.pattern.match(path):
                return op
        return None

    # ---- calls -----------------------------------------------------------------------------------

    async def call(
        self,
        method: str,
        path: str,
        *,
        name: str,
        status: int | tuple[int, ...],
        token: str | None = None,
        body: Any = None,
        raw: bytes | None = None,
        query: dict[str, Any] | list[tuple[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        capture: dict[str, str] | None = None,
        check: dict[str, Any] | None = None,
        before: dict[str, int] | None = None,
        days: dict[str, int] | None = None,
        example: str | None = None,
        note: str = "",
        keep_request: bool | None = None,
        in_flow: bool = True,
        actor: str | None = None,
        ip: str = DEFAULT_IP,
        app: Any = None,
        quiet: bool = False,
    ) -> Answer:
        """Send one request (placeholders filled in), insist on `status` (`quiet`: else keep nothing
        and return), keep what it shows."""
        self.calls += 1
        self.clock.advance(self.tick)
        for var, seconds in (before or {}).items():
            self.vars[var] = isoformat_z(self.clock.now() + timedelta(seconds=seconds))
        for var, offset in (days or {}).items():
            self.vars[var] = (self.clock.now() + STORE_UTC_OFFSET + timedelta(days=offset)).date().isoformat()
        pairs = list(query.items()) if isinstance(query, dict) else list(query or [])
        sent_query = [(k, str(self.resolve(v))) for k, v in pairs if v is not None]
        sent_path = str(self.resolve(path))
        sent_headers = {"X-Request-ID": new_id()}
        if token is not None:
            sent_headers["Authorization"] = f"Bearer {self._var(token)}"
        for key, value in (headers or {}).items():
            sent_headers[key] = str(self.resolve(value))
        sent_body = self.resolve(body) if body is not None else None
        url = sent_path + (f"?{urlencode(sent_query)}" if sent_query else "")
        if raw is not None:
            response = await self.client(ip, app).request(
                method, url, content=raw, headers={**sent_headers, "Content-Type": "application/json"}
            )
        elif sent_body is not None:
            response = await self.client(ip, app).request(method, url, json=sent_body, headers=sent_headers)
        else:
            response = await self.client(ip, app).request(method, url, headers=sent_headers)
        answer = _answer(response)
        if answer.status not in ((status,) if isinstance(status, int) else status):
            if quiet:
                return answer  # a guess that missed: nothing kept
            raise FlowError(
                f"{name}: {method} {url} answered {answer.status}, not {status}: {response.text[:600]}"
            )
        status = answer.status
        for var, where in (capture or {}).items():
            value = (
                answer.headers.get(where[7:])
                if where.startswith("header:")
                else lookup(answer.body, str(self.resolve(where)))
            )
            if value is None or value == "":
                raise FlowError(f"{name}: nothing at {where} to capture as {var}: {response.text[:600]}")
            self.vars[var] = value
        for where, expected in (check or {}).items():
            got = lookup(answer.body, str(self.resolve(where)))
            if got != self.resolve(expected):
                raise FlowError(f"{name}: {where} is {got!r}, not {expected!r}: {response.text[:600]}")
        op = self.operation(method, sent_path)
        if op is None:
            return answer
        label = example or slug(name)
        if status < 300 and op.operation_id not in self.sent:
            extra = {k: v for k, v in sent_headers.items() if k not in ("X-Request-ID", "Authorization")}
            self.sent[op.operation_id] = Sent(method.upper(), sent_path, sent_query, extra, sent_body, token)
        content_type = response.headers.get("content-type", "").split(";")[0].strip()
        keep_body = (status not in (400, 413)) if keep_request is None else keep_request
        self._keep(
            op,
            label,
            name if not note else f"{name}: {note}",
            sent_body if keep_body else None,
            answer,
            content_type,
        )
        if in_flow and self.folder is not None:
            self.steps.append(
                Step(
                    folder=self.folder,
                    name=name,
                    actor=actor or self.actor,
                    operation_id=op.operation_id,
                    example=label,
                    method=method.upper(),
                    path=path,
                    query=[(k, str(v)) for k, v in pairs if v is not None],
                    headers=[(k, v) for k, v in (headers or {}).items()]
                    + ([("Authorization", f"Bearer {{{{{token}}}}}")] if token else []),
                    body=body,
                    status=status,
                    captures=dict(capture or {}),
                    checks=dict(check or {}),
                    before=dict(before or {}),
                    days=dict(days or {}),
                    error_code=answer.code,
                    content_type=content_type,
                    note=note,
                )
            )
        return answer

    def _keep(
        self, op: Operation, label: str, summary: str, body: Any, answer: Answer, content_type: str
    ) -> None:
        kept = self.examples.setdefault(
            op.operation_id,
            {
                "operation_id": op.operation_id,
                "method": op.method,
                "path": op.template,
                "request": {},
                "responses": {},
            },
        )
        if body is not None:
            kept["request"].setdefault("application/json", {}).setdefault(
                label, {"summary": summary, "value": body}
            )
        by_type = kept["responses"].setdefault(str(answer.status), {})
        if answer.body is None or not content_type:
            return  # a 204 or 304: seen, nothing to show
        value: Any = answer.body
        if isinstance(value, str):
            value = "\n".join(value.splitlines()[:KEEP_CSV_LINES]) + "\n"
        else:
            value = trimmed(value)
        by_type.setdefault(content_type, {}).setdefault(label, {"summary": summary, "value": value})


def _answer(response: httpx.Response) -> Answer:
    if response.status_code in (204, 304) or not response.content:
        return Answer(response.status_code, response.headers, None)
    if "json" in response.headers.get("content-type", ""):
        return Answer(response.status_code, response.headers, response.json())
    return Answer(response.status_code, response.headers, response.text)


def dumps(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
