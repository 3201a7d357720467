"""What the OpenAPI schema says beyond FastAPI's own output, so a device team can build on it alone:
which principal each operation takes (security schemes and an Authorization paragraph), the headers
it reads (X-Request-ID everywhere, Idempotency-Key with its replay rules, If-None-Match where ETags
are used) and sends back, the statuses it really answers, and examples recorded from real responses
(docs/api/examples/, written by `make contract`)."""

from __future__ import annotations

import copy
import inspect
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import HTTPBearer

from boxoffice.access.policy import DEVICE_ROUTES, STAFFED_ON_POS

#: Checked in; the app reads them when it builds its schema. An installed package (the image) is
#: told where they are by OPENAPI_EXAMPLES_DIR; none found: a schema without examples.
_SOURCE_EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "api" / "examples"
EXAMPLES_DIR = Path(os.environ.get("OPENAPI_EXAMPLES_DIR") or _SOURCE_EXAMPLES)

DEVICE = "Device"
STAFF_ON_DEVICE = "StaffOnDevice"
BACK_OFFICE = "BackOffice"

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    DEVICE: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A device's own access token: POST /v1/auth/device/login with the device_id and "
        "device_token it was given when it paired (15 minutes; log in again with the device token).",
    },
    STAFF_ON_DEVICE: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An employee signed in on a paired device: POST /v1/employees/login with "
        "{employee_id, pin} under the device's own token. Bound to that device and its store; it ends "
        "when the device's token is rotated or the employee signs out, changes PIN or is suspended.",
    },
    BACK_OFFICE: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An employee's back-office session: POST /v1/employees/login with {email, "
        "password}, renewed by POST /v1/employees/refresh (up to 12 hours). The admin service adds it "
        "for the browser; device tokens never reach back-office operations.",
    },
}

#: Operations that answer 422 themselves, in the envelope (a business rule the body breaks). Anywhere
#: else a request that does not match the schema is 400 E_VALIDATION and FastAPI's own 422 is never sent.
UNPROCESSABLE: dict[tuple[str, str], str] = {
    ("post", "/v1/sales"): "E_PAYMENT_DISABLED (the payment type is turned off at this store) or "
    "E_TOO_LARGE (more tickets than the sales.max_tickets_per_sale setting allows)",
    ("post", "/v1/pricing/quote"): "E_PAYMENT_DISABLED: the payment type is turned off at this store",
}

REQUEST_ID_DOC = (
    "Your id for this request: echoed in the `X-Request-ID` response header and the envelope's "
    "`request_id`, and written in our logs. Plain ids (`[A-Za-z0-9._:-]`, up to 128 characters) are "
    "kept; anything else, or none, is replaced by a generated one. Send one per attempt and keep it "
    "with the device's own log to trace a call end to end."
)
IDEMPOTENCY_DOC = (
    "Required. One key per operation the user asked for (a ULID made on the device), reused for every "
    "retry of it. Same key and same body: the first answer again, 200 with `Idempotent-Replayed: "
    "true`, nothing done twice. Same key, another body: 409 E_IDEMPOTENCY_MISMATCH. The first request "
    "with the key still running: 409 E_IN_PROGRESS with `Retry-After`. Keys belong to their caller (the "
    "device; the employee in the back office): another device's same key is another request. Keys are "
    "kept for good."
)
IF_NONE_MATCH_DOC = (
    "The `ETag` of the last answer the device kept. Unchanged: 304 with no body (keep using what you "
    "have); changed: 200 with the new content and its new `ETag`."
)
RESPONSE_HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {"description": "This request's id (yours if plain, else generated)."},
    "Retry-After": {"description": "Seconds to wait before trying again."},
    "ETag": {"description": "Send it back in If-None-Match to get 304 while nothing changed."},
    "Idempotent-Replayed": {
        "description": "`true` when this is the first answer to this Idempotency-Key, again."
    },
}


@dataclass(frozen=True)
class Access:
    """Who may call an operation: the security alternatives (an empty tuple first: no token needed)."""

    security: tuple[tuple[str, ...], ...]
    text: str


@dataclass(frozen=True)
class Guard:
    """What an operation's dependencies check. kind: public, device (a DEVICE_ROUTES `route`, and
    back-office staff too when `staff`), back_office (holding `permission`), sync, employee (any
    employee session), login (PIN login under a device's token, or none) or refresh."""

    kind: str
    route: str | None = None
    staff: bool = False
    permission: str | None = None


def _calls(dependant: Any) -> Iterator[Any]:
    for sub in getattr(dependant, "dependencies", []):
        yield sub.call
        yield from _calls(sub)


def _closure(call: Callable[..., Any]) -> dict[str, Any]:
    return dict(inspect.getclosurevars(call).nonlocals)


