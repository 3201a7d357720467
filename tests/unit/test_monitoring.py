"""The monitoring profile's files, checked with the real tools: promtool on the Prometheus config
and alert rules (and the rules' own unit tests), Grafana's dashboard model on the dashboard, and
every metric they name against what the code exports."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml
from prometheus_client import CollectorRegistry

from boxoffice.core.metrics import Metrics
from boxoffice.ops.synthetic import SyntheticMetrics
from tests.prometheus_tools import debian_tool

MONITORING = Path(__file__).resolve().parents[2] / "deploy" / "monitoring"
DASHBOARD = MONITORING / "grafana" / "dashboards" / "boxoffice.json"
RULES = MONITORING / "prometheus" / "rules" / "boxoffice.yml"


def promtool(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [debian_tool("promtool"), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False, cwd=cwd)


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return data


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in board["panels"]:
        found.append(panel)
        found += panel.get("panels", [])
    return found


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, PromQL) of every target."""
    return [(p["title"], t["expr"]) for p in panels(dashboard()) for t in p.get("targets", [])]


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


# ---- Prometheus --------------------------------------------------------------------------------


def test_prometheus_config_and_its_rule_files_are_valid(tmp_path: Path) -> None:
    """The full check, files included: the token file is where the container finds its secret."""
    config = yaml.safe_load((MONITORING / "prometheus" / "prometheus.yml").read_text())
    token = tmp_path / "metrics_token"
    token.write_text("t" * 40)
    for job in config["scrape_configs"]:
        if "authorization" in job:
            assert job["authorization"]["credentials_file"] == "/run/secrets/metrics_token"
            job["authorization"]["credentials_file"] = str(token)
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / RULES.name).write_text(RULES.read_text())

    done = promtool("check", "config", tmp_path / "prometheus.yml")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 8 rules found" in done.stdout + done.stderr


