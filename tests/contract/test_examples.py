"""The OpenAPI schema the app serves shows an example for every request body and every documented
answer (recorded from real responses by `make contract` into docs/api/examples/), each example
still matches the schema, and every operation says who may call it and which headers it reads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from boxoffice.app import create_app
from boxoffice.config import Settings
from boxoffice.contract.examples import UNSHOWN
from boxoffice.contract.openapi import BACK_OFFICE, DEVICE, STAFF_ON_DEVICE, load_examples

ROOT = "urn:boxoffice:openapi"
SCHEMES = {DEVICE, STAFF_ON_DEVICE, BACK_OFFICE}


@pytest.fixture(scope="module")
def app_and_schema(settings: Settings) -> tuple[Any, dict[str, Any]]:
    app = create_app(settings)
    return app, app.openapi()


@pytest.fixture(scope="module")
def schema(app_and_schema: tuple[Any, dict[str, Any]]) -> dict[str, Any]:
    return app_and_schema[1]


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def pointer(*parts: str) -> str:
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def validator(schema: dict[str, Any], *parts: str) -> Draft202012Validator:
    """A validator for the schema at this place in the OpenAPI document (its $refs resolve there)."""
    registry: Registry[Any] = Registry().with_resource(
        ROOT, Resource.from_contents(schema, default_specification=DRAFT202012)
    )
    return Draft202012Validator({"$ref": ROOT + pointer(*parts)}, registry=registry)


def test_every_request_body_has_an_example(schema: dict[str, Any]) -> None:
    lacking = [
        f"{method.upper()} {path}"
        for path, method, operation in operations(schema)
        if "requestBody" in operation
        and not any(c.get("examples") for c in operation["requestBody"]["content"].values())
    ]
    assert not lacking, f"no request example (run `make contract`): {lacking}"


def test_every_documented_answer_has_an_example(schema: dict[str, Any]) -> None:
    """A status with a body shows one in the schema; one without (204, 304) was seen by the flows."""
    recorded = load_examples()
    lacking = []
    for path, method, operation in operations(schema):
        op_id = operation["operationId"]
        seen = recorded.get(op_id, {}).get("responses", {})
        for status, response in operation["responses"].items():
            if (op_id, status) in UNSHOWN:
                continue
            content = response.get("content")
            shown = any(c.get("examples") for c in content.values()) if content else status in seen
            if not shown:
                lacking.append(f"{method.upper()} {path} {status}")
    assert not lacking, f"documented but never shown (run `make contract`): {lacking}"


def test_the_unshown_list_is_current(schema: dict[str, Any]) -> None:
    """Each status excused from showing an example is still documented and still lacks one."""
    documented = {
        (op["operationId"], status): op for _, _, op in operations(schema) for status in op["responses"]
    }
    for key, reason in UNSHOWN.items():
        assert key in documented, f"{key} is no longer documented: drop it from UNSHOWN ({reason})"
        content = documented[key]["responses"][key[1]].get("content", {})
        assert not any(c.get("examples") for c in content.values()), f"{key} has an example now: drop it"


def test_every_example_matches_the_schema(schema: dict[str, Any]) -> None:
    failures = []
    for path, method, operation in operations(schema):
        places: list[tuple[tuple[str, ...], dict[str, Any]]] = []
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
            places.append((("paths", path, method, "requestBody", "content", media_type), content))
        for status, response in operation["responses"].items():
            for media_type, content in response.get("content", {}).items():
                places.append((("paths", path, method, "responses", status, "content", media_type), content))
        for where, content in places:
            if "schema" not in content or not content.get("examples"):
                continue
            check = validator(schema, *where, "schema")
            for name, example in content["examples"].items():
                value = example["value"]
                if where[-1] == "text/csv":
                    if not isinstance(value, str) or "," not in value.splitlines()[0]:
                        failures.append(f"{method.upper()} {path} {where[-3]} {name}: not CSV")
                    continue
                for error in check.iter_errors(value):
                    at = "/".join(str(p) for p in error.absolute_path)
                    failures.append(f"{method.upper()} {path} {where[4]} {name}: {at}: {error.message[:200]}")
    assert not failures, "examples that no longer match the schema (run `make contract`):\n" + "\n".join(
        failures
    )


def test_answers_are_enveloped_and_errors_carry_their_code(schema: dict[str, Any]) -> None:
    for path, method, operation in operations(schema):
        for status, response in operation["responses"].items():
            for example in (
                response.get("content", {}).get("application/json", {}).get("examples", {}).values()
            ):
                body = example["value"]
                assert set(body) == {"server_time", "request_id", "data", "error"}, (method, path, status)
                if int(status) >= 400:
                    assert body["data"] is None, (method, path, status)
                    assert body["error"]["code"].startswith("E_"), (method, path, status)
                else:
                    assert body["error"] is None, (method, path, status)


def test_every_operation_says_who_may_call_it(schema: dict[str, Any]) -> None:
    declared = set(schema["components"]["securitySchemes"])
    assert SCHEMES <= declared
    for path, method, operation in operations(schema):
        assert "**Authorization:**" in operation.get("description", ""), (method, path)
        security = operation.get("security")
        assert isinstance(security, list), (method, path)
        assert security, (method, path)
        named = {name for alternative in security for name in alternative}
        assert named <= declared, (method, path, named)
        if not path.startswith("/v1/health") and path not in (
            "/v1/auth/device/register",
            "/v1/auth/device/login",
        ):
            assert named, f"{method.upper()} {path} names no principal"


def test_back_office_operations_refuse_devices_in_their_schema(schema: dict[str, Any]) -> None:
    """An operation a device token may not call lists only the back-office scheme."""
    employees = schema["paths"]["/v1/employees"]["get"]
    assert employees["security"] == [{BACK_OFFICE: []}]
    assert schema["paths"]["/v1/gate/bootstrap"]["get"]["security"] == [{DEVICE: []}, {STAFF_ON_DEVICE: []}]
    assert {} in schema["paths"]["/v1/employees/login"]["post"]["security"]


def _header(operation: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next(
        (p for p in operation.get("parameters", []) if p["in"] == "header" and p["name"] == name), None
    )


def test_every_operation_declares_its_headers(app_and_schema: tuple[Any, dict[str, Any]]) -> None:
    app, schema = app_and_schema
    reads_key = set()
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.original_route.include_in_schema:
            if any(p.alias == "Idempotency-Key" for p in context.dependant.header_params):
                reads_key |= {(m.lower(), context.path) for m in context.methods or ()}
    assert reads_key, "no route reads an Idempotency-Key?"
    for path, method, operation in operations(schema):
        request_id = _header(operation, "X-Request-ID")
        assert request_id is not None, (method, path)
        assert request_id["required"] is False, (method, path)
        key = _header(operation, "Idempotency-Key")
        if (method, path) in reads_key:
            assert key is not None, (method, path)
            assert key["required"] is True, (method, path)
            assert "E_IDEMPOTENCY_MISMATCH" in key["description"]
            assert "Idempotent-Replayed" in key["description"]
            assert "200" in operation["responses"], f"{method.upper()} {path} documents no replay"
        else:
            assert key is None, (method, path)
        conditional = _header(operation, "If-None-Match")
        assert (conditional is not None) == ("304" in operation["responses"]), (method, path)
        for status, response in operation["responses"].items():
            assert "X-Request-ID" in response.get("headers", {}), (method, path, status)
            if status in ("423", "429", "503"):
                assert "Retry-After" in response["headers"], (method, path, status)


def test_only_statuses_the_api_answers(schema: dict[str, Any]) -> None:
    """Request validation is 400 E_VALIDATION in the envelope: FastAPI's 422 is never documented."""
    for path, method, operation in operations(schema):
        for status, response in operation["responses"].items():
            ref = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
            assert not ref.endswith("HTTPValidationError"), (method, path, status)
    assert "HTTPValidationError" not in schema["components"]["schemas"]
