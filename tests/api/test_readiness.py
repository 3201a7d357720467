"""Readiness follows the database: 503 E_UNAVAILABLE while it is down, 200 again once it is back,
without restarting the API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from boxoffice.app import create_app
from boxoffice.config import load_settings
from boxoffice.embedded_db import EmbeddedMongo, free_port
from tests.helpers import assert_envelope


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[EmbeddedMongo]:
    """A server of this test's own, file-backed so a restart keeps the data."""
    server = EmbeddedMongo(str(tmp_path / "db" / "ready.db"), free_port(), tmp_path / "run")
    yield server
    server.stop()


@pytest.fixture
async def own_client(own_server: EmbeddedMongo, base_env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    settings = load_settings({**base_env, "MONGO_URI": own_server.uri, "MONGO_TIMEOUT_MS": "500"})
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            yield client


async def test_ready_when_up_503_when_down_and_back_without_restart(
    own_server: EmbeddedMongo, own_client: httpx.AsyncClient
) -> None:
    # The API started before the database: not ready, but alive.
    response = await own_client.get("/v1/health/ready")
    assert response.status_code == 503
    assert assert_envelope(response)["error"]["code"] == "E_UNAVAILABLE"
    assert response.headers["retry-after"] == "2"
    assert (await own_client.get("/health")).status_code == 200

    own_server.start()
    response = await own_client.get("/v1/health/ready")
    assert response.status_code == 200
    data = assert_envelope(response)["data"]
    assert data["status"] == "ready"
    assert data["indexes"] == "ok"  # created late, on the first ready check after the database came up
    assert data["db_latency_ms"] >= 0
    assert data["version"]

    own_server.stop()
    response = await own_client.get("/v1/health/ready")
    assert response.status_code == 503
    body = assert_envelope(response)
    assert body["error"]["code"] == "E_UNAVAILABLE"
    assert "Traceback" not in response.text
    assert (await own_client.get("/health")).status_code == 200  # liveness does not depend on the DB

    own_server.start()
    response = await own_client.get("/v1/health/ready")
    assert response.status_code == 200
    assert assert_envelope(response)["data"]["indexes"] == "ok"

    metrics = (await own_client.get("/metrics")).text
    assert 'boxoffice_http_errors_total{code="E_UNAVAILABLE"} 2.0' in metrics
