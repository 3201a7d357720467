"""Settings from the environment; every variable may instead name a file in `NAME_FILE`.

One `Settings` object is built at start-up and passed down; nothing else reads the environment.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Environment = Literal["development", "staging", "production"]
ENVIRONMENTS: tuple[Environment, ...] = ("development", "staging", "production")

#: Secrets that must be given outside development; generated and kept under VAR_DIR otherwise.
REQUIRED_SECRETS: tuple[str, ...] = ("JWT_SECRET", "QR_HMAC_KEYS", "WEBHOOK_MASTER_KEY")
#: Outside development every secret needs at least this much key material (each QR key always does).
MIN_SECRET_BYTES = 32

CookieSecure = Literal["auto", "always", "never"]
COOKIE_SECURE_MODES: tuple[CookieSecure, ...] = ("auto", "always", "never")
#: The dev layout: the admin service reaches the API over loopback on the same host.
DEFAULT_FORWARDED_ALLOW_IPS: tuple[str, ...] = ("127.0.0.1", "::1")


class ConfigError(Exception):
    """The configuration cannot be used; the message says which variable and why."""


@dataclass(frozen=True)
class QrKey:
    key_id: str
    secret: bytes = field(repr=False)


@dataclass(frozen=True)
class Settings:
    environment: Environment = "development"
    api_host: str = "127.0.0.1"
    api_port: int = 48080
    admin_host: str = "127.0.0.1"
    admin_port: int = 48081
    api_url: str = "http://127.0.0.1:48080"
    mongo_uri: str = field(default="mongodb://127.0.0.1:27017/?directConnection=true", repr=False)
    mongo_db: str = "boxoffice"
    mongo_timeout_ms: int = 2000
    jwt_secret: str = field(default="", repr=False)
    qr_hmac_keys: tuple[QrKey, ...] = field(default=(), repr=False)
    webhook_master_key: str = field(default="", repr=False)
    tz: str = "Asia/Bangkok"
    log_level: str = "INFO"
    var_dir: Path = Path("var")
    admin_dist: Path = Path("admin-ui/dist")
    #: Peers whose X-Forwarded-For / X-Forwarded-Proto the API believes: the admin service only.
    forwarded_allow_ips: tuple[str, ...] = DEFAULT_FORWARDED_ALLOW_IPS
    #: Peers (a TLS terminator) whose forwarding headers the admin service believes; none by default.
    admin_forwarded_allow_ips: tuple[str, ...] = ()
    #: `auto`: session cookies are Secure when the browser's request came over https.
    admin_cookie_secure: CookieSecure = "auto"
    #: Request bodies larger than this are refused with 413 before they are read.
    body_limit_bytes: int = 64 * 1024
    #: The one larger allowance: `POST /v1/sync/batch` (up to 500 offline ops).
    sync_body_limit_bytes: int = 2 * 1024 * 1024
    #: When set, `/metrics` answers only `Authorization: Bearer <token>`; required outside development.
    metrics_token: str = field(default="", repr=False)
    #: How long this process trusts a device document it read (authenticated requests); 0: never.
    device_cache_seconds: float = 5.0

    @property
    def qr_current_key(self) -> QrKey:
        """New tickets are signed with the last key listed; earlier ones keep verifying."""
        return self.qr_hmac_keys[-1]


def _read(env: Mapping[str, str], name: str) -> str | None:
    """`NAME` wins over `NAME_FILE`; a named file that cannot be read is an error, not a default."""
    if name in env and env[name] != "":
        return env[name]
    file_name = env.get(f"{name}_FILE")
    if not file_name:
        return None
    try:
        return Path(file_name).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(
            f"{name}_FILE points at {file_name!r}, which cannot be read: {exc.strerror}"
        ) from exc


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = _read(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {value}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """A duration in seconds, 0 or more (0 turns off what it bounds)."""
    raw = _read(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from exc
    if not 0 <= value <= 3600:
        raise ConfigError(f"{name} must be between 0 and 3600 seconds, got {raw!r}")
    return value


def parse_forwarded_ips(name: str, raw: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated list of IP addresses or networks (CIDR); `none` trusts no one. `*` is
    refused: trusting every peer lets any caller choose the address its requests are recorded under."""
    if raw is None:
        return default
    if raw.strip().lower() == "none":
        return ()
    entries: list[str] = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        if part == "*":
            raise ConfigError(f"{name} must list addresses or networks, not '*' (that trusts every caller)")
        try:
            entries.append(
                str(ipaddress.ip_network(part, strict=False) if "/" in part else ipaddress.ip_address(part))
            )
        except ValueError as exc:
            raise ConfigError(f"{name} entries must be IP addresses or CIDR networks, got {part!r}") from exc
    return tuple(entries)


def _check_key_material(environment: str, values: dict[str, str | None]) -> None:
    """Outside development a guessable secret (`JWT_SECRET=secret`) refuses to start."""
    if environment == "development":
        return
    for name, value in values.items():
        if value and len(value.encode()) < MIN_SECRET_BYTES:
            raise ConfigError(
                f"Refusing to start in {environment}: {name} must hold at least {MIN_SECRET_BYTES} bytes "
                f"of key material (got {len(value.encode())}); generate one with `openssl rand -base64 48`"
            )


