"""Debian's Prometheus, run with deploy/monitoring's config and alert rules, scrapes a live API (with
the metrics token) and a live synthetic checker; its query API then answers with live rates, every
alert rule evaluates cleanly and every dashboard query runs."""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client import start_http_server

from boxoffice.admin.app import create_admin_app
from boxoffice.app import create_app
from boxoffice.config import Settings
from boxoffice.core.clock import SystemClock
from boxoffice.core.db import Database
from boxoffice.core.deps import Deps
from boxoffice.embedded_db import free_port
from boxoffice.ops.synthetic import Checker, Credentials, SyntheticMetrics, serve
from boxoffice.staff import service as staff
from tests.live import ThreadedServer
from tests.prometheus_tools import debian_tool
from tests.unit.test_monitoring import MONITORING, dashboard_queries

TOKEN = "scrape-" + "p" * 40
CHECKER = Credentials("checker@prometheus.test", "checker-password-1", "8642")


@dataclass
class Stack:
    api: str
    prometheus: str

    def query(self, expr: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.prometheus}/api/v1/query", params={"query": expr}, timeout=10).json()
        assert answer["status"] == "success", (expr, answer)
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result


def wait_for(what: str, check: Any, timeout: float = 40.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.25)
    pytest.fail(f"{what} did not happen within {timeout:.0f} s")


