"""Production and staging as Compose renders them (compose.yaml + compose.<stack>.yaml), checked
without Docker: both run on one host without touching each other — no shared project, volume,
secret file, published port, subnet or image tag; mongo never published; secrets only from files;
each stack's API believes forwarded addresses from its own admin only; a backup service in each."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.stacks import Override, Reset, load, published, render, stack, volume_name

STACKS = ("production", "staging")


@pytest.fixture(scope="module")
def stacks(repo_root: Path) -> dict[str, dict[str, Any]]:
    return {name: stack(repo_root, name) for name in STACKS}


def env_of(service: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in (service.get("environment") or {}).items()}


def test_each_stack_has_its_own_project_name(stacks: dict[str, dict[str, Any]]) -> None:
    assert {name: s["name"] for name, s in stacks.items()} == {
        "production": "boxoffice-production",
        "staging": "boxoffice-staging",
    }


def test_the_base_alone_names_no_project_and_publishes_nothing(repo_root: Path) -> None:
    base = load(repo_root / "compose.yaml")
    assert "name" not in base
    for name, service in base["services"].items():
        ports = service.get("ports") or []
        assert all(str(p).startswith("127.0.0.1:") for p in ports), name  # at most the host's loopback
    assert "ipam" not in (base["networks"]["backend"] or {})


@pytest.mark.parametrize("name", STACKS)
def test_every_service_that_reads_it_is_told_its_environment(
    stacks: dict[str, dict[str, Any]], name: str
) -> None:
    services = stacks[name]["services"]
    for service in ("api", "admin", "backup", "synthetic"):
        assert env_of(services[service])["ENVIRONMENT"] == name, service


def test_no_volume_is_shared(stacks: dict[str, dict[str, Any]]) -> None:
    names = {s: {volume_name(c, key) for key in c["volumes"]} for s, c in stacks.items()}
    assert not names["production"] & names["staging"]
    assert "boxoffice-production-mongo-data" in names["production"]
    for compose in stacks.values():
        for service_name, service in compose["services"].items():
            for mount in service.get("volumes") or []:
                source = str(mount).split(":")[0]
                if not source.startswith((".", "/")):  # a named volume: declared, so it is the stack's own
                    assert source in compose["volumes"], (service_name, source)


def test_no_published_port_is_shared_and_mongo_is_never_published(stacks: dict[str, dict[str, Any]]) -> None:
    ports = {s: [p for svc in c["services"].values() for p in published(svc)] for s, c in stacks.items()}
    for name, taken in ports.items():
        assert len(taken) == len(set(taken)), name
    host_ports = {s: {port for _, port in taken} for s, taken in ports.items()}
    assert not host_ports["production"] & host_ports["staging"]
    for compose in stacks.values():
        mongo = compose["services"]["mongo"]
        assert "ports" not in mongo
        assert all(str(p) == "27017" for p in mongo.get("expose") or [])
        for name in ("backup", "prometheus", "synthetic"):
            assert "ports" not in compose["services"][name], name
        assert all(host == "127.0.0.1" for host, _ in published(compose["services"]["grafana"]))


def test_secrets_come_only_from_each_stacks_own_files(stacks: dict[str, dict[str, Any]]) -> None:
    files: dict[str, set[str]] = {}
    for name, compose in stacks.items():
        declared = compose["secrets"]
        used = {secret for svc in compose["services"].values() for secret in svc.get("secrets") or []}
        assert used <= set(declared)
        for secret, spec in declared.items():
            assert set(spec) == {"file"}, secret  # not `environment:`, not `external:`
            assert spec["file"] == f"./secrets/{name}/{secret}"
        files[name] = {spec["file"] for spec in declared.values()}
        for service_name, service in compose["services"].items():
            for key, value in env_of(service).items():
                if re.search(r"PASSWORD|SECRET|TOKEN|_KEY|MONGO_URI", key) and "EMAIL" not in key:
                    assert key.endswith(("_FILE", "__FILE")), (service_name, key)
                    assert value.startswith("/run/secrets/"), (service_name, key)
    assert not files["production"] & files["staging"]


def test_the_stacks_networks_are_apart_and_each_api_believes_only_its_admin(
    stacks: dict[str, dict[str, Any]],
) -> None:
    subnets = []
    for name, compose in stacks.items():
        (ipam,) = compose["networks"]["backend"]["ipam"]["config"]
        subnet = ipaddress.ip_network(ipam["subnet"])
        subnets.append(subnet)
        admin = ipaddress.ip_address(compose["services"]["admin"]["networks"]["backend"]["ipv4_address"])
        assert admin in subnet, name
        assert admin not in ipaddress.ip_network(ipam["ip_range"]), name  # nobody else is handed it
        assert admin != ipaddress.ip_address(ipam["gateway"]), name  # where published ports arrive from
        assert env_of(compose["services"]["api"])["FORWARDED_ALLOW_IPS"] == str(admin), name
        fixed = [
            svc_name
            for svc_name, svc in compose["services"].items()
            if any((spec or {}).get("ipv4_address") for spec in (svc.get("networks") or {}).values())
        ]
        assert fixed == ["admin"], name
        for svc_name, svc in compose["services"].items():
            if svc_name != "api":
                assert "FORWARDED_ALLOW_IPS" not in env_of(svc), (name, svc_name)
    assert not subnets[0].overlaps(subnets[1])


def test_each_stack_builds_and_runs_its_own_images(stacks: dict[str, dict[str, Any]]) -> None:
    """Building staging must never replace the image production restarts with."""
    for name, compose in stacks.items():
        for service in ("api", "admin", "synthetic"):
            assert compose["services"][service]["image"] == f"boxoffice:{name}", service
        assert compose["services"]["backup"]["image"] == f"boxoffice-backup:{name}"


@pytest.mark.parametrize("name", STACKS)
def test_each_stack_backs_up_into_its_own_volume_daily(stacks: dict[str, dict[str, Any]], name: str) -> None:
    compose = stacks[name]
    backup = compose["services"]["backup"]
    assert backup["build"] == {"context": ".", "target": "backup"}
    assert backup["command"] == ["boxoffice", "backups", "serve"]
    assert backup["secrets"] == ["mongo_uri"]  # the database's address; no signing or encryption key
    env = env_of(backup)
    assert env["MONGO_URI_FILE"] == "/run/secrets/mongo_uri"
    assert env["BACKUP_DIR"] == "/backups"
    assert re.fullmatch(r"\d\d:\d\d", env["BACKUP_TIME"])
    assert (env["BACKUP_KEEP_DAILY"], env["BACKUP_KEEP_WEEKLY"], env["BACKUP_KEEP_MONTHLY"]) == (
        "7",
        "4",
        "12",
    )
    assert env["TZ"]
    assert backup["volumes"] == ["backups:/backups"]
    assert volume_name(compose, "backups") == f"boxoffice-{name}-backups"
    assert backup["depends_on"]["mongo"]["condition"] == "service_healthy"
    mongo_volumes = {str(v).split(":")[0] for v in compose["services"]["mongo"]["volumes"]}
    assert "backups" not in mongo_volumes  # archives never sit on the database's disk


def test_the_backups_run_at_different_times(stacks: dict[str, dict[str, Any]]) -> None:
    times = {name: env_of(compose["services"]["backup"])["BACKUP_TIME"] for name, compose in stacks.items()}
    assert times["production"] != times["staging"]


def test_the_backup_image_carries_the_database_tools(repo_root: Path) -> None:
    text = (repo_root / "Dockerfile").read_text()
    stage = text.split("AS backup", 1)[1].split("\nFROM ", 1)[0]
    assert re.search(r"COPY --from=mongo:7 .*mongodump .*mongorestore", stage)
    assert "libgssapi-krb5-2" in stage  # what the tools link against
    assert re.search(r"^USER boxoffice$", stage, flags=re.MULTILINE)
    assert "chown boxoffice:boxoffice /backups" in stage
    assert re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", text, flags=re.MULTILINE)[-1] == "runtime"


def test_the_stack_scripts_name_both_stacks(repo_root: Path) -> None:
    script = (repo_root / "deploy" / "stack").read_text()
    assert 'docker compose -f compose.yaml -f "compose.$stack.yaml"' in script
    secrets = (repo_root / "deploy" / "make-secrets").read_text()
    for name in stack(repo_root, "production")["secrets"]:
        assert name in secrets, name
    assert "openssl rand -hex 32" in secrets  # the Mongo password goes into a URI unescaped


# ---- the renderer itself, on small files: it must merge as Compose does ----------------------------


def test_the_renderer_merges_as_compose_does(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    extra = tmp_path / "extra.yaml"
    base.write_text(
        yaml.safe_dump(
            {
                "name": "base",
                "services": {
                    "web": {
                        "image": "web:latest",
                        "command": ["serve", "--fast"],
                        "environment": ["A=1", "B=2"],
                        "networks": ["net"],
                        "ports": ["8080:80"],
                        "volumes": ["data:/data", "./conf:/conf"],
                        "secrets": ["one"],
                    }
                },
            }
        )
    )
    extra.write_text(
        "name: other\n"
        "services:\n"
        "  web:\n"
        "    image: web:stable\n"
        "    command: [serve]\n"
        "    environment: {B: '3', C: '4'}\n"
        "    networks: {net: {ipv4_address: 10.0.0.5}}\n"
        "    ports: ['9090:90']\n"
        "    volumes: ['other:/data']\n"
        "    secrets: [one, two]\n"
    )
    web = render(base, extra)["services"]["web"]
    assert render(base, extra)["name"] == "other"
    assert web["image"] == "web:stable"
    assert web["command"] == ["serve"]  # replaced, not appended
    assert web["environment"] == {"A": "1", "B": "3", "C": "4"}
    assert web["networks"] == {"net": {"ipv4_address": "10.0.0.5"}}
    assert web["ports"] == ["8080:80", "9090:90"]  # appended: an override cannot take a port back…
    assert web["volumes"] == ["other:/data", "./conf:/conf"]  # …but a mount is replaced by its target
    assert web["secrets"] == ["one", "two"]

    extra.write_text("services:\n  web:\n    ports: !override ['9090:90']\n    secrets: !reset []\n")
    web = render(base, extra)["services"]["web"]
    assert web["ports"] == ["9090:90"]
    assert "secrets" not in web
    assert isinstance(load(extra)["services"]["web"]["ports"], Override)
    assert isinstance(load(extra)["services"]["web"]["secrets"], Reset)
