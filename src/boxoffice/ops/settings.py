"""What the operations jobs read from the environment: how long raw records are kept, when the
backup runs and which archives it keeps. Read the way `config.py` reads everything (`NAME` or
`NAME_FILE`), into one object handed to the jobs; the API's own settings stay in `config.Settings`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from boxoffice.config import ConfigError, _read


@dataclass(frozen=True)
class RetentionPolicy:
    """Days each kind of record is kept. Audit entries are pruned only from the front of the chain,
    up to a daily anchor; access logs (the chain's `auth.*` entries) kept for less time than the
    chain are redacted in place (their hashes stay, so the chain still links), kept for longer are
    left behind when the chain is pruned. Anchors are kept as long as summaries."""

    audit_days: int = 90
    access_log_days: int = 90
    redemption_days: int = 365
    summary_days: int = 365

    @property
    def anchor_days(self) -> int:
        """As long as summaries, and always past the oldest cutoff pruning looks an anchor up for."""
        return max(self.summary_days, self.audit_days + 7, self.access_log_days + 7)


def rebuildable_from(policy: RetentionPolicy, now: datetime) -> str:
    """The first day report summaries may be rebuilt from raw records: retention keeps every raw
    record from then on (a rebuild of an older day would find its scans gone and drop them from the
    summaries). A day of margin for stores east of UTC."""
    days = min(policy.redemption_days, policy.summary_days) - 1
    return (now.astimezone(UTC) - timedelta(days=days)).date().isoformat()


@dataclass(frozen=True)
class KeepPolicy:
    """Archives kept by the backup rotation: the newest of each of the last `daily` days, `weekly`
    ISO weeks and `monthly` months that have one."""

    daily: int = 7
    weekly: int = 4
    monthly: int = 12


@dataclass(frozen=True)
class OpsSettings:
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    #: Local time (the `TZ` setting) the daily backup starts.
    backup_time: time = time(2, 30)
    keep: KeepPolicy = field(default_factory=KeepPolicy)
    backup_dir: Path = Path("/backups")
    #: A last good backup older than this raises the `backup_stale` alert.
    backup_stale_hours: int = 26


#: Floors: a redemption record is consulted for offline merges for hours, never weeks; an audit
#: chain younger than a week would leave nothing to investigate.
MIN_DAYS = {
    "AUDIT_RETENTION_DAYS": 7,
    "ACCESS_LOG_RETENTION_DAYS": 1,
    "REDEMPTION_RETENTION_DAYS": 30,
    "SUMMARY_RETENTION_DAYS": 30,
}


def _days(env: Mapping[str, str], name: str, default: int) -> int:
    raw = _read(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number of days, got {raw!r}") from exc
    if not MIN_DAYS[name] <= value <= 3650:
        raise ConfigError(f"{name} must be between {MIN_DAYS[name]} and 3650 days, got {value}")
    return value


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    raw = _read(env, name)
    if raw is None:
        return default
    if not raw.isdigit() or not 0 <= int(raw) <= 1000:
        raise ConfigError(f"{name} must be a number of archives from 0 to 1000, got {raw!r}")
    return int(raw)


def _clock_time(env: Mapping[str, str], name: str, default: time) -> time:
    raw = _read(env, name)
    if raw is None:
        return default
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", raw.strip())
    if not match:
        raise ConfigError(f"{name} must be a local time HH:MM (24-hour), got {raw!r}")
    return time(int(match.group(1)), int(match.group(2)))


def load_ops_settings(env: Mapping[str, str] | None = None) -> OpsSettings:
    env = os.environ if env is None else env
    keep = KeepPolicy(
        daily=_count(env, "BACKUP_KEEP_DAILY", 7),
        weekly=_count(env, "BACKUP_KEEP_WEEKLY", 4),
        monthly=_count(env, "BACKUP_KEEP_MONTHLY", 12),
    )
    if keep.daily + keep.weekly + keep.monthly == 0:
        raise ConfigError("BACKUP_KEEP_DAILY, _WEEKLY and _MONTHLY cannot all be 0: no archive would be kept")
    stale_raw = _read(env, "BACKUP_STALE_HOURS")
    if stale_raw is not None and (not stale_raw.isdigit() or not 1 <= int(stale_raw) <= 24 * 31):
        raise ConfigError(f"BACKUP_STALE_HOURS must be a number of hours from 1 to 744, got {stale_raw!r}")
    return OpsSettings(
        retention=RetentionPolicy(
            audit_days=_days(env, "AUDIT_RETENTION_DAYS", 90),
            access_log_days=_days(env, "ACCESS_LOG_RETENTION_DAYS", 90),
            redemption_days=_days(env, "REDEMPTION_RETENTION_DAYS", 365),
            summary_days=_days(env, "SUMMARY_RETENTION_DAYS", 365),
        ),
        backup_time=_clock_time(env, "BACKUP_TIME", time(2, 30)),
        keep=keep,
        backup_dir=Path(_read(env, "BACKUP_DIR") or "/backups"),
        backup_stale_hours=int(stale_raw) if stale_raw is not None else 26,
    )
