"""The envelope and request ids hold on every kind of response, including failures."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from boxoffice.core.errors import Conflict
from tests.helpers import assert_envelope, error_code


@pytest.fixture
def app_with_probe_routes(app: FastAPI) -> FastAPI:
    """Routes that fail in each way a real endpoint can, added to the real app."""

    @app.get("/v1/_probe/crash")
    async def crash() -> None:
        raise RuntimeError("secret connection string mongodb://user:hunter2@db")

    @app.get("/v1/_probe/number")
    async def number(n: int) -> dict[str, int]:
        return {"n": n}

    @app.post("/v1/_probe/conflict")
    async def conflict() -> None:
        raise Conflict("Already taken.", details={"other": "x"})

    return app


async def test_health_is_an_envelope(client: httpx.AsyncClient) -> None:
    for path in ("/health", "/v1/health"):
        response = await client.get(path)
        assert response.status_code == 200
        body = assert_envelope(response)
        assert body["data"]["status"] == "ok"
        assert body["server_time"] == "2031-03-14T05:00:00.000Z"  # from the injected clock


async def test_unknown_path_is_404_envelope(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/no/such/thing")
    assert response.status_code == 404
    assert error_code(response) == "E_NOT_FOUND"


async def test_wrong_method_is_405_envelope(client: httpx.AsyncClient) -> None:
    response = await client.delete("/v1/health")
    assert response.status_code == 405
    assert error_code(response) == "E_METHOD_NOT_ALLOWED"


@pytest.mark.usefixtures("app_with_probe_routes")
async def test_validation_failure_is_400_with_field_details(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/_probe/number", params={"n": "not-a-number"})
    assert response.status_code == 400
    body = assert_envelope(response)
    assert body["error"]["code"] == "E_VALIDATION"
    assert body["error"]["details"][0]["loc"] == ["query", "n"]
    assert "not-a-number" not in response.text  # the submitted value is not echoed


@pytest.mark.usefixtures("app_with_probe_routes")
async def test_unexpected_error_is_generic_500_without_trace(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/_probe/crash")
    assert response.status_code == 500
    body = assert_envelope(response)
    assert body["error"]["code"] == "E_INTERNAL"
    assert "Traceback" not in response.text
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text


@pytest.mark.usefixtures("app_with_probe_routes")
async def test_app_error_keeps_its_code_status_and_details(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/_probe/conflict")
    assert response.status_code == 409
    body = assert_envelope(response)
    assert body["error"] == {"code": "E_CONFLICT", "message": "Already taken.", "details": {"other": "x"}}


async def test_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/health", headers={"X-Request-ID": "pos-7.req-42"})
    assert response.headers["x-request-id"] == "pos-7.req-42"
    assert response.json()["request_id"] == "pos-7.req-42"


async def test_request_id_is_generated_when_missing_or_unsafe(client: httpx.AsyncClient) -> None:
    first = await client.get("/v1/health")
    second = await client.get("/v1/health", headers={"X-Request-ID": "bad id\nwith newline"})
    third = await client.get("/v1/no-such", headers={"X-Request-ID": "x" * 500})
    ids = [r.headers["x-request-id"] for r in (first, second, third)]
    assert all(len(i) == 26 for i in ids)  # ULIDs
    assert len(set(ids)) == 3
    assert third.json()["request_id"] == ids[2]


async def test_openapi_schema_is_served_under_v1(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert "/v1/health/ready" in schema["paths"]
    assert "503" in schema["paths"]["/v1/health/ready"]["get"]["responses"]
