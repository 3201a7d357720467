"""`boxoffice dev` (what `make run` calls) starts database, API and admin; Ctrl-C stops all
three; a second start keeps the data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from pymongo import MongoClient

from boxoffice.embedded_db import free_port


def wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 40.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"dev runner exited early with {process.returncode}"
        try:
            response = httpx.get(url, timeout=1.0)
            if response.status_code == 200:
                return response
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not come up")


def port_is_free(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=0.5)
    except httpx.HTTPError:
        return True
    return False


def run_once(env: dict[str, str], api: int, admin: int, mongo: int) -> tuple[str, object]:
    process = subprocess.Popen(
        [sys.executable, "-m", "boxoffice.cli", "dev"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        health = wait_for(f"http://127.0.0.1:{api}/health", process)
        assert health.json()["data"]["status"] == "ok"
        page = wait_for(f"http://127.0.0.1:{admin}/", process)
        assert "BoxOffice" in page.text
        ready = wait_for(f"http://127.0.0.1:{admin}/v1/health/ready", process)
        assert ready.json()["data"]["status"] == "ready"
        client: MongoClient[dict[str, object]] = MongoClient(
            f"mongodb://127.0.0.1:{mongo}/?directConnection=true", tz_aware=True
        )
        tenants = list(client["boxoffice"]["tenants"].find({}))
        client.close()
        assert len(tenants) == 1
        assert tenants[0]["name"] == "Demo Play Park"
    finally:
        process.send_signal(signal.SIGINT)  # what Ctrl-C does
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output.decode()
    return output.decode(), tenants[0]["created_at"]


def test_dev_runner_starts_stops_and_keeps_data(tmp_path: Path) -> None:
    api, admin, mongo = free_port(), free_port(), free_port()
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<title>BoxOffice</title>")
    env = {
        **os.environ,
        "API_PORT": str(api),
        "ADMIN_PORT": str(admin),
        "DEV_MONGO_PORT": str(mongo),
        "VAR_DIR": str(tmp_path / "var"),
        "ADMIN_DIST": str(dist),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("MONGO_URI", None)
    output, first_created = run_once(env, api, admin, mongo)
    assert f"http://localhost:{api}/" in output
    assert f"http://localhost:{admin}/" in output
    assert "stopped." in output
    assert port_is_free(api)
    assert port_is_free(admin)
    assert (tmp_path / "var" / "db" / "boxoffice.db").exists()

    _, second_created = run_once(env, api, admin, mongo)
    assert second_created == first_created  # the seed did not run over the kept data
