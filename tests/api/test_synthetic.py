"""`boxoffice synthetic` against a live API and admin (real HTTP, uvicorn in threads): every workflow
passes, the synthetic store is made once and flagged, what a run opens it closes, and failures
name the step and fail the command."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import generate_latest

from boxoffice.admin.app import create_admin_app
from boxoffice.app import create_app
from boxoffice.config import Settings
from boxoffice.core.clock import SystemClock
from boxoffice.core.db import Database
from boxoffice.core.deps import Deps
from boxoffice.core.repository import Scope
from boxoffice.embedded_db import free_port
from boxoffice.ops.synthetic import (
    PACKAGE_NAME,
    STEPS,
    Checker,
    ConfigurationError,
    Credentials,
    SyntheticMetrics,
)
from boxoffice.staff import service as staff
from boxoffice.tenancy.repository import StoreRepository
from tests.live import ThreadedServer

OWNER = Credentials("owner@synthetic.test", "owner-password-1", "2468")


@dataclass
class Live:
    api: str
    admin: str
    settings: Settings
    tenant_id: str
    role_ids: dict[str, str]


@pytest.fixture(scope="module")
def live(settings: Settings, repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    dist = repo_root / "admin-ui" / "dist"
    if not (dist / "index.html").exists():
        pytest.fail("admin-ui/dist is missing: `make test` builds it (npm run build in admin-ui)")
    own = replace(
        settings,
        mongo_db=settings.mongo_db + "_synthetic",
        admin_dist=dist,
        var_dir=tmp_path_factory.mktemp("syn"),
    )

    async def seed() -> dict[str, Any]:
        db = Database(own.mongo_uri, own.mongo_db)
        try:
            await db.ensure_indexes()
            return await staff.create_tenant(
                Deps(db, SystemClock(), own),
                name="Synthetic Park",
                legal_name="Synthetic Park Co., Ltd.",
                tz="Asia/Bangkok",
                owner_name="Owner",
                owner_email=OWNER.email,
                owner_password=OWNER.password,
                owner_pin=OWNER.pin,
            )
        finally:
            await db.close()

    tenant = asyncio.run(seed())
    api_port, admin_port = free_port(), free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    with (
        ThreadedServer(create_app(own, background=False), api_port),
        ThreadedServer(create_admin_app(replace(own, api_url=api_url)), admin_port),
    ):
        yield Live(api_url, f"http://localhost:{admin_port}", own, tenant["tenant_id"], tenant["role_ids"])


def as_owner(live: Live) -> httpx.Client:
    token = httpx.post(
        f"{live.api}/v1/employees/login", json={"email": OWNER.email, "password": OWNER.password}
    ).json()["data"]["access_token"]
    return httpx.Client(base_url=live.api, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def run_cli(
    live: Live, tmp_path: Path, credentials: Credentials, api: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The command as a container runs it: the password and PIN from secret files."""
    (tmp_path / "password").write_text(credentials.password + "\n")
    (tmp_path / "pin").write_text(credentials.pin)
    env = {
        **os.environ,
        "SYNTHETIC_EMAIL": credentials.email,
        "SYNTHETIC_PASSWORD_FILE": str(tmp_path / "password"),
        "SYNTHETIC_PIN_FILE": str(tmp_path / "pin"),
    }
    command = [
        sys.executable,
        "-m",
        "boxoffice.cli",
        "synthetic",
        "--api",
        api or live.api,
        "--admin",
        live.admin,
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_every_workflow_passes_and_the_synthetic_store_is_made_once(live: Live, tmp_path: Path) -> None:
    first = run_cli(live, tmp_path, OWNER)

    assert first.returncode == 0, first.stdout + first.stderr
    lines = first.stdout.splitlines()
    assert lines[-1].startswith("PASS in ")
    for _, label in STEPS:
        assert any(line.startswith(f"  ok    {label}") and line.split()[-1] != "" for line in lines), label
    assert "(made now)" in first.stdout
    assert OWNER.password not in first.stdout + first.stderr
    assert OWNER.pin not in first.stdout.replace(live.api, "").replace(live.admin, "")

    second = Checker(live.api, live.admin, OWNER).run()
    assert second.ok, "\n".join(second.lines())
    assert "(made now)" not in "\n".join(second.lines())

    with as_owner(live) as owner:
        stores = owner.get("/v1/stores").json()["data"]["items"]
        synthetic = [s for s in stores if s["synthetic"]]
        assert [s["name"] for s in synthetic] == ["Synthetic checks"]
        store_id = synthetic[0]["store_id"]
        packages = owner.get("/v1/catalog/packages").json()["data"]["items"]
        assert [p["store_id"] for p in packages if p["name"] == PACKAGE_NAME] == [store_id]
        devices = owner.get("/v1/devices", params={"store_id": store_id}).json()["data"]["items"]
        assert len(devices) == 2
        assert {d["status"] for d in devices} == {"revoked"}  # each run unpairs the POS it paired
        sales = owner.get("/v1/sales", params={"store_id": store_id}).json()["data"]["items"]
        assert len(sales) == 2
        audits = owner.get("/v1/audits", params={"event_type": "store.created"}).json()["data"]["items"]
        assert audits[0]["payload"]["synthetic"] is True


def test_reports_read_every_store_but_the_synthetic_one(live: Live) -> None:
    async def reported() -> tuple[list[str], list[str]]:
        db = Database(live.settings.mongo_uri, live.settings.mongo_db)
        try:
            repo = StoreRepository(db, Scope(live.tenant_id))
            every = [s["store_id"] for s in await repo.find_many()]
            counted = [s["store_id"] for s in await repo.reported({"store_id": 1, "tz": 1})]
            return every, counted
        finally:
            await db.close()

    with as_owner(live) as owner:
        real = owner.post("/v1/stores", json={"name": "Real Store"}).json()["data"]
        assert real["synthetic"] is False
    every, counted = asyncio.run(reported())
    assert real["store_id"] in counted
    assert len(every) == len(counted) + 1  # the synthetic store, made by the test above or now


def test_a_manager_of_the_synthetic_store_alone_can_run_it(live: Live) -> None:
    """Least privilege: the checker's own employee needs a role at the synthetic store only."""
    assert Checker(live.api, live.admin, OWNER).run().ok  # the store exists
    with as_owner(live) as owner:
        store_id = next(
            s["store_id"] for s in owner.get("/v1/stores").json()["data"]["items"] if s["synthetic"]
        )
        manager = Credentials("checker@synthetic.test", "checker-password-1", "1357")
        created = owner.post(
            "/v1/employees",
            json={
                "name": "Synthetic checker",
                "email": manager.email,
                "password": manager.password,
                "pin": manager.pin,
                "memberships": [{"store_id": store_id, "role_ids": [live.role_ids["Manager"]]}],
            },
        )
        assert created.status_code == 201, created.text

    report = Checker(live.api, live.admin, manager).run()
    assert report.ok, "\n".join(report.lines())


def test_a_wrong_password_fails_at_sign_in_and_skips_the_rest(live: Live, tmp_path: Path) -> None:
    wrong = Credentials(OWNER.email, "not-the-password", OWNER.pin)
    done = run_cli(live, tmp_path, wrong)

    assert done.returncode == 1
    failed = [line for line in done.stdout.splitlines() if line.startswith("  FAIL")]
    assert len(failed) == 1
    assert "sign in" in failed[0]
    assert "E_UNAUTHENTICATED" in failed[0]
    assert "not-the-password" not in done.stdout
    assert sum(line.startswith("  skip") for line in done.stdout.splitlines()) == len(STEPS) - 4
    assert done.stdout.splitlines()[-1].startswith("FAIL at sign in")


def test_an_api_that_does_not_answer_fails_the_first_step(live: Live, tmp_path: Path) -> None:
    done = run_cli(live, tmp_path, OWNER, api=f"http://127.0.0.1:{free_port()}")

    assert done.returncode == 1
    assert done.stdout.splitlines()[-1].startswith("FAIL at API health")
    assert "ConnectError" in done.stdout


def test_missing_credentials_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="SYNTHETIC_PIN"):
        Credentials.from_env({"SYNTHETIC_EMAIL": "a@b.test", "SYNTHETIC_PASSWORD": "x"})
    with pytest.raises(ConfigurationError, match="cannot be read"):
        Credentials.from_env(
            {
                "SYNTHETIC_EMAIL": "a@b.test",
                "SYNTHETIC_PASSWORD": "x",
                "SYNTHETIC_PIN_FILE": str(tmp_path / "no"),
            }
        )
    env = {key: value for key, value in os.environ.items() if not key.startswith("SYNTHETIC_")}
    done = subprocess.run(
        [sys.executable, "-m", "boxoffice.cli", "synthetic", "--api", "http://x", "--admin", "http://y"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "SYNTHETIC_EMAIL (or SYNTHETIC_EMAIL_FILE)" in done.stderr


def test_the_kept_device_is_reused_and_a_failed_run_is_counted(live: Live) -> None:
    """The loop keeps its POS between runs; its metrics say which step failed."""
    checker = Checker(live.api, live.admin, OWNER, keep_device=True)
    metrics = SyntheticMetrics()
    first = checker.run()
    metrics.record(first)
    second = checker.run()
    metrics.record(second)

    assert first.ok, "\n".join(first.lines())
    assert second.ok, "\n".join(second.lines())
    assert [s.name for s in first.steps].count("pair_device") == 1
    assert "pair_device" not in [s.name for s in second.steps]  # signed in with the kept device
    assert "unpair_device" not in [s.name for s in second.steps]

    checker.credentials = Credentials(OWNER.email, OWNER.password, "0000")  # a wrong PIN
    third = checker.run()
    metrics.record(third)
    assert not third.ok
    text = generate_latest(metrics.registry).decode()
    assert "boxoffice_synthetic_up 0.0" in text
    assert 'boxoffice_synthetic_runs_total{result="pass"} 2.0' in text
    assert 'boxoffice_synthetic_runs_total{result="fail"} 1.0' in text
    assert 'boxoffice_synthetic_step_up{step="staff_sign_in"} 0.0' in text
    assert 'boxoffice_synthetic_step_up{step="device_sign_in"} 1.0' in text
    assert 'boxoffice_synthetic_step_up{step="sell"} 0.0' in text  # skipped

    with as_owner(live) as owner:
        kept = checker.device
        assert kept is not None
        device = owner.get(f"/v1/devices/{kept.device_id}").json()["data"]
        assert device["status"] == "active"  # kept for the next run
        shifts = owner.get("/v1/shifts", params={"device_id": kept.device_id}).json()["data"]["items"]
        assert shifts
        assert {s["status"] for s in shifts} == {"closed"}


def test_the_loop_pairs_afresh_when_its_device_is_due_and_revokes_the_old_one(live: Live) -> None:
    checker = Checker(live.api, live.admin, OWNER, keep_device=True, pair_every=0)
    assert checker.run().ok
    old = checker.device
    assert checker.run().ok
    new = checker.device
    assert old is not None
    assert new is not None
    assert new.device_id != old.device_id

    with as_owner(live) as owner:
        store_id = next(
            s["store_id"] for s in owner.get("/v1/stores").json()["data"]["items"] if s["synthetic"]
        )
        active = owner.get("/v1/devices", params={"store_id": store_id, "status": "active"}).json()["data"]
        assert [d["device_id"] for d in active["items"]] == [new.device_id]  # one synthetic POS at a time
