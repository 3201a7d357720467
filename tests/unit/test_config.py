"""Settings come from the environment or `NAME_FILE` secrets; production refuses to guess."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from boxoffice.cli import admin_server_config, api_server_config
from boxoffice.config import ConfigError, load_settings, parse_qr_keys

KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()


def production_env(tmp_path: Path) -> dict[str, str]:
    return {
        "ENVIRONMENT": "production",
        "VAR_DIR": str(tmp_path / "var"),
        "JWT_SECRET": "j" * 48,
        "QR_HMAC_KEYS": f"k1:{KEY_A}",
        "WEBHOOK_MASTER_KEY": "w" * 48,
        "METRICS_TOKEN": "m" * 40,
    }


def test_defaults_follow_the_design(tmp_path: Path) -> None:
    settings = load_settings({"VAR_DIR": str(tmp_path)})
    assert settings.api_port == 48080
    assert settings.admin_port == 48081
    assert settings.environment == "development"
    assert settings.tz == "Asia/Bangkok"
    assert settings.api_url == "http://127.0.0.1:48080"


def test_secrets_are_read_from_files(tmp_path: Path) -> None:
    (tmp_path / "jwt").write_text("jwt-from-file-" + "x" * 40 + "\n")
    (tmp_path / "qr").write_text(f"old:{KEY_A},new:{KEY_B}")
    (tmp_path / "hook").write_text("hook-from-file-" + "h" * 32)
    (tmp_path / "metrics").write_text("metrics-from-file-" + "m" * 32)
    (tmp_path / "uri").write_text("mongodb://app:pw@mongo:27017/?authSource=admin")
    env = {
        "ENVIRONMENT": "production",
        "VAR_DIR": str(tmp_path / "var"),
        "JWT_SECRET_FILE": str(tmp_path / "jwt"),
        "QR_HMAC_KEYS_FILE": str(tmp_path / "qr"),
        "WEBHOOK_MASTER_KEY_FILE": str(tmp_path / "hook"),
        "MONGO_URI_FILE": str(tmp_path / "uri"),
        "METRICS_TOKEN_FILE": str(tmp_path / "metrics"),
        "API_PORT": "48080",
    }
    settings = load_settings(env)
    assert settings.jwt_secret == "jwt-from-file-" + "x" * 40  # trailing newline stripped
    assert [k.key_id for k in settings.qr_hmac_keys] == ["old", "new"]
    assert settings.qr_current_key.key_id == "new"
    assert settings.qr_current_key.secret == b"b" * 32
    assert settings.webhook_master_key == "hook-from-file-" + "h" * 32
    assert settings.metrics_token == "metrics-from-file-" + "m" * 32
    assert settings.mongo_uri == "mongodb://app:pw@mongo:27017/?authSource=admin"
    assert not (tmp_path / "var").exists()  # nothing generated in production


def test_plain_variable_wins_over_file(tmp_path: Path) -> None:
    (tmp_path / "jwt").write_text("from-file")
    env = {**production_env(tmp_path), "JWT_SECRET_FILE": str(tmp_path / "jwt")}
    assert load_settings(env).jwt_secret == "j" * 48


def test_unreadable_secret_file_is_a_clear_error(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    del env["JWT_SECRET"]
    env["JWT_SECRET_FILE"] = str(tmp_path / "missing")
    with pytest.raises(ConfigError, match="JWT_SECRET_FILE"):
        load_settings(env)


@pytest.mark.parametrize("environment", ["production", "staging"])
@pytest.mark.parametrize("missing", ["JWT_SECRET", "QR_HMAC_KEYS", "WEBHOOK_MASTER_KEY", "METRICS_TOKEN"])
def test_missing_secret_outside_development_refuses_to_start(
    tmp_path: Path, environment: str, missing: str
) -> None:
    env = {**production_env(tmp_path), "ENVIRONMENT": environment}
    del env[missing]
    with pytest.raises(ConfigError, match=f"Refusing to start in {environment}.*{missing}"):
        load_settings(env)


def test_development_generates_secrets_once_and_keeps_them(tmp_path: Path) -> None:
    env = {"VAR_DIR": str(tmp_path / "var")}
    first = load_settings(env)
    second = load_settings(env)
    assert len(first.jwt_secret) >= 48
    assert first.jwt_secret == second.jwt_secret
    assert first.qr_hmac_keys == second.qr_hmac_keys
    assert first.webhook_master_key == second.webhook_master_key
    stored = tmp_path / "var" / "secrets.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert set(json.loads(stored.read_text())) == {"JWT_SECRET", "QR_HMAC_KEYS", "WEBHOOK_MASTER_KEY"}


def test_secrets_are_not_in_the_repr(tmp_path: Path) -> None:
    settings = load_settings(production_env(tmp_path))
    assert "j" * 48 not in repr(settings)
    assert "w" * 48 not in repr(settings)
    assert "m" * 40 not in repr(settings)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ENVIRONMENT": "prod"}, "ENVIRONMENT must be one of"),
        ({"API_PORT": "http"}, "API_PORT must be an integer"),
        ({"API_PORT": "-1"}, "API_PORT must be positive"),
        ({"TZ": "Mars/Olympus"}, "TZ must be an IANA time zone"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL must be"),
    ],
)
def test_bad_values_are_named(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({"VAR_DIR": str(tmp_path), **env})


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "at least one key"),
        ("k1", "key_id:base64secret"),
        ("k1:not base64!", "not valid base64"),
        (f"k1:{base64.b64encode(b'short').decode()}", "at least 32 bytes"),
        (f"k1:{KEY_A},k1:{KEY_B}", "unique"),
        (f"k.1:{KEY_A}", "must not contain"),
    ],
)
def test_bad_qr_keys_are_refused(raw: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_qr_keys(raw)


@pytest.mark.parametrize("environment", ["production", "staging"])
@pytest.mark.parametrize("name", ["JWT_SECRET", "WEBHOOK_MASTER_KEY", "METRICS_TOKEN"])
@pytest.mark.parametrize("value", ["secret", "x" * 31])
def test_short_secrets_refuse_to_start_outside_development(
    tmp_path: Path, environment: str, name: str, value: str
) -> None:
    env = {**production_env(tmp_path), "ENVIRONMENT": environment, name: value}
    with pytest.raises(
        ConfigError, match=f"Refusing to start in {environment}: {name} must hold at least 32 bytes"
    ):
        load_settings(env)


def test_short_secret_from_a_file_is_named_too(tmp_path: Path) -> None:
    (tmp_path / "jwt").write_text("secret\n")
    env = production_env(tmp_path)
    del env["JWT_SECRET"]
    env["JWT_SECRET_FILE"] = str(tmp_path / "jwt")
    with pytest.raises(ConfigError, match="JWT_SECRET must hold at least 32 bytes"):
        load_settings(env)


def test_thirty_two_bytes_are_enough_and_development_does_not_check(tmp_path: Path) -> None:
    settings = load_settings({**production_env(tmp_path), "JWT_SECRET": "x" * 32})
    assert settings.jwt_secret == "x" * 32
    dev = load_settings({"VAR_DIR": str(tmp_path / "dev"), "JWT_SECRET": "secret"})
    assert dev.jwt_secret == "secret"
    assert dev.metrics_token == ""  # /metrics stays open in development unless a token is set


def test_short_qr_keys_are_refused_everywhere(tmp_path: Path) -> None:
    short = base64.b64encode(b"k" * 31).decode()
    for env in (production_env(tmp_path), {"VAR_DIR": str(tmp_path / "dev")}):
        with pytest.raises(ConfigError, match="QR_HMAC_KEYS key 'k1' must be at least 32 bytes"):
            load_settings({**env, "QR_HMAC_KEYS": f"k1:{short}"})


def test_forwarded_address_trust_defaults_to_loopback_and_is_configurable(tmp_path: Path) -> None:
    base = {"VAR_DIR": str(tmp_path)}
    assert load_settings(base).forwarded_allow_ips == ("127.0.0.1", "::1")
    assert load_settings(base).admin_forwarded_allow_ips == ()
    custom = load_settings({**base, "FORWARDED_ALLOW_IPS": "172.30.0.10, 10.1.0.0/16"})
    assert custom.forwarded_allow_ips == ("172.30.0.10", "10.1.0.0/16")
    assert load_settings({**base, "FORWARDED_ALLOW_IPS": "none"}).forwarded_allow_ips == ()
    assert load_settings({**base, "ADMIN_FORWARDED_ALLOW_IPS": "10.0.0.5"}).admin_forwarded_allow_ips == (
        "10.0.0.5",
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [("*", "not '\\*'"), ("admin", "must be IP addresses or CIDR networks"), ("10.0.0.0/33", "CIDR")],
)
def test_forwarded_address_trust_refuses_everyone_and_nonsense(
    tmp_path: Path, value: str, message: str
) -> None:
    for name in ("FORWARDED_ALLOW_IPS", "ADMIN_FORWARDED_ALLOW_IPS"):
        with pytest.raises(ConfigError, match=f"{name}.*{message}"):
            load_settings({"VAR_DIR": str(tmp_path), name: value})


def test_uvicorn_trusts_forwarding_headers_only_from_the_configured_peers(tmp_path: Path) -> None:
    """The API believes X-Forwarded-For from FORWARDED_ALLOW_IPS only; the admin from nobody unless a
    TLS terminator is named (uvicorn's own default would trust every loopback caller)."""
    settings = load_settings({"VAR_DIR": str(tmp_path), "FORWARDED_ALLOW_IPS": "172.30.0.10"})
    api = api_server_config(settings, object())
    assert api.proxy_headers is True
    assert api.forwarded_allow_ips == ["172.30.0.10"]
    admin = admin_server_config(settings, object())
    assert admin.proxy_headers is False
    behind_tls = load_settings({"VAR_DIR": str(tmp_path), "ADMIN_FORWARDED_ALLOW_IPS": "10.0.0.5"})
    assert admin_server_config(behind_tls, object()).forwarded_allow_ips == ["10.0.0.5"]
    nobody = load_settings({"VAR_DIR": str(tmp_path), "FORWARDED_ALLOW_IPS": "none"})
    assert api_server_config(nobody, object()).proxy_headers is False


def test_cookie_security_and_body_limits(tmp_path: Path) -> None:
    base = {"VAR_DIR": str(tmp_path)}
    settings = load_settings(base)
    assert settings.admin_cookie_secure == "auto"
    assert settings.body_limit_bytes == 64 * 1024
    assert settings.sync_body_limit_bytes == 2 * 1024 * 1024
    assert load_settings({**base, "ADMIN_COOKIE_SECURE": "Always"}).admin_cookie_secure == "always"
    with pytest.raises(ConfigError, match="ADMIN_COOKIE_SECURE must be auto, always or never"):
        load_settings({**base, "ADMIN_COOKIE_SECURE": "yes"})
    small = load_settings({**base, "BODY_LIMIT_BYTES": "1024", "SYNC_BODY_LIMIT_BYTES": "4096"})
    assert (small.body_limit_bytes, small.sync_body_limit_bytes) == (1024, 4096)