def prometheus_config(tmp: Path, api_port: int, checker_port: int, own_port: int) -> Path:
    """The deployed config with this test's addresses, scraping every second."""
    config = yaml.safe_load((MONITORING / "prometheus" / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
    (tmp / "metrics_token").write_text(TOKEN)
    targets = {"api": api_port, "synthetic": checker_port, "prometheus": own_port}
    for job in config["scrape_configs"]:
        job.pop("dns_sd_configs", None)
        job["static_configs"] = [{"targets": [f"127.0.0.1:{targets[job['job_name']]}"]}]
        if "authorization" in job:
            job["authorization"]["credentials_file"] = str(tmp / "metrics_token")
    (tmp / "rules").mkdir()
    for rules in (MONITORING / "prometheus" / "rules").glob("*.yml"):
        (tmp / "rules" / rules.name).write_text(rules.read_text())
    path = tmp / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def stack(settings: Settings, repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    binary = debian_tool("prometheus")
    dist = repo_root / "admin-ui" / "dist"
    if not (dist / "index.html").exists():
        pytest.fail("admin-ui/dist is missing: `make test` builds it (npm run build in admin-ui)")
    tmp = tmp_path_factory.mktemp("prometheus")
    own = replace(
        settings,
        mongo_db=settings.mongo_db + "_prom",
        metrics_token=TOKEN,
        admin_dist=dist,
        var_dir=tmp / "var",
    )

    async def seed() -> None:
        db = Database(own.mongo_uri, own.mongo_db)
        try:
            await db.ensure_indexes()
            await staff.create_tenant(
                Deps(db, SystemClock(), own),
                name="Scraped Park",
                legal_name="Scraped Park Co., Ltd.",
                tz="Asia/Bangkok",
                owner_name="Checker",
                owner_email=CHECKER.email,
                owner_password=CHECKER.password,
                owner_pin=CHECKER.pin,
            )
        finally:
            await db.close()

    asyncio.run(seed())
    api_port, admin_port, checker_port, prom_port = free_port(), free_port(), free_port(), free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    config = prometheus_config(tmp, api_port, checker_port, prom_port)
    stop = threading.Event()
    with (
        ThreadedServer(create_app(own, background=False), api_port),
        ThreadedServer(create_admin_app(replace(own, api_url=api_url)), admin_port),
    ):
        # The Compose `synthetic` service: runs every few seconds here, its last run on /metrics.
        metrics = SyntheticMetrics()
        server, _ = start_http_server(checker_port, addr="127.0.0.1", registry=metrics.registry)
        checker = Checker(api_url, f"http://127.0.0.1:{admin_port}", CHECKER, keep_device=True)
        loop = threading.Thread(
            target=serve, args=(checker, metrics), kwargs={"every": 3.0, "stop": stop, "say": lambda _: None}
        )
        loop.start()
        log = (tmp / "prometheus.log").open("wb")
        prometheus = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp / 'data'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            url = f"http://127.0.0.1:{prom_port}"

            def ready() -> bool:
                if prometheus.poll() is not None:
                    pytest.fail(f"prometheus exited: {(tmp / 'prometheus.log').read_text()[-2000:]}")
                try:
                    return httpx.get(f"{url}/-/ready", timeout=1).status_code == 200
                except httpx.HTTPError:
                    return False

            wait_for("prometheus ready", ready)
            yield Stack(api_url, url)
        finally:
            stop.set()
            prometheus.terminate()
            try:
                prometheus.wait(15)
            except subprocess.TimeoutExpired:
                prometheus.kill()
                prometheus.wait()
            log.close()
            loop.join(30)
            server.shutdown()
            server.server_close()


def test_prometheus_reads_a_live_request_rate_from_the_api(stack: Stack) -> None:
    def live_rate() -> float:
        for _ in range(20):
            httpx.get(f"{stack.api}/v1/health", timeout=5)
        found = stack.query('sum(rate(boxoffice_http_requests_total{job="api", route="/v1/health"}[5s]))')
        return float(found[0]["value"][1]) if found else 0.0

    rate = wait_for("a live request rate", live_rate)
    assert rate > 0
    targets = httpx.get(f"{stack.prometheus}/api/v1/targets", timeout=10).json()["data"]["activeTargets"]
    health = {t["labels"]["job"]: t["health"] for t in targets}
    assert health == {"api": "up", "synthetic": "up", "prometheus": "up"}  # the bearer token is accepted


def test_prometheus_sees_the_synthetic_check_pass(stack: Stack) -> None:
    def passed() -> bool:
        found = stack.query("max(boxoffice_synthetic_up)")
        return bool(found) and found[0]["value"][1] == "1"

    wait_for("a passing synthetic run", passed)
    steps = {r["metric"]["step"] for r in stack.query("boxoffice_synthetic_step_up == 1")}
    assert {"sign_in", "sell", "redeem", "refund", "close_shift"} <= steps
    sales = stack.query('sum(boxoffice_sales_total{job="api"})')
    assert sales
    assert float(sales[0]["value"][1]) >= 1  # the checker's sales reach the API's counters


def test_every_alert_rule_evaluates_cleanly(stack: Stack) -> None:
    def evaluated() -> list[dict[str, Any]]:
        groups = httpx.get(f"{stack.prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        done = rules and all(r["lastEvaluation"] > "2000" for r in rules)
        return rules if done else []

    rules = wait_for("every rule evaluated", evaluated)
    assert len(rules) == 8
    assert [(r["name"], r.get("lastError", "")) for r in rules if r["health"] != "ok"] == []
    firing = {r["name"] for r in rules if r["state"] == "firing"}
    assert "BoxOfficeApiDown" not in firing
    assert "BoxOfficeSyntheticFailing" not in firing


def test_every_dashboard_query_runs_against_live_data(stack: Stack) -> None:
    wait_for("sales counted", lambda: stack.query("boxoffice_sales_total"))
    # With traffic, a sale, a scan and a refund behind it, only what nothing produced yet is empty.
    # A rate or an increase needs two scrapes of its series: a counter seen once (the checker's
    # first run) is looked at again until it has them.
    may_be_empty = {
        "Reprints and refunds per hour",
        "Last good backup",
        "Server errors (5 min)",
        "Errors by code",
    }

    def still_empty() -> set[str]:
        queries = dashboard_queries()
        return {t for t, expr in queries if not stack.query(expr.replace("$__rate_interval", "10s"))}

    deadline = time.monotonic() + 20
    while (missing := still_empty() - may_be_empty) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert missing == set()