def parse_qr_keys(raw: str) -> tuple[QrKey, ...]:
    """`QR_HMAC_KEYS` is `key_id:base64secret[,key_id:base64secret…]`, oldest first."""
    keys: list[QrKey] = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        key_id, sep, encoded = part.partition(":")
        if not sep or not key_id or not encoded:
            raise ConfigError("QR_HMAC_KEYS entries must look like key_id:base64secret")
        if "." in key_id:
            raise ConfigError("QR_HMAC_KEYS key ids must not contain '.'")
        try:
            secret = base64.b64decode(encoded, validate=True)
        except ValueError as exc:
            raise ConfigError(f"QR_HMAC_KEYS key {key_id!r} is not valid base64") from exc
        if len(secret) < 32:
            raise ConfigError(f"QR_HMAC_KEYS key {key_id!r} must be at least 32 bytes")
        keys.append(QrKey(key_id, secret))
    if not keys:
        raise ConfigError("QR_HMAC_KEYS must name at least one key")
    if len({k.key_id for k in keys}) != len(keys):
        raise ConfigError("QR_HMAC_KEYS key ids must be unique")
    return tuple(keys)


def _generate_secret(name: str) -> str:
    if name == "QR_HMAC_KEYS":
        return "k1:" + base64.b64encode(secrets.token_bytes(32)).decode()
    return secrets.token_urlsafe(48)


def _development_secrets(var_dir: Path) -> dict[str, str]:
    """Generate the missing secrets once and keep them, so tokens survive a restart."""
    path = var_dir / "secrets.json"
    stored: dict[str, str] = {}
    if path.exists():
        stored = json.loads(path.read_text(encoding="utf-8"))
    missing = [name for name in REQUIRED_SECRETS if name not in stored]
    if missing:
        for name in missing:
            stored[name] = _generate_secret(name)
        write_private_json(path, stored)
    return stored


def write_private_json(path: Path, data: object) -> None:
    """Readable by this user only, and replaced whole (a crash never leaves half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
    tmp.replace(path)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    environment = (_read(env, "ENVIRONMENT") or "development").lower()
    if environment not in ENVIRONMENTS:
        raise ConfigError(f"ENVIRONMENT must be one of {', '.join(ENVIRONMENTS)}, got {environment!r}")
    var_dir = Path(_read(env, "VAR_DIR") or "var")

    values = {name: _read(env, name) for name in REQUIRED_SECRETS}
    missing = [name for name, value in values.items() if not value]
    if missing:
        if environment != "development":
            raise ConfigError(
                f"Refusing to start in {environment}: missing required secret(s) "
                + ", ".join(f"{n} (or {n}_FILE)" for n in missing)
            )
        generated = _development_secrets(var_dir)
        for name in missing:
            values[name] = generated[name]

    tz = _read(env, "TZ") or "Asia/Bangkok"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"TZ must be an IANA time zone such as Asia/Bangkok, got {tz!r}") from exc

    log_level = (_read(env, "LOG_LEVEL") or "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {log_level!r}")

    _check_key_material(
        environment, {"JWT_SECRET": values["JWT_SECRET"], "WEBHOOK_MASTER_KEY": values["WEBHOOK_MASTER_KEY"]}
    )
    metrics_token = _read(env, "METRICS_TOKEN") or ""
    if not metrics_token and environment != "development":
        raise ConfigError(
            f"Refusing to start in {environment}: missing required secret METRICS_TOKEN "
            "(or METRICS_TOKEN_FILE), the bearer token Prometheus sends to scrape /metrics"
        )
    _check_key_material(environment, {"METRICS_TOKEN": metrics_token})

    cookie_secure = (_read(env, "ADMIN_COOKIE_SECURE") or "auto").lower()
    if cookie_secure not in COOKIE_SECURE_MODES:
        raise ConfigError(f"ADMIN_COOKIE_SECURE must be auto, always or never, got {cookie_secure!r}")

    api_port = _int(env, "API_PORT", 48080)
    return Settings(
        environment=environment,  # checked against ENVIRONMENTS above
        api_host=_read(env, "API_HOST") or "127.0.0.1",
        api_port=api_port,
        admin_host=_read(env, "ADMIN_HOST") or "127.0.0.1",
        admin_port=_int(env, "ADMIN_PORT", 48081),
        api_url=(_read(env, "API_URL") or f"http://127.0.0.1:{api_port}").rstrip("/"),
        mongo_uri=_read(env, "MONGO_URI") or "mongodb://127.0.0.1:27017/?directConnection=true",
        mongo_db=_read(env, "MONGO_DB") or "boxoffice",
        mongo_timeout_ms=_int(env, "MONGO_TIMEOUT_MS", 2000),
        jwt_secret=values["JWT_SECRET"] or "",
        qr_hmac_keys=parse_qr_keys(values["QR_HMAC_KEYS"] or ""),
        webhook_master_key=values["WEBHOOK_MASTER_KEY"] or "",
        tz=tz,
        log_level=log_level,
        var_dir=var_dir,
        admin_dist=Path(_read(env, "ADMIN_DIST") or "admin-ui/dist"),
        forwarded_allow_ips=parse_forwarded_ips(
            "FORWARDED_ALLOW_IPS", _read(env, "FORWARDED_ALLOW_IPS"), DEFAULT_FORWARDED_ALLOW_IPS
        ),
        admin_forwarded_allow_ips=parse_forwarded_ips(
            "ADMIN_FORWARDED_ALLOW_IPS", _read(env, "ADMIN_FORWARDED_ALLOW_IPS"), ()
        ),
        admin_cookie_secure=cookie_secure,  # checked against COOKIE_SECURE_MODES above
        body_limit_bytes=_int(env, "BODY_LIMIT_BYTES", 64 * 1024),
        sync_body_limit_bytes=_int(env, "SYNC_BODY_LIMIT_BYTES", 2 * 1024 * 1024),
        metrics_token=metrics_token,
        device_cache_seconds=_seconds(env, "DEVICE_CACHE_SECONDS", 5.0),
    )
