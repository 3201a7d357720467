"""Edges that need real sockets: the uvicorn servers configured exactly as `boxoffice serve` and
`boxoffice admin` configure them (cli.api_server_config / admin_server_config), on free ports.

- Client addresses: the API believes X-Forwarded-For only from FORWARDED_ALLOW_IPS (the admin),
  the admin believes nobody's, so no caller chooses the address it is audited and limited under.
- Raw request lines (`GET /v1/../metrics`) that an HTTP client library would normalise away.
- A 50 MB body is refused without the server reading it.
"""

from __future__ import annotations

import asyncio
import select
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
import uvicorn

from boxoffice.admin.app import create_admin_app
from boxoffice.app import create_app
from boxoffice.cli import admin_server_config, api_server_config
from boxoffice.config import Settings
from boxoffice.core.clock import SystemClock
from boxoffice.core.db import C, Database
from boxoffice.core.deps import Deps
from boxoffice.core.ids import new_id
from boxoffice.embedded_db import free_port
from tests.factories.identity import TenantWorld, make_tenant


class Running:
    """A uvicorn server in a thread, from the same Config the CLI builds."""

    def __init__(self, config: uvicorn.Config) -> None:
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.port = config.port

    def __enter__(self) -> Running:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"port {self.port} did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@dataclass
class Layout:
    api_port: int
    admin_port: int
    db: Database
    world: TenantWorld


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text("<title>BoxOffice</title>")
    return tmp_path


@pytest.fixture
async def live_db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.mongo_uri, f"bo_live_{new_id().lower()}")
    await database.ensure_indexes()
    yield database
    await database.client.drop_database(database.db.name)
    await database.close()


@pytest.fixture
def live_settings(settings: Settings, live_db: Database, dist: Path) -> Settings:
    return replace(
        settings, mongo_db=live_db.db.name, admin_dist=dist, api_host="127.0.0.1", admin_host="127.0.0.1"
    )


def start(
    api_settings: Settings, admin_transport: httpx.AsyncBaseTransport | None = None
) -> tuple[Running, Running]:
    api_settings = replace(api_settings, api_port=free_port())
    admin_settings = replace(
        api_settings, admin_port=free_port(), api_url=f"http://127.0.0.1:{api_settings.api_port}"
    )
    api = Running(api_server_config(api_settings, create_app(api_settings, background=False)))
    admin = Running(
        admin_server_config(admin_settings, create_admin_app(admin_settings, transport=admin_transport))
    )
    return api, admin


@pytest.fixture
async def world(live_db: Database, live_settings: Settings) -> TenantWorld:
    return await make_tenant(Deps(live_db, SystemClock(), live_settings), "L")


def from_address(address: str) -> httpx.AsyncClient:
    """A client whose connections leave from this loopback address (all of 127/8 is local)."""
    return httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(local_address=address), timeout=10)


async def login_subjects(db: Database) -> set[str]:
    """Whom the API counted employee-login attempts against (rate-limit keys `name:subject:window`)."""
    keys = [doc["key"] async for doc in db[C.RATE_LIMITS].find({}, {"key": 1})]
    return {key.split(":")[1] for key in keys if key.startswith("employee_login:")}


async def failed_login_ips(db: Database, tenant_id: str) -> list[str | None]:
    return [
        doc["ip"]
        async for doc in db[C.AUDITS].find(
            {"tenant_id": tenant_id, "event_type": "auth.employee.login_failed"}, {"ip": 1}
        )
    ]


def wrong_password(world: TenantWorld) -> dict[str, str]:
    return {"email": world.owner_email, "password": "not-the-password"}


SPOOF = {"X-Forwarded-For": "203.0.113.7", "X-Real-IP": "203.0.113.8", "Forwarded": "for=203.0.113.9"}


async def test_dev_layout_callers_cannot_choose_their_address(
    live_settings: Settings, live_db: Database, world: TenantWorld
) -> None:
    """`make run`: api and admin on one host; the API trusts loopback (the admin), the admin nobody."""
    api, admin = start(live_settings)
    with api, admin:
        async with from_address("127.0.0.2") as device:  # a direct caller the API does not trust
            response = await device.post(
                f"http://127.0.0.1:{api.port}/v1/employees/login", json=wrong_password(world), headers=SPOOF
            )
            assert response.status_code == 401
        for address in ("127.0.0.3", "127.0.0.4", "127.0.0.1"):  # browsers, through the admin
            async with from_address(address) as browser:
                response = await browser.post(
                    f"http://127.0.0.1:{admin.port}/v1/employees/login",
                    json=wrong_password(world),
                    headers=SPOOF,
                )
                assert response.status_code == 401
    assert await login_subjects(live_db) == {"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.1"}
    ips = await failed_login_ips(live_db, world.tenant_id)
    assert sorted(ip or "" for ip in ips) == ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"]


