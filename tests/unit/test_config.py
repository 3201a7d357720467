"""Settings come from the environment or `NAME_FILE` secrets; production refuses to guess."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

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
    (tmp_path / "hook").write_text("hook-from-file")
    (tmp_path / "uri").write_text("mongodb://app:pw@mongo:27017/?authSource=admin")
    env = {
        "ENVIRONMENT": "production",
        "VAR_DIR": str(tmp_path / "var"),
        "JWT_SECRET_FILE": str(tmp_path / "jwt"),
        "QR_HMAC_KEYS_FILE": str(tmp_path / "qr"),
        "WEBHOOK_MASTER_KEY_FILE": str(tmp_path / "hook"),
        "MONGO_URI_FILE": str(tmp_path / "uri"),
        "API_PORT": "48080",
    }
    settings = load_settings(env)
    assert settings.jwt_secret == "jwt-from-file-" + "x" * 40  # trailing newline stripped
    assert [k.key_id for k in settings.qr_hmac_keys] == ["old", "new"]
    assert settings.qr_current_key.key_id == "new"
    assert settings.qr_current_key.secret == b"b" * 32
    assert settings.webhook_master_key == "hook-from-file"
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
@pytest.mark.parametrize("missing", ["JWT_SECRET", "QR_HMAC_KEYS", "WEBHOOK_MASTER_KEY"])
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
