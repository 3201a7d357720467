"""The admin service serves the built SPA and proxies /v1 to the API, keeping one request id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request

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


# ---- paths that would leave /v1 -----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/v1/%2e%2e/metrics",
        "/v1/%2E%2E/metrics",
        "/v1/..%2Fmetrics",
        "/v1/..%2fmetrics",
        "/v1%2F..%2Fmetrics",
        "/v1/%252e%252e/metrics",  # double-encoded
        "/v1/%25252e%25252e/metrics",  # triple
        "/v1/..%5Cmetrics",  # backslash
        "/v1/..\\metrics",
        "/v1/health/%2e%2e/%2e%2e/metrics",
        "/v1/stores%2F01JABC",
    ],
)
async def test_proxy_paths_that_climb_out_of_v1_are_refused(admin: httpx.AsyncClient, path: str) -> None:
    response = await admin.get(path)
    assert response.status_code == 404, (path, response.text)
    assert assert_envelope(response)["error"]["code"] == "E_NOT_FOUND"
    assert "boxoffice_http_requests" not in response.text


@pytest.mark.parametrize(
    "path", ["/%00", "/v1/%00", "/v1/stores/a%00b", "/assets/%00.js", "/x%0d%0aSet-Cookie:a=b"]
)
async def test_control_characters_in_a_path_are_a_bad_request_not_a_crash(
    admin: httpx.AsyncClient, path: str
) -> None:
    response = await admin.get(path)
    assert response.status_code == 400, (path, response.text)
    assert assert_envelope(response)["error"]["code"] == "E_VALIDATION"


async def test_ordinary_paths_still_reach_the_api_and_the_build(admin: httpx.AsyncClient) -> None:
    assert (await admin.get("/v1/health")).status_code == 200
    assert (await admin.get("/v1/health", params={"q": "../x"})).status_code == 200  # a query is no path
    assert (await admin.get("/assets/app.js")).status_code == 200
    assert (await admin.get("/stores/01JABC/devices")).text == INDEX


# ---- security headers ---------------------------------------------------------------------------


SECURITY = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


@pytest.mark.parametrize(
    "path", ["/", "/login", "/assets/app.js", "/v1/health", "/v1/nothing", "/health", "/%00"]
)
async def test_every_answer_carries_the_security_headers(admin: httpx.AsyncClient, path: str) -> None:
    response = await admin.get(path)
    for name, value in SECURITY.items():
        assert response.headers[name] == value, (path, name)
    csp = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no inline script, no eval
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "strict-transport-security" not in response.headers  # plain http


async def test_hsts_only_over_https(settings: Settings, app: FastAPI, dist: Path) -> None:
    admin_settings = replace(settings, admin_dist=dist, api_url="http://api.internal")
    admin_app = create_admin_app(admin_settings, transport=httpx.ASGITransport(app=app))
    async with admin_app.router.lifespan_context(admin_app):
        transport = httpx.ASGITransport(app=admin_app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="https://admin.park.example") as client:
            for path in ("/", "/v1/health"):
                response = await client.get(path)
                assert response.headers["strict-transport-security"].startswith("max-age=")


# ---- what the API is told about the browser -----------------------------------------------------


@pytest.fixture
def echo_headers(app: FastAPI) -> None:
    @app.get("/v1/_probe/headers")
    async def headers(request: Request) -> dict[str, object]:
        return {"headers": dict(request.headers), "client": request.client.host if request.client else None}


@pytest.mark.usefixtures("echo_headers")
async def test_the_browser_cannot_claim_another_address(admin: httpx.AsyncClient) -> None:
    spoofed = {
        "X-Forwarded-For": "203.0.113.7",
        "X-Real-IP": "203.0.113.8",
        "Forwarded": "for=203.0.113.9;proto=https",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "evil.example",
        "True-Client-IP": "203.0.113.10",
    }
    seen = (await admin.get("/v1/_probe/headers", headers=spoofed)).json()["headers"]
    assert "203.0.113" not in str(seen)
    assert seen["x-forwarded-for"] == "127.0.0.1"  # the admin's own peer (the ASGI test client)
    assert seen["x-forwarded-proto"] == "http"
    assert "forwarded" not in seen
    assert "x-real-ip" not in seen
    assert "x-forwarded-host" not in seen


# ---- body size ------------------------------------------------------------------------------------


async def test_the_admin_refuses_oversized_bodies_before_reading_them(admin: httpx.AsyncClient) -> None:
    sent = 0

    async def fifty_megabytes() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(800):
            sent += 65536
            yield b"x" * 65536

    declared = await admin.post(
        "/v1/employees/login", content=b"x" * 70_000, headers={"Content-Type": "application/json"}
    )
    assert declared.status_code == 413
    assert assert_envelope(declared)["error"]["code"] == "E_PAYLOAD_TOO_LARGE"
    chunked = await admin.post("/v1/stores", content=fifty_megabytes())  # proxied: the admin reads it
    assert chunked.status_code == 413
    assert assert_envelope(chunked)["error"]["code"] == "E_PAYLOAD_TOO_LARGE"
    assert sent <= 2 * 65536  # cut off at the limit, never buffered whole