def guard_of(route: Any, declared: list[dict[str, Any]]) -> Guard:
    """Read from the route's dependencies (access/dependencies.py's guards)."""
    calls = list(_calls(route.dependant))
    for call in calls:
        qualname = getattr(call, "__qualname__", "")
        if qualname.startswith("device_route."):
            env = _closure(call)
            return Guard("device", route=str(env["route"]), staff=bool(env["staff"]))
        if qualname.startswith("staff_with."):
            permission = _closure(call).get("permission")
            return Guard("back_office", permission=str(permission) if permission else None)
    names = {getattr(call, "__name__", "") for call in calls}
    if "sync_principal" in names:
        return Guard("sync")
    if "current_principal" in names:
        return Guard("employee")
    if any(isinstance(call, HTTPBearer) for call in calls):
        return Guard("login") if {} in declared else Guard("refresh")
    return Guard("public")


def _device_access(route: str, staff: bool) -> Access:
    types, cap, permission = DEVICE_ROUTES[route]
    pin_types = DEVICE_ROUTES["employees.pin_login"][0]
    bare = sorted(t for t in types if not (t == "POS" and route in STAFFED_ON_POS))
    if route == "employees.me":
        bare = []  # a device token names no employee
    staffed = sorted(types & pin_types)
    parts: list[str] = []
    schemes: list[tuple[str, ...]] = []
    if bare:
        needs = f" whose capabilities include `{cap}`" if cap else ""
        parts.append(f"a device ({', '.join(bare)}{needs})")
        schemes.append((DEVICE,))
    if staffed:
        needs = f", holding `{permission}` at the device's store" if permission else ""
        parts.append(f"an employee signed in on a device ({', '.join(staffed)}{needs})")
        schemes.append((STAFF_ON_DEVICE,))
    if staff:
        parts.append("a back-office session (scoped to the stores where the employee works)")
        schemes.append((BACK_OFFICE,))
    text = "Bearer token of " + "; or ".join(parts) + "."
    if route in STAFFED_ON_POS and "POS" in types:
        text += " On a POS a staff member must be signed in: a bare POS token is refused (403 E_PERMISSION)."
    if not staff:
        text += " Back-office sessions are refused (403 E_PERMISSION)."
    text += (
        " Other devices: 403 E_PERMISSION; a suspended or revoked device: 403 E_DEVICE_SUSPENDED / "
        "E_DEVICE_REVOKED."
    )
    return Access(tuple(schemes), text)


def access_of(guard: Guard) -> Access:
    """The security alternatives and the Authorization paragraph of a guard."""
    if guard.kind == "device" and guard.route is not None:
        return _device_access(guard.route, guard.staff)
    if guard.kind == "back_office":
        holding = f" holding `{guard.permission}`" if guard.permission else ""
        return Access(
            ((BACK_OFFICE,),),
            f"Bearer token of a back-office session{holding} (what it sees is scoped to the stores where "
            "it holds it). Device tokens, and employees signed in on a device, are refused "
            "(403 E_PERMISSION).",
        )
    if guard.kind == "sync":
        return Access(
            ((DEVICE,), (STAFF_ON_DEVICE,)),
            "Bearer token of a device (POS, GATE, KIOSK), or of an employee signed in on one. A device "
            "suspended while offline signs in with `purpose: sync` and may upload what it did before "
            "its suspension (later ops are rejected E_DEVICE_SUSPENDED). Back-office sessions are "
            "refused (403 E_PERMISSION).",
        )
    if guard.kind == "employee":
        return Access(
            ((BACK_OFFICE,), (STAFF_ON_DEVICE,)),
            "Bearer token of an employee session: back office, or signed in on a device. A bare device "
            "token is refused (403 E_PERMISSION).",
        )
    if guard.kind == "login":
        return Access(
            ((), (DEVICE,)),
            "None for `{email, password}` (opens a back-office session). For `{employee_id, pin}`, the "
            "device's own token (opens a session on that device); an employee's token is refused "
            "(403 E_PERMISSION).",
        )
    if guard.kind == "refresh":
        return Access(
            ((BACK_OFFICE,),),
            "Bearer token of the back-office session to renew: its last access token, even if it has "
            "just expired. Device sessions log in again instead.",
        )
    return PUBLIC


PUBLIC = Access(((),), "None: anyone may call this operation (no `Authorization` header).")


def route_guards(app: FastAPI, schema: dict[str, Any]) -> dict[tuple[str, str], Guard]:
    """(method, path) of each operation in `schema` → what its route checks."""
    found: dict[tuple[str, str], Guard] = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not route.include_in_schema or not context.path:
            continue
        for method in context.methods or ():
            operation = schema.get("paths", {}).get(context.path, {}).get(method.lower())
            if operation is not None:
                found[(method.lower(), context.path)] = guard_of(context, operation.get("security", []))
    return found


# ---- examples ----------------------------------------------------------------------------------


def _signature(directory: Path) -> tuple[tuple[str, int, int], ...]:
    if not directory.is_dir():
        return ()
    return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(directory.glob("*.json")))


