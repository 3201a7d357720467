"""The API's edges: bodies over the limit are refused before they are read, cursors the server could
not have issued are 400, human-readable text refuses control and bidi-override characters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from boxoffice.app import create_app
from boxoffice.config import Settings
from boxoffice.core.clock import FixedClock
from boxoffice.core.db import Database
from boxoffice.core.deps import Deps
from tests.factories.identity import TenantWorld, bearer, data, make_tenant, owner_token
from tests.helpers import assert_envelope, error_code

CHUNK = 64 * 1024
FIFTY_MB = 50 * 1024 * 1024


class Body:
    """A request body produced on demand, counting how much of it the server pulled."""

    def __init__(self, total: int, chunk: int = CHUNK) -> None:
        self.total = total
        self.chunk = chunk
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.sent < self.total:
            piece = min(self.chunk, self.total - self.sent)
            self.sent += piece
            yield b"x" * piece


@pytest.fixture
async def world(deps: Deps) -> TenantWorld:
    return await make_tenant(deps, "A")


async def admin_headers(client: httpx.AsyncClient, world: TenantWorld) -> dict[str, str]:
    return bearer(await owner_token(client, world))


# ---- request size ---------------------------------------------------------------------------------


async def test_a_declared_oversized_body_is_refused_without_reading_it(client: httpx.AsyncClient) -> None:
    body = Body(FIFTY_MB)
    response = await client.post(
        "/v1/employees/login",
        content=body,
        headers={"Content-Length": str(FIFTY_MB), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert error_code(response) == "E_PAYLOAD_TOO_LARGE"
    assert response.json()["error"]["details"] == {"limit_bytes": 64 * 1024}
    assert response.headers["connection"] == "close"
    assert body.sent == 0  # not one byte was pulled


async def test_a_chunked_body_is_cut_off_at_the_limit(client: httpx.AsyncClient) -> None:
    body = Body(FIFTY_MB)  # no Content-Length: httpx sends it chunked
    response = await client.post("/v1/auth/device/register", content=body)
    assert response.status_code == 413
    assert error_code(response) == "E_PAYLOAD_TOO_LARGE"
    assert body.sent <= 2 * CHUNK  # stopped at the first chunk past 64 KiB, not after 50 MB


async def test_unauthenticated_callers_hit_the_limit_first(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/stores", content=b"{" + b" " * (70 * 1024) + b"}")
    assert response.status_code == 413
    small = await client.post("/v1/stores", json={"name": "x"})
    assert small.status_code == 401


async def test_sync_batches_have_a_larger_allowance(client: httpx.AsyncClient) -> None:
    medium = b'{"ops": [], "pad": "' + b"x" * (1024 * 1024) + b'"}'
    allowed = await client.post(
        "/v1/sync/batch", content=medium, headers={"Content-Type": "application/json"}
    )
    assert allowed.status_code == 401  # read in full and judged on its merits (no token here)
    body = Body(3 * 1024 * 1024)
    refused = await client.post("/v1/sync/batch", content=body)
    assert refused.status_code == 413
    assert refused.json()["error"]["details"] == {"limit_bytes": 2 * 1024 * 1024}
    assert body.sent <= 2 * 1024 * 1024 + CHUNK


async def test_limits_are_configurable(settings: Settings, clean_db: Database, clock: FixedClock) -> None:
    small = create_app(replace(settings, body_limit_bytes=100), clock=clock, db=clean_db, background=False)
    async with small.router.lifespan_context(small):
        transport = httpx.ASGITransport(app=small, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as c:
            response = await c.post("/v1/employees/login", json={"email": "a@b.test", "password": "x" * 200})
    assert response.status_code == 413


async def test_the_schema_documents_the_413(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/v1/openapi.json")).json()["paths"]
    assert "E_PAYLOAD_TOO_LARGE" in paths["/v1/sales"]["post"]["responses"]["413"]["description"]
    assert "2097152" in paths["/v1/sync/batch"]["post"]["responses"]["413"]["description"]
    assert "413" not in paths["/v1/stores"]["get"]["responses"]


# ---- cursors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "cursor"),
    [
        ("/v1/audits", "99999999999999999999999"),  # past int64: the driver cannot even encode it
        ("/v1/audits", str(2**63)),
        ("/v1/audits", "-5"),
        ("/v1/audits", "abc"),
        ("/v1/access_logs", "18446744073709551616"),
        ("/v1/devices", "x\x00y"),
        ("/v1/devices", "a" * 129),
        ("/v1/sales", "{'$gt': ''}"),
        ("/v1/sales", "01J 01J"),
        ("/v1/refunds", "\u202e01J"),
        ("/v1/shifts", ""),
        ("/v1/incidents", "../../etc"),
    ],
)
async def test_a_cursor_the_server_never_issued_is_400(
    client: httpx.AsyncClient, world: TenantWorld, path: str, cursor: str
) -> None:
    response = await client.get(path, params={"cursor": cursor}, headers=await admin_headers(client, world))
    assert response.status_code == 400, response.text
    body = assert_envelope(response)
    assert body["error"]["code"] == "E_VALIDATION"
    assert body["error"]["details"][0]["loc"] == ["query", "cursor"]


async def test_issued_cursors_still_page(client: httpx.AsyncClient, world: TenantWorld) -> None:
    headers = await admin_headers(client, world)
    first = data(await client.get("/v1/audits", params={"limit": 1}, headers=headers))
    assert first["next_cursor"] is not None
    second = await client.get(
        "/v1/audits", params={"limit": 1, "cursor": first["next_cursor"]}, headers=headers
    )
    assert second.status_code == 200
    assert data(
        await client.get("/v1/devices", params={"cursor": "01JZZZZZZZZZZZZZZZZZZZZZZZ"}, headers=headers)
    )


# ---- human-readable text ------------------------------------------------------------------------


BAD_TEXT = [
    "Evil\x00Park",
    "Line\nbreak",
    "Tab\there",
    "\x1b[2Jclear",
    "Bell\x07",
    "C1\x85next",
    "abc\u202egnp.exe",  # RIGHT-TO-LEFT OVERRIDE
    "\u202aembedded",
    "isolate\u2066x\u2069",
    "sep\u2028arator",
]
GOOD_TEXT = [
    "Bangkok Central",
    "สวนสนุก บางนา",
    "Family 👨\u200d👩\u200d👧",
    "עברית\u200f (RLM)",
    "Ünïcödé Café",
]


@pytest.mark.parametrize("name", BAD_TEXT)
async def test_store_names_refuse_control_and_bidi_characters(
    client: httpx.AsyncClient, world: TenantWorld, name: str
) -> None:
    response = await client.post(
        "/v1/stores", json={"name": name}, headers=await admin_headers(client, world)
    )
    assert response.status_code == 400, response.text
    assert error_code(response) == "E_VALIDATION"
    assert name not in response.text


@pytest.mark.parametrize("name", ["Nul\x00", "Override\u202eKO", "Isolate\u2067x"])
async def test_employee_names_refuse_them_too(
    client: httpx.AsyncClient, world: TenantWorld, name: str
) -> None:
    body = {
        "name": name,
        "email": "new.person@staff.test",
        "pin": "7777",
        "memberships": [{"store_id": world.store_id, "role_ids": [world.role_ids["Cashier"]]}],
    }
    response = await client.post("/v1/employees", json=body, headers=await admin_headers(client, world))
    assert response.status_code == 400, response.text
    assert error_code(response) == "E_VALIDATION"


async def test_real_names_in_any_script_are_fine(client: httpx.AsyncClient, world: TenantWorld) -> None:
    headers = await admin_headers(client, world)
    for name in GOOD_TEXT:
        created = data(await client.post("/v1/stores", json={"name": name}, headers=headers), 201)
        assert created["name"] == name
    blank = await client.post("/v1/stores", json={"name": "   "}, headers=headers)
    assert blank.status_code == 400


async def test_multi_line_texts_take_newlines_but_nothing_else(
    client: httpx.AsyncClient, world: TenantWorld
) -> None:
    headers = await admin_headers(client, world)
    good = {"header": "Demo Play Park\nTax ID 0105\n", "footer": "ขอบคุณ\nThank you"}
    data(await client.put("/v1/settings/receipt", json=good, headers=headers))
    for bad in ("\x1b@reset printer", "Thanks\r\nagain", "x\u202ey", "nul\x00"):
        response = await client.put("/v1/settings/receipt", json={"footer": bad}, headers=headers)
        assert response.status_code == 400, (bad, response.text)
        assert error_code(response) == "E_VALIDATION"
    store = await client.patch(
        f"/v1/stores/{world.store_id}", json={"receipt_header": "Hi\u202e"}, headers=headers
    )
    assert store.status_code == 400
    label = await client.post(
        f"/v1/stores/{world.store_id}/site_keys", json={"label": "x\x00"}, headers=headers
    )
    assert label.status_code == 400


async def test_paths_with_nul_bytes_are_not_a_crash(client: httpx.AsyncClient, world: TenantWorld) -> None:
    headers = await admin_headers(client, world)
    for path in ("/v1/stores/a%00b", "/v1/%00", "/v1/sales/%00/receipt"):
        response = await client.get(path, headers=headers)
        assert 400 <= response.status_code < 500, (path, response.text)
        assert_envelope(response)
