"""No Docker engine runs here, so the deployment files' invariants are checked statically, on each
stack as Compose renders it (compose.yaml with its override file: tests/stacks.py); what keeps the
two stacks apart is tests/unit/test_stacks.py."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

import pytest

from tests.stacks import stack

#: Each stack's published API and admin ports.
PORTS = {"production": ("48080", "48081"), "staging": ("48180", "48181")}


@pytest.fixture(scope="module", params=sorted(PORTS))
def compose(request: pytest.FixtureRequest, repo_root: Path) -> dict[str, Any]:
    rendered = stack(repo_root, request.param)
    rendered["stack"] = request.param
    return rendered


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    return {k: str(v) for k, v in env.items()}


def test_every_service_on_one_network(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"api", "admin", "mongo", "backup"} <= set(services)
    networks = {tuple(s["networks"]) for s in services.values()}
    assert networks == {("backend",)}


def test_mongo_publishes_no_port_and_has_auth_volume_and_healthcheck(compose: dict[str, Any]) -> None:
    mongo = compose["services"]["mongo"]
    assert mongo["image"].startswith("mongo:7")
    assert "ports" not in mongo
    assert "expose" not in mongo or all(str(p) == "27017" for p in mongo["expose"])
    env = env_of(mongo)
    assert env["MONGO_INITDB_ROOT_USERNAME"]
    assert env["MONGO_INITDB_ROOT_PASSWORD_FILE"].startswith("/run/secrets/")
    volume = mongo["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]  # a named volume, not a bind mount
    assert mongo["healthcheck"]["test"]


def test_api_listens_on_48080_and_reads_secrets_from_files(compose: dict[str, Any]) -> None:
    api = compose["services"]["api"]
    assert api["ports"] == [f"{PORTS[compose['stack']][0]}:48080"]
    env = env_of(api)
    assert env["API_PORT"] == "48080"
    assert env["ENVIRONMENT"] == compose["stack"]
    for secret in ("JWT_SECRET", "QR_HMAC_KEYS", "WEBHOOK_MASTER_KEY", "MONGO_URI"):
        assert secret not in env
        assert env[f"{secret}_FILE"].startswith("/run/secrets/")
    assert "48080" in " ".join(api["healthcheck"]["test"])


def test_admin_proxies_to_the_api_inside_the_network(compose: dict[str, Any]) -> None:
    admin = compose["services"]["admin"]
    assert admin["ports"] == [f"{PORTS[compose['stack']][1]}:48081"]
    assert env_of(admin)["API_URL"] == "http://api:48080"
    assert admin["healthcheck"]["test"]


def test_every_secret_is_a_file(compose: dict[str, Any]) -> None:
    used = {s for svc in compose["services"].values() for s in svc.get("secrets", [])}
    assert used == set(compose["secrets"])
    assert all("file" in spec for spec in compose["secrets"].values())


@pytest.mark.parametrize("name", ["compose.yaml", "compose.production.yaml", "compose.staging.yaml"])
def test_no_secret_values_in_the_compose_files(repo_root: Path, name: str) -> None:
    text = (repo_root / name).read_text()
    assert not re.search(r"(PASSWORD|SECRET|KEY|TOKEN)\w*\s*:\s*(?!/run/secrets/)\S{8,}", text)


def test_dockerfile_is_multi_stage_and_runs_as_non_root(repo_root: Path) -> None:
    text = (repo_root / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)", text, flags=re.MULTILINE)
    assert any(s.startswith("node:") for s in stages)
    assert stages[-1].startswith("python:")
    assert "slim" in stages[-1]
    users = re.findall(r"^USER\s+(\S+)", text, flags=re.MULTILINE)
    assert users
    assert users[-1] not in ("root", "0")
    assert "uv sync --frozen" in text


def test_the_api_believes_forwarded_addresses_from_the_admin_only(compose: dict[str, Any]) -> None:
    """The admin has a fixed address on a fixed subnet, outside the range other containers draw
    from; the API's FORWARDED_ALLOW_IPS names exactly that address (never a network or `*`)."""
    services = compose["services"]
    admin_address = services["admin"]["networks"]["backend"]["ipv4_address"]
    assert len(compose["networks"]["backend"]["ipam"]["config"]) == 1  # one subnet: the stack's own
    assert env_of(services["api"])["FORWARDED_ALLOW_IPS"] == admin_address
    ipam = compose["networks"]["backend"]["ipam"]["config"][0]
    address = ipaddress.ip_address(admin_address)
    assert address in ipaddress.ip_network(ipam["subnet"])
    assert address not in ipaddress.ip_network(ipam["ip_range"])
    assert address != ipaddress.ip_address(ipam["gateway"])  # published ports may arrive from there
    assert "FORWARDED_ALLOW_IPS" not in env_of(services["admin"])  # browsers come straight in


def test_metrics_need_a_token_and_cookies_follow_the_scheme(compose: dict[str, Any]) -> None:
    for name in ("api", "admin"):
        service = compose["services"][name]
        assert env_of(service)["METRICS_TOKEN_FILE"] == "/run/secrets/metrics_token"
        assert "metrics_token" in service["secrets"]
    assert env_of(compose["services"]["admin"])["ADMIN_COOKIE_SECURE"] == "auto"