async def test_compose_layout_only_the_admins_address_is_trusted(
    live_settings: Settings, live_db: Database, world: TenantWorld
) -> None:
    """Docker: the admin has a fixed address (here 127.0.0.5) and FORWARDED_ALLOW_IPS names it. Each
    browser behind the admin is seen as itself; a device calling the API directly, even from the
    loopback address uvicorn trusts by default, cannot claim another address."""
    api, admin = start(
        replace(live_settings, forwarded_allow_ips=("127.0.0.5",)),
        admin_transport=httpx.AsyncHTTPTransport(local_address="127.0.0.5"),
    )
    with api, admin:
        async with from_address("127.0.0.1") as device:
            response = await device.post(
                f"http://127.0.0.1:{api.port}/v1/employees/login", json=wrong_password(world), headers=SPOOF
            )
            assert response.status_code == 401
        for address in ("127.0.0.6", "127.0.0.7"):
            async with from_address(address) as browser:
                response = await browser.post(
                    f"http://127.0.0.1:{admin.port}/v1/employees/login",
                    json=wrong_password(world),
                    headers=SPOOF,
                )
                assert response.status_code == 401
    assert await login_subjects(live_db) == {"127.0.0.1", "127.0.0.6", "127.0.0.7"}


async def test_the_admin_believes_a_tls_proxy_it_is_told_about(
    live_settings: Settings, world: TenantWorld
) -> None:
    """ADMIN_FORWARDED_ALLOW_IPS: behind a TLS terminator the admin takes its X-Forwarded-Proto, so
    cookies are Secure and HSTS is sent; from anyone else the same header changes nothing."""
    api, admin = start(replace(live_settings, admin_forwarded_allow_ips=("127.0.0.8",)))
    with api, admin:
        url = f"http://127.0.0.1:{admin.port}/"
        async with from_address("127.0.0.8") as proxy:
            behind = await proxy.get(
                url, headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.4"}
            )
        async with from_address("127.0.0.9") as stranger:
            direct = await stranger.get(url, headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in behind.headers["set-cookie"]
    assert "strict-transport-security" in behind.headers
    assert "Secure" not in direct.headers["set-cookie"]
    assert "strict-transport-security" not in direct.headers


# ---- raw request lines --------------------------------------------------------------------------


def raw_request(port: int, request: bytes) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
            if b"\r\n\r\n" in answer:
                head, _, body = answer.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    None,
                )
                if length is not None and len(body) >= length:
                    break
    status = int(answer.split(b" ", 2)[1])
    return status, answer


@pytest.mark.parametrize(
    "target",
    [
        b"/v1/../metrics",
        b"/v1/./../metrics",
        b"/v1/health/../../metrics",
        b"/v1/%2e%2e/metrics",
        b"/v1/.%2e/metrics",
        b"/v1/..%2fmetrics",
        b"/v1%2f..%2fmetrics",
        b"/v1/%252e%252e/metrics",
        b"/v1/..\\metrics",
        b"/v1/..%5cmetrics",
        b"/v1/..;/metrics/..",
    ],
)
def test_raw_paths_never_reach_the_apis_metrics(live_settings: Settings, target: bytes) -> None:
    api, admin = start(live_settings)
    with api, admin:
        status, answer = raw_request(
            admin.port, b"GET " + target + b" HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n"
        )
    assert status in (400, 404), answer
    assert b"boxoffice_http_requests" not in answer
    assert b'"E_NOT_FOUND"' in answer or b'"E_VALIDATION"' in answer


def test_a_nul_in_the_path_is_400_not_500(live_settings: Settings) -> None:
    api, admin = start(live_settings)
    with api, admin:
        for port in (admin.port, api.port):
            status, answer = raw_request(port, b"GET /%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert 400 <= status < 500, answer
            assert b'"error"' in answer


# ---- 50 MB ----------------------------------------------------------------------------------------


def rss_bytes() -> int:
    """Resident memory of this process (the servers run in its threads)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096


FIFTY_MB = 50 * 1024 * 1024


def push_body(port: int, head: bytes, chunks: Iterator[bytes]) -> tuple[int, int]:
    """Send `head`, then chunks until the server answers (or closes); (status, bytes of body sent)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        answer = b""
        for chunk in chunks:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        sock.settimeout(10)
        try:
            while b"\r\n" not in answer:
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
        except ConnectionResetError:
            pass
    return int(answer.split(b" ", 2)[1]), sent


def payload(total: int, size: int = 64 * 1024, chunked: bool = False) -> Iterator[bytes]:
    for _ in range(total // size):
        yield (f"{size:x}\r\n".encode() + b"x" * size + b"\r\n") if chunked else b"x" * size


@pytest.mark.parametrize("path", [b"/v1/employees/login", b"/v1/sync/batch"])
def test_fifty_megabytes_are_refused_unread(live_settings: Settings, path: bytes) -> None:
    api, admin = start(live_settings)
    with api, admin:
        for port in (api.port, admin.port):
            before = rss_bytes()
            head = (
                b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: " + str(FIFTY_MB).encode() + b"\r\n\r\n"
            )
            status, sent = push_body(port, head, payload(FIFTY_MB))
            assert status == 413
            assert sent < 16 * 1024 * 1024  # the answer came long before the body was through
            chunked_head = b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            status, sent = push_body(port, chunked_head, payload(FIFTY_MB, chunked=True))
            assert status == 413
            assert sent < 16 * 1024 * 1024
            assert rss_bytes() - before < 24 * 1024 * 1024  # it never held the 50 MB


async def test_the_servers_keep_serving_after_a_refusal(live_settings: Settings) -> None:
    api, admin = start(live_settings)
    with api, admin:
        await asyncio.to_thread(
            push_body,
            api.port,
            b"POST /v1/stores HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n",
            payload(1024 * 1024),
        )
        async with httpx.AsyncClient(timeout=10) as client:
            assert (await client.get(f"http://127.0.0.1:{api.port}/health")).status_code == 200
            assert (await client.get(f"http://127.0.0.1:{admin.port}/v1/health")).status_code == 200
