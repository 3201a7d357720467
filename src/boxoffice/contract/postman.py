"""The Postman collection (v2.1) and environment that replay the recorded flows, and the flows'
sequence diagrams in docs/DEVICE_GUIDE.md.

Each request carries Postman tests: its status, the envelope (exactly `server_time`, `request_id`,
`data`, `error`, one of the last two null, the request id echoed), the error code of a refusal,
the fields the flow relies on, and it hands the ids it captured to the next requests through
collection variables. Times a device makes are set by the request's pre-request script; the first
request makes this run's idempotency keys, op ids and scan ids."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

from boxoffice.contract.flows import ENVIRONMENT, FAILURES, run_keys
from boxoffice.contract.recorder import PLACEHOLDER, Recorder, Step

SCHEMA_URL = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
NAMESPACE = uuid.UUID("6f1d7a52-3c0e-4a8e-9a43-0b2f0c1e5d77")
ENVELOPE = ["data", "error", "request_id", "server_time"]
SECRET_VARIABLES = {"site_key", "owner_password", "cashier_pin", "supervisor_pin"}
GUIDE_BEGIN = "<!-- flows:begin (written by `make contract` from the Postman collection's flows) -->"
GUIDE_END = "<!-- flows:end -->"

#: JavaScript shared by the scripts: a path into the answer (`a.b.0.c`, `[key=value]` picks a list item).
GET = (
    "const get = (value, path) => (pm.variables.replaceIn(path).match(/\\[[^\\]]*\\]|[^.]+/g) || [])"
    ".reduce((v, part) => { if (v === undefined || v === null) return undefined; "
    "if (part.startsWith('[')) { const [k, want] = part.slice(1, -1).split('='); "
    "return Array.isArray(v) ? v.find((x) => x && String(x[k]) === want) : undefined; } "
    "return v[part]; }, value);"
)
ULID = (
    "const ulid = () => { const A = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; let t = Date.now(); let s = ''; "
    "for (let i = 0; i < 10; i++) { s = A[t % 32] + s; t = Math.floor(t / 32); } "
    "for (let i = 0; i < 16; i++) { s += A[Math.floor(Math.random() * 32)]; } return s; };"
)


def _js(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _numeric(rec: Recorder) -> set[str]:
    return {k for k, v in rec.vars.items() if isinstance(v, int | float | bool) and not isinstance(v, str)}


def _raw_body(body: Any, numeric: set[str]) -> str:
    text = json.dumps(body, indent=2, ensure_ascii=False)
    for name in numeric:
        text = text.replace(f'"{{{{{name}}}}}"', f"{{{{{name}}}}}")
    return text


def _url(step: Step) -> dict[str, Any]:
    query = [{"key": k, "value": v} for k, v in step.query]
    raw = "{{base_url}}" + step.path
    if query:
        raw += "?" + "&".join(f"{q['key']}={q['value']}" for q in query)
    url: dict[str, Any] = {"raw": raw, "host": ["{{base_url}}"], "path": step.path.strip("/").split("/")}
    if query:
        url["query"] = query
    return url


def _expect(path: str, expected: Any) -> str:
    label = f"{path} is {json.dumps(expected)}"
    if isinstance(expected, str) and PLACEHOLDER.search(expected):
        return (
            f"pm.test({_js(label)}, () => pm.expect(String(get(body, {_js(path)})))"
            f".to.eql(pm.variables.replaceIn({_js(expected)})));"
        )
    return f"pm.test({_js(label)}, () => pm.expect(get(body, {_js(path)})).to.eql({_js(expected)}));"


def _tests(step: Step) -> list[str]:
    lines = [
        GET,
        f"pm.test('status {step.status}', () => pm.response.to.have.status({step.status}));",
    ]
    if step.status in (204, 304):
        if step.status == 304:
            lines.append(
                "pm.test('ETag kept', () => pm.expect(pm.response.headers.get('ETag')).to.be.a('string'));"
            )
        lines.append("const body = null;")
    elif step.content_type == "application/json":
        lines += [
            "const body = pm.response.json();",
            "pm.test('the envelope', () => {",
            f"  pm.expect(Object.keys(body).sort()).to.eql({_js(ENVELOPE)});",
            "  const one = (body.data === null) !== (body.error === null);",
            "  pm.expect(one, 'exactly one of data and error').to.be.true;",
            "  pm.expect(body.server_time).to.match(/Z$/);",
            "  pm.expect(body.request_id).to.eql(pm.response.headers.get('X-Request-ID'));",
            "});",
        ]
        if step.error_code:
            code, title = _js(step.error_code), _js("error " + step.error_code)
            lines.append(f"pm.test({title}, () => pm.expect(body.error.code).to.eql({code}));")
    else:
        lines += [
            "const body = pm.response.text();",
            f"pm.test({_js('a ' + step.content_type + ' answer')}, () => "
            f"pm.expect(pm.response.headers.get('Content-Type')).to.include({_js(step.content_type)}));",
        ]
    for path, expected in step.checks.items():
        lines.append(_expect(path, expected))
    for var, where in step.captures.items():
        if where.startswith("header:"):
            source = f"pm.response.headers.get({_js(where[7:])})"
        else:
            source = f"get(body, {_js(where)})"
        lines += [
            f"pm.test({_js(where + ' is there')}, () => "
            f"pm.expect({source}).to.not.be.oneOf([undefined, null, '']));",
            f"pm.collectionVariables.set({_js(var)}, {source});",
        ]
    return lines


def _prerequest(step: Step, first: bool) -> list[str]:
    lines: list[str] = []
    if first:
        lines += [
            "// This run's idempotency keys, op ids and scan ids: a device makes one per operation (a ULID).",
            ULID,
            f"for (const name of {_js(sorted(run_keys()))}) {{ pm.collectionVariables.set(name, ulid()); }}",
        ]
    for var, seconds in step.before.items():
        lines.append(
            f"pm.collectionVariables.set({_js(var)}, new Date(Date.now() + {seconds} * 1000).toISOString());"
        )
    for var, days in step.days.items():
        lines.append(
            f"pm.collectionVariables.set({_js(var)}, "
            f"new Date(Date.now() + 7 * 3600e3 + {days} * 864e5).toISOString().slice(0, 10));"
            "  // the date in Bangkok"
        )
    return lines


def _event(listen: str, lines: list[str]) -> dict[str, Any]:
    return {"listen": listen, "script": {"type": "text/javascript", "exec": lines}}


def _saved_answer(rec: Recorder, step: Step, request: dict[str, Any]) -> list[dict[str, Any]]:
    by_type = rec.examples.get(step.operation_id, {}).get("responses", {}).get(str(step.status), {})
    example = by_type.get(step.content_type, {}).get(step.example)
    if example is None:
        return []
    value = example["value"]
    return [
        {
            "name": example["summary"],
            "originalRequest": request,
            "status": step.error_code or "OK",
            "code": step.status,
            "_postman_previewlanguage": "json" if step.content_type == "application/json" else "text",
            "header": [{"key": "Content-Type", "value": step.content_type}],
            "body": json.dumps(value, indent=2, ensure_ascii=False) if not isinstance(value, str) else value,
        }
    ]


def _item(rec: Recorder, schema_ops: dict[str, dict[str, Any]], step: Step, first: bool) -> dict[str, Any]:
    if ";" in step.name or "#" in step.name:
        raise ValueError(f"{step.name!r}: no ';' or '#' in a request name (they break the guide's diagrams)")
    headers = [{"key": "X-Request-ID", "value": "{{$guid}}"}]
    headers += [{"key": k, "value": v} for k, v in step.headers]
    request: dict[str, Any] = {"method": step.method, "header": headers, "url": _url(step)}
    if step.body is not None:
        headers.insert(0, {"key": "Content-Type", "value": "application/json"})
        request["body"] = {
            "mode": "raw",
            "raw": _raw_body(step.body, _numeric(rec)),
            "options": {"raw": {"language": "json"}},
        }
    operation = schema_ops.get(step.operation_id, {})
    summary = operation.get("summary", "")
    description = str(operation.get("description", ""))
    authorization = (
        description[description.find("**Authorization:**") :] if "**Authorization:**" in description else ""
    )
    request["description"] = "\n\n".join(
        part
        for part in (
            f"`{step.method} {operation.get('x-path', step.path)}` — {summary}",
            step.note and f"*{step.note}*",
            authorization,
            f"Operation `{step.operation_id}`; the saved answer is its `{step.example}` example.",
        )
        if part
    )
    events = [_event("test", _tests(step))]
    pre = _prerequest(step, first)
    if pre:
        events.insert(0, _event("prerequest", pre))
    return {
        "name": step.name,
        "event": events,
        "request": request,
        "response": _saved_answer(rec, step, request),
    }


COLLECTION_DOC = """\
The BoxOffice REST API as devices and the back office call it, in the order they do: a POS day \
(register with a site key, log in, PIN login, open the shift, quote, sell, reprint and refund with a \
supervisor's approval, close the shift), a gate online and offline (bootstrap, redeem, an offline \
upload that conflicts), a kiosk sale, the back office (devices, employees, catalog, settings, records, \
reports, webhooks, alerts, audits), and the refusals a device must handle.

Run the folders in order (ids pass from one request to the next through collection variables). \
Environment: `base_url`, a `site_key` that pairs without approval (`make run` writes the demo's to \
`var/demo-credentials.json`), the owner's `owner_email`/`owner_password`, the demo cashier's and \
supervisor's names and PINs, and a `webhook_url` that answers 2xx. `make test` runs it with Newman \
against a fresh server (tests/contract/test_newman.py).

Generated by `make contract` from the OpenAPI schema and the examples recorded from real answers \
(docs/api/examples/); do not edit by hand. See docs/DEVICE_GUIDE.md for the flows, the offline \
contract and what to do on each error code."""


def build(schema: dict[str, Any], rec: Recorder) -> tuple[dict[str, Any], dict[str, Any]]:
    schema_ops = {}
    for path, methods in schema.get("paths", {}).items():
        for operation in methods.values():
            schema_ops[str(operation.get("operationId"))] = {**operation, "x-path": path}
    folders: dict[str, list[dict[str, Any]]] = {}
    for index, step in enumerate(rec.steps):
        folders.setdefault(step.folder, []).append(_item(rec, schema_ops, step, first=index == 0))
    referenced: set[str] = set()
    for step in rec.steps:
        text = json.dumps([step.path, step.query, step.headers, step.body, step.checks, step.captures])
        referenced |= set(PLACEHOLDER.findall(text))
        referenced |= set(step.captures) | set(step.before) | set(step.days)
    keys = run_keys()
    variables = [
        {"key": name, "value": "", "type": "string"}
        for name in sorted(referenced - set(ENVIRONMENT))
        if name not in keys
    ] + [{"key": name, "value": "", "type": "string"} for name in sorted(keys)]
    collection = {
        "info": {
            "_postman_id": str(uuid.uuid5(NAMESPACE, "collection")),
            "name": "BoxOffice API — device and back-office flows",
            "description": COLLECTION_DOC,
            "schema": SCHEMA_URL,
        },
        "item": [
            {"name": name, "description": FOLDER_DOCS.get(name, ""), "item": items}
            for name, items in folders.items()
        ],
        "variable": variables,
    }
    environment = {
        "id": str(uuid.uuid5(NAMESPACE, "environment")),
        "name": "BoxOffice (local: make run)",
        "values": [
            {
                "key": key,
                "value": value,
                "type": "secret" if key in SECRET_VARIABLES else "default",
                "enabled": True,
            }
            for key, value in ENVIRONMENT.items()
        ],
        "_postman_variable_scope": "environment",
    }
    return collection, environment


FOLDER_DOCS = {
    "1. POS day": "A POS pairs, its cashier signs in with her PIN, opens the shift, quotes and sells, "
    "retries the sale safely, prints, has a supervisor approve a reprint and a refund, pays in and "
    "out, and closes the shift.",
    "2. Gate": "Gate A downloads its allow-list (then a 304 and a delta) and scans online; Gate B "
    "uploads scans made offline, one of them a ticket Gate A already let in (the conflict), then "
    "the same upload again (duplicates).",
    "3. Kiosk sale": "A kiosk sells as itself (no staff): catalog, quote, sale paid by QR, receipt.",
    "4. Back office": "The owner signs in with email and password: stores, site keys and a device "
    "waiting for approval, employees and roles, catalog and pricing rules, settings, sales and "
    "tickets, reports, webhooks, alerts and the audit log.",
    FAILURES: "The refusals a device meets, each once (what to do on each: the error table of "
    "docs/DEVICE_GUIDE.md).",
}


# ---- the device guide's diagrams ------------------------------------------------------------------


def _mermaid_text(text: str) -> str:
    return re.sub(r"[;#]", ",", text)


def diagrams(rec: Recorder) -> str:
    """One sequence diagram per folder: each request a message to the API, named as in the collection."""
    parts: list[str] = []
    folders: dict[str, list[Step]] = {}
    for step in rec.steps:
        folders.setdefault(step.folder, []).append(step)
    for folder, steps in folders.items():
        actors = list(dict.fromkeys(step.actor for step in steps))
        lines = [f"### {folder}", "", FOLDER_DOCS.get(folder, ""), "", "```mermaid", "sequenceDiagram"]
        lines += [f"    participant {_alias(a)} as {a}" for a in actors]
        lines.append("    participant API")
        for step in steps:
            actor = _alias(step.actor)
            lines.append(f"    {actor}->>API: {step.name}")
            answer = f"{step.status} {step.error_code}" if step.error_code else f"{step.status}"
            shown = [f"{path.rsplit('.', 1)[-1]}={json.dumps(value)}" for path, value in step.checks.items()]
            if shown and not step.error_code:
                answer += " " + ", ".join(shown[:3]).replace('"', "")
            kept = ", ".join(step.captures)
            if kept:
                answer += f" ({kept})"
            lines.append(f"    API-->>{actor}: {_mermaid_text(answer)}")
            if step.note:
                lines.append(f"    Note over {actor},API: {_mermaid_text(step.note)}")
        lines += ["```", ""]
        parts.append("\n".join(lines))
    return "\n".join(parts)


def _alias(actor: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", actor) or "Device"


def write_guide_diagrams(path: Path, rec: Recorder) -> None:
    """Replace the guide's generated section (between its markers) with the current diagrams."""
    section = f"{GUIDE_BEGIN}\n\n{diagrams(rec)}\n{GUIDE_END}"
    if path.exists():
        text = path.read_text(encoding="utf-8")
        if GUIDE_BEGIN in text and GUIDE_END in text:
            head, rest = text.split(GUIDE_BEGIN, 1)
            tail = rest.split(GUIDE_END, 1)[1]
            path.write_text(head + section + tail, encoding="utf-8")
            return
        path.write_text(text.rstrip("\n") + "\n\n" + section + "\n", encoding="utf-8")
        return
    path.write_text(f"# Device guide\n\n{section}\n", encoding="utf-8")
