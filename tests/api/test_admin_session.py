"""The admin's browser session: token in an httpOnly cookie, CSRF on writes, refresh, logout."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from boxoffice.admin.app import create_admin_app
from boxoffice.config import Settings
from boxoffice.core.clock import FixedClock
from boxoffice.core.deps import Deps
from tests.factories.identity import TenantWorld, make_tenant
from tests.helpers import error_code


@pytest.fixture
async def world(deps: Deps) -> TenantWorld:
    return await make_tenant(deps, "A")


@pytest.fixture
async def admin_app(
    settings: Settings, app: FastAPI, clock: FixedClock, tmp_path: Path
) -> AsyncIterator[FastAPI]:
    (tmp_path / "index.html").write_text("<title>BoxOffice</title>")
    application = create_admin_app(
        replace(settings, admin_dist=tmp_path, api_url="http://api.internal"),
        clock=clock,
        transport=httpx.ASGITransport(app=app),
    )
    async with application.router.lifespan_context(application):
        yield application


def browser(admin_app: FastAPI, base_url: str = "http://admin.localhost") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=admin_app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url=base_url)


async def sign_in(client: httpx.AsyncClient, world: TenantWorld) -> httpx.Response:
    await client.get("/")  # the page load leaves the CSRF cookie
    return await client.post(
        "/session/login",
        json={"email": world.owner_email, "password": world.owner_password},
        headers={"X-CSRF-Token": client.cookies["bo_csrf"]},
    )


async def test_sign_in_keeps_the_token_out_of_the_page(admin_app: FastAPI, world: TenantWorld) -> None:
    async with browser(admin_app) as client:
        assert (await client.get("/session")).status_code == 401
        response = await sign_in(client, world)
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert data["email"] == world.owner_email
        assert "device_manage" in data["permissions"]
        assert "access_token" not in response.text
        cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("bo_session="))
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert "Secure" not in cookie  # local development over http
        assert (await client.get("/session")).json()["data"]["employee_id"] == data["employee_id"]
        stores = await client.get("/v1/stores")
        assert stores.status_code == 200
        assert len(stores.json()["data"]["items"]) == 2


async def test_cookies_are_secure_over_https(admin_app: FastAPI, world: TenantWorld) -> None:
    async with browser(admin_app, "https://admin.park.example") as client:
        page = await client.get("/")
        assert all("Secure" in h for h in page.headers.get_list("set-cookie"))
        response = await sign_in(client, world)
        assert response.status_code == 200
        assert all("Secure" in h for h in response.headers.get_list("set-cookie"))


async def test_sign_in_works_over_plain_http_on_any_host_name(admin_app: FastAPI, world: TenantWorld) -> None:
    """What Compose publishes: http on the server's own name. Secure cookies would never come back."""
    async with browser(admin_app, "http://boxoffice.lan:48081") as client:
        page = await client.get("/")
        assert not any("Secure" in h for h in page.headers.get_list("set-cookie"))
        response = await sign_in(client, world)
        assert response.status_code == 200, response.text
        assert not any("Secure" in h for h in response.headers.get_list("set-cookie"))
        assert (await client.get("/session")).status_code == 200
        assert (await client.get("/v1/stores")).status_code == 200


@pytest.mark.parametrize(
    ("mode", "base_url", "secure"),
    [
        ("always", "http://boxoffice.lan", True),
        ("never", "https://admin.park.example", False),
        ("auto", "http://admin.park.example", False),
        ("auto", "https://localhost", True),
    ],
)
async def test_admin_cookie_secure_setting(
    settings: Settings,
    app: FastAPI,
    clock: FixedClock,
    tmp_path: Path,
    mode: str,
    base_url: str,
    secure: bool,
) -> None:
    (tmp_path / "index.html").write_text("<title>BoxOffice</title>")
    application = create_admin_app(
        replace(settings, admin_dist=tmp_path, api_url="http://api.internal", admin_cookie_secure=mode),  # type: ignore[arg-type]
        clock=clock,
        transport=httpx.ASGITransport(app=app),
    )
    async with application.router.lifespan_context(application), browser(application, base_url) as client:
        cookies = (await client.get("/")).headers.get_list("set-cookie")
        assert cookies
        assert all(("Secure" in h) is secure for h in cookies)


async def test_writes_need_the_csrf_header(admin_app: FastAPI, world: TenantWorld) -> None:
    async with browser(admin_app) as client:
        await sign_in(client, world)
        store_id = (await client.get("/v1/stores")).json()["data"]["items"][0]["store_id"]
        forged = await client.post(f"/v1/stores/{store_id}/site_keys", json={})
        assert forged.status_code == 403
        assert error_code(forged) == "E_PERMISSION"
        wrong = await client.post(
            f"/v1/stores/{store_id}/site_keys", json={}, headers={"X-CSRF-Token": "guess"}
        )
        assert wrong.status_code == 403
        real = await client.post(
            f"/v1/stores/{store_id}/site_keys", json={}, headers={"X-CSRF-Token": client.cookies["bo_csrf"]}
        )
        assert real.status_code == 201
        no_csrf_login = await client.post("/session/login", json={"email": "a@b.test", "password": "x"})
        assert no_csrf_login.status_code == 403


async def test_wrong_password_shows_the_api_error(admin_app: FastAPI, world: TenantWorld) -> None:
    async with browser(admin_app) as client:
        await client.get("/")
        response = await client.post(
            "/session/login",
            json={"email": world.owner_email, "password": "not-it"},
            headers={"X-CSRF-Token": client.cookies["bo_csrf"]},
        )
        assert response.status_code == 401
        assert error_code(response) == "E_UNAUTHENTICATED"
        assert "bo_session" not in client.cookies


async def test_session_is_refreshed_then_ends_after_twelve_hours(
    admin_app: FastAPI, world: TenantWorld, clock: FixedClock
) -> None:
    async with browser(admin_app) as client:
        await sign_in(client, world)
        first = client.cookies["bo_session"]
        clock.advance(timedelta(minutes=11))  # inside the refresh margin
        assert (await client.get("/v1/stores")).status_code == 200
        second = client.cookies["bo_session"]
        assert second != first
        clock.advance(timedelta(minutes=40))  # idle past expiry: still refreshed (within 12 h)
        assert (await client.get("/session")).status_code == 200
        clock.advance(timedelta(hours=12))
        ended = await client.get("/v1/stores")
        assert ended.status_code == 401
        assert "bo_session" not in client.cookies


async def test_sign_out_clears_the_session(admin_app: FastAPI, world: TenantWorld) -> None:
    async with browser(admin_app) as client:
        await sign_in(client, world)
        out = await client.post("/session/logout", headers={"X-CSRF-Token": client.cookies["bo_csrf"]})
        assert out.status_code == 200
        assert "bo_session" not in client.cookies
        assert (await client.get("/session")).status_code == 401
        assert (await client.get("/v1/stores")).status_code == 401


async def test_a_forged_session_cookie_is_refused_by_the_api(admin_app: FastAPI, world: TenantWorld) -> None:
    async with browser(admin_app) as client:
        response = await client.get("/v1/stores", headers={"Cookie": "bo_session=forged.token.here"})
        assert response.status_code == 401