def test_prometheus_scrapes_every_api_replica_with_the_token_and_the_checker() -> None:
    config = yaml.safe_load((MONITORING / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    api = jobs["api"]
    assert api["metrics_path"] == "/metrics"
    assert api["authorization"]["type"] == "Bearer"
    assert api["dns_sd_configs"] == [
        {"names": ["api"], "type": "A", "port": 48080, "refresh_interval": "30s"}
    ]
    assert jobs["synthetic"]["static_configs"] == [{"targets": ["synthetic:9464"]}]


def test_alert_rules_are_valid() -> None:
    done = promtool("check", "rules", RULES)
    assert done.returncode == 0, done.stdout + done.stderr


def test_alert_rules_fire_when_they_should_and_not_before() -> None:
    """tests/unit/alert_rules_test.yml: series over time in, alerts (labels and texts) out."""
    here = Path(__file__).parent
    done = promtool("test", "rules", "alert_rules_test.yml", cwd=here)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_the_alerts_the_operations_need_exist() -> None:
    names = {rule["alert"] for rule in alert_rules()}
    assert {
        "BoxOfficeHighErrorRate",
        "BoxOfficeSlowRoute",
        "BoxOfficeSyntheticFailing",
        "BoxOfficeSyntheticStale",
        "BoxOfficeBackupTooOld",
    } <= names
    for rule in alert_rules():
        assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        assert rule["annotations"]["description"], rule["alert"]


# ---- Grafana -----------------------------------------------------------------------------------


def test_the_dashboard_fits_grafanas_dashboard_model() -> None:
    schema = json.loads((Path(__file__).parent / "grafana_dashboard.schema.json").read_text())
    errors = [
        f"{list(e.instance_path)}: {e.message[:200]}"
        for e in jsonschema_rs.validator_for(schema).iter_errors(dashboard())
    ]
    assert errors == []


def test_the_schema_refuses_what_grafana_refuses() -> None:
    """The check has teeth: a panel wider than the grid, or without fieldConfig, is refused."""
    schema = json.loads((Path(__file__).parent / "grafana_dashboard.schema.json").read_text())
    validator = jsonschema_rs.validator_for(schema)
    for breakage in ("wide", "no_field_config", "no_title", "bad_threshold"):
        board = dashboard()
        panel = next(p for p in board["panels"] if p["type"] != "row")
        if breakage == "wide":
            panel["gridPos"]["w"] = 30
        elif breakage == "no_field_config":
            del panel["fieldConfig"]
        elif breakage == "no_title":
            board["title"] = ""
        else:
            panel["fieldConfig"]["defaults"]["thresholds"]["mode"] = "relative"
        assert not validator.is_valid(board), breakage


def test_panels_tile_the_grid_without_overlapping() -> None:
    board = dashboard()
    ids = [p["id"] for p in panels(board)]
    assert len(ids) == len(set(ids))
    taken: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        cells = {(pos["x"] + dx, pos["y"] + dy) for dx in range(pos["w"]) for dy in range(pos["h"])}
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells


def test_the_dashboard_reads_the_provisioned_datasource() -> None:
    provisioned = yaml.safe_load(
        (MONITORING / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )
    (source,) = provisioned["datasources"]
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"
    for panel in panels(dashboard()):
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": source["uid"]}, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == source["uid"]
    providers = yaml.safe_load(
        (MONITORING / "grafana" / "provisioning" / "dashboards" / "boxoffice.yml").read_text()
    )
    assert providers["providers"][0]["options"]["path"] == "/etc/grafana/dashboards"


def test_the_dashboard_shows_what_operations_watch() -> None:
    titles = {p["title"] for p in panels(dashboard())}
    assert {
        "Request rate",
        "Errors by code",
        "p50 latency by route",
        "p95 latency by route",
        "Sales per minute",
        "Redemptions per minute",
        "Reprints and refunds per hour",
        "Webhook queue depth",
        "Synthetic check",
        "Last good backup",
    } <= titles


def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    """promtool parses each query as a recording rule (Grafana's `$__rate_interval` as 1m)."""
    rules = [
        {"record": f"dashboard:query_{n}", "expr": expr.replace("$__rate_interval", "1m")}
        for n, (_, expr) in enumerate(dashboard_queries())
    ]
    path = tmp_path / "dashboard_queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    done = promtool("check", "rules", path)
    assert done.returncode == 0, done.stdout + done.stderr


# ---- metric names ------------------------------------------------------------------------------


def exported_names(registry: CollectorRegistry) -> set[str]:
    """The series names a registry can expose (a counter as `_total`, a histogram's parts)."""
    names: set[str] = set()
    for family in registry.collect():
        if family.type == "counter":
            names.add(family.name + "_total")
        elif family.type == "histogram":
            names |= {family.name + suffix for suffix in ("_bucket", "_count", "_sum")}
        else:
            names.add(family.name)
    return names


def test_every_metric_the_dashboard_and_alerts_read_is_exported() -> None:
    exported = exported_names(Metrics().registry) | exported_names(SyntheticMetrics().registry)
    source = "\n".join(p.read_text() for p in (Path(__file__).resolve().parents[2] / "src").rglob("*.py"))
    texts = [expr for _, expr in dashboard_queries()] + [rule["expr"] for rule in alert_rules()]
    used = {name for text in texts for name in re.findall(r"\bboxoffice_[a-z_]+\b", text)}
    assert used, "no BoxOffice metric is read"
    missing = {
        name
        for name in used
        if name not in exported and f'"{name}"' not in source  # a gauge another module registers
    }
    assert missing == set(), "metrics read by the dashboard or alerts but exported by nobody"


# ---- compose.yaml's monitoring profile ----------------------------------------------------------


def test_the_monitoring_profile_wires_the_checker_prometheus_and_grafana(repo_root: Path) -> None:
    compose = yaml.safe_load((repo_root / "compose.yaml").read_text())
    services = compose["services"]
    for name in ("synthetic", "prometheus", "grafana"):
        assert services[name]["profiles"] == ["monitoring"], name
        assert services[name]["networks"] == services["api"]["networks"], name
    for name in ("api", "admin", "mongo"):
        assert "profiles" not in services[name]  # the stack itself runs without the profile

    synthetic = services["synthetic"]
    command = synthetic["command"]
    assert command[:2] == ["boxoffice", "synthetic"]
    assert command[command.index("--every") + 1] == "300"
    assert command[command.index("--api") + 1] == "http://api:48080"
    assert command[command.index("--admin") + 1] == "http://admin:48081"
    port = command[command.index("--metrics-port") + 1]
    config = yaml.safe_load((MONITORING / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["synthetic"]["static_configs"][0]["targets"] == [f"synthetic:{port}"]
    env = synthetic["environment"]
    for secret in ("SYNTHETIC_PASSWORD", "SYNTHETIC_PIN"):
        assert secret not in env
        assert env[f"{secret}_FILE"].startswith("/run/secrets/")
    assert "ports" not in synthetic

    prometheus = services["prometheus"]
    assert "ports" not in prometheus  # read by Grafana inside the network
    assert "metrics_token" in prometheus["secrets"]
    assert jobs["api"]["authorization"]["credentials_file"] == "/run/secrets/metrics_token"
    assert "./deploy/monitoring/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    assert config["rule_files"] == ["rules/*.yml"]

    grafana = services["grafana"]
    assert all(str(p).startswith("127.0.0.1:") for p in grafana["ports"])  # loopback only
    assert grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD__FILE"].startswith("/run/secrets/")
    assert grafana["environment"]["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    mounts = {v.split(":")[1]: v.split(":")[0] for v in grafana["volumes"]}
    assert mounts["/etc/grafana/provisioning"] == "./deploy/monitoring/grafana/provisioning"
    assert mounts["/etc/grafana/dashboards"] == "./deploy/monitoring/grafana/dashboards"
    for name in ("prometheus-data", "grafana-data"):
        assert name in compose["volumes"]
    for name in ("synthetic_password", "synthetic_pin", "grafana_admin_password"):
        assert compose["secrets"][name] == {"file": f"./secrets/{name}"}