@lru_cache(maxsize=4)
def _load(directory: Path, signature: tuple[tuple[str, int, int], ...]) -> dict[str, dict[str, Any]]:
    loaded: dict[str, dict[str, Any]] = {}
    for name, _, _ in signature:
        document = json.loads((directory / name).read_text(encoding="utf-8"))
        loaded[str(document["operation_id"])] = document
    return loaded


def load_examples(directory: Path = EXAMPLES_DIR) -> dict[str, dict[str, Any]]:
    """operation id → its recorded examples (read once per change of the directory)."""
    return _load(directory, _signature(directory))


def _attach_examples(operation: dict[str, Any], recorded: dict[str, Any]) -> None:
    body = operation.get("requestBody", {}).get("content", {})
    for media_type, examples in recorded.get("request", {}).items():
        if media_type in body and examples:
            body[media_type]["examples"] = copy.deepcopy(examples)
    for status, by_type in recorded.get("responses", {}).items():
        content = operation.get("responses", {}).get(status, {}).get("content", {})
        for media_type, examples in by_type.items():
            if media_type in content and examples:
                content[media_type]["examples"] = copy.deepcopy(examples)


# ---- the schema --------------------------------------------------------------------------------


def _is_framework_422(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref", "").endswith("/HTTPValidationError"))


def _statuses(operation: dict[str, Any], key: tuple[str, str]) -> None:
    """Only the statuses the operation answers: FastAPI's 422 out (or in the envelope where real),
    and the 200 of an idempotent replay beside the 201 of a first answer."""
    responses = operation.setdefault("responses", {})
    if "422" in responses and _is_framework_422(responses["422"]):
        if key in UNPROCESSABLE:
            responses["422"] = {
                "description": UNPROCESSABLE[key],
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
            }
        else:
            del responses["422"]
    takes_key = any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", []))
    if takes_key and "201" in responses and "200" not in responses:
        responses["200"] = {
            "description": "A replay: this Idempotency-Key's first answer again "
            "(`Idempotent-Replayed: true`)",
            "content": copy.deepcopy(responses["201"].get("content", {})),
        }
    operation["responses"] = dict(sorted(responses.items()))


def _headers(operation: dict[str, Any]) -> None:
    parameters: list[dict[str, Any]] = operation.setdefault("parameters", [])
    for parameter in parameters:
        if parameter.get("in") == "header" and parameter.get("name") == "Idempotency-Key":
            parameter["description"] = IDEMPOTENCY_DOC
            parameter["schema"]["description"] = IDEMPOTENCY_DOC
    responses: dict[str, Any] = operation.get("responses", {})
    if "304" in responses:
        parameters.append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "description": IF_NONE_MATCH_DOC,
                "schema": {"type": "string"},
            }
        )
    parameters.append(
        {
            "name": "X-Request-ID",
            "in": "header",
            "required": False,
            "description": REQUEST_ID_DOC,
            "schema": {"type": "string"},
        }
    )
    idempotent = any(p.get("name") == "Idempotency-Key" for p in parameters)
    for status, response in responses.items():
        names = ["X-Request-ID"]
        if status in ("423", "429", "503") or (status == "409" and idempotent):
            names.append("Retry-After")
        if status in ("200", "304") and "304" in responses:
            names.append("ETag")
        if idempotent and status in ("200", "201"):
            names.append("Idempotent-Replayed")
        headers = response.setdefault("headers", {})
        for name in names:
            headers.setdefault(name, {**RESPONSE_HEADERS[name], "schema": {"type": "string"}})


def _authorization(operation: dict[str, Any], access: Access) -> None:
    operation["security"] = [{name: [] for name in alternative} for alternative in access.security]
    note = f"**Authorization:** {access.text}"
    description = str(operation.get("description", "")).strip()
    operation["description"] = f"{description}\n\n{note}".strip()


def _drop_unused_components(schema: dict[str, Any]) -> None:
    text = json.dumps(schema.get("paths", {}))
    components = schema.get("components", {})
    for name in ("HTTPValidationError", "ValidationError"):
        if f"#/components/schemas/{name}" not in text:
            components.get("schemas", {}).pop(name, None)
    if "HTTPValidationError" not in components.get("schemas", {}):
        components.get("schemas", {}).pop("ValidationError", None)


def document_contract(app: FastAPI, examples_dir: Path = EXAMPLES_DIR) -> None:
    """Install the contract into `app.openapi` (after the other schema customisations)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            cached: dict[str, Any] = app.openapi_schema
            return cached
        schema = build()
        guards = route_guards(app, schema)
        examples = load_examples(examples_dir)
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                if not isinstance(operation, dict):
                    continue
                key = (method, path)
                _statuses(operation, key)
                _authorization(operation, access_of(guards.get(key, Guard("public"))))
                _headers(operation)
                recorded = examples.get(str(operation.get("operationId")))
                if recorded is not None:
                    _attach_examples(operation, recorded)
        components = schema.setdefault("components", {})
        schemes = components.setdefault("securitySchemes", {})
        schemes.pop("HTTPBearer", None)
        schemes.update(copy.deepcopy(SECURITY_SCHEMES))
        _drop_unused_components(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
