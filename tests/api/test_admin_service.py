"""The admin service serves the built SPA and proxies /v1 to the API, keeping one request id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from boxoffice.admin.app import create_admin_app
from boxoffice.config import Settings
from tests.helpers import assert_envelope

INDEX = "<!doctype html><title>BoxOffice</title><div id=root></div>"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    folder = tmp_path / "dist"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text(INDEX)
    (folder / "assets" / "app.js").write_text("console.log('admin')")
    (tmp_path / "outside.txt").write_text("not for the browser")
    return folder


@pytest.fixture
async def admin(settings: Settings, app: FastAPI, dist: Path) -> AsyncIterator[httpx.AsyncClient]:
    admin_settings = replace(settings, admin_dist=dist, api_url="http://api.internal")
    admin_app = create_admin_app(admin_settings, transport=httpx.ASGITransport(app=app))
    async with admin_app.router.lifespan_context(admin_app):
        transport = httpx.ASGITransport(app=admin_app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://admin.test") as client:
            yield client


async def test_proxies_v1_with_the_envelope_and_request_id(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/v1/health/ready", headers={"X-Request-ID": "admin-req-1"})
    assert response.status_code == 200
    body = assert_envelope(response)
    assert body["request_id"] == "admin-req-1"  # the API saw the same id
    assert body["data"]["status"] == "ready"


async def test_proxy_passes_errors_and_query_strings_through(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/v1/nothing/here", params={"a": "1", "b": "x y"})
    assert response.status_code == 404
    assert assert_envelope(response)["error"]["code"] == "E_NOT_FOUND"


async def test_spa_routes_fall_back_to_index(admin: httpx.AsyncClient) -> None:
    for path in ("/", "/login", "/stores/01JABC/devices"):
        response = await admin.get(path)
        assert response.status_code == 200
        assert response.text == INDEX
        assert response.headers["cache-control"] == "no-cache"


async def test_built_assets_are_served(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/assets/app.js")
    assert response.status_code == 200
    assert "admin" in response.text


async def test_paths_outside_the_build_are_not_served(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/..%2Foutside.txt")
    assert "not for the browser" not in response.text
    response = await admin.get("/assets/../../outside.txt")
    assert "not for the browser" not in response.text


async def test_api_down_is_503_envelope(settings: Settings, dist: Path) -> None:
    admin_settings = replace(settings, admin_dist=dist, api_url="http://127.0.0.1:9")
    admin_app = create_admin_app(admin_settings)
    async with admin_app.router.lifespan_context(admin_app):
        transport = httpx.ASGITransport(app=admin_app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://admin.test") as client:
            response = await client.get("/v1/health")
    assert response.status_code == 503
    assert assert_envelope(response)["error"]["code"] == "E_UNAVAILABLE"
