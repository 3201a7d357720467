"""Which backup archives to keep (pure: no I/O, no clock).

Grandfather-father-son: the newest archive of each of the last `daily` days, `weekly` ISO weeks
and `monthly` months that have one (periods in the venue's time zone), and always the newest of
all. Only archives that passed their check are ever named like one (`archive_name`); a file of any
other name in the backup volume is never touched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from boxoffice.ops.settings import KeepPolicy

_NAME = re.compile(r"^(?P<prefix>[a-z0-9-]+)-(?P<stamp>\d{8}T\d{6}Z)\.archive\.gz$")


def archive_name(prefix: str, at: datetime) -> str:
    """`boxoffice-production-20310314T193000Z.archive.gz`: sorts by time, says when it was taken."""
    return f"{prefix}-{at.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}.archive.gz"


def archive_time(name: str, prefix: str) -> datetime | None:
    """When the archive was taken, or None for a file that is not one of ours (never rotated)."""
    match = _NAME.match(name)
    if match is None or match.group("prefix") != prefix:
        return None
    return datetime.strptime(match.group("stamp"), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def _periods(tz: ZoneInfo) -> tuple[Callable[[datetime], object], ...]:
    def day(at: datetime) -> object:
        return at.astimezone(tz).date()

    def week(at: datetime) -> object:
        return at.astimezone(tz).isocalendar()[:2]

    def month(at: datetime) -> object:
        local = at.astimezone(tz)
        return (local.year, local.month)

    return day, week, month


def keep(taken: Iterable[datetime], policy: KeepPolicy, tz: ZoneInfo) -> set[datetime]:
    """The archive times to keep, out of `taken`."""
    newest_first = sorted(set(taken), reverse=True)
    kept: set[datetime] = set(newest_first[:1])
    for count, period in zip((policy.daily, policy.weekly, policy.monthly), _periods(tz), strict=True):
        seen: set[object] = set()
        for at in newest_first:
            key = period(at)
            if key in seen:
                continue
            if len(seen) == count:
                break
            seen.add(key)
            kept.add(at)
    return kept


@dataclass(frozen=True)
class Rotation:
    keep: tuple[str, ...]
    delete: tuple[str, ...]


def rotate(names: Iterable[str], prefix: str, policy: KeepPolicy, tz: ZoneInfo) -> Rotation:
    """Split the backup volume's file names into archives to keep and archives to delete; files
    that are not our archives appear in neither."""
    by_time: dict[datetime, str] = {}
    for name in names:
        at = archive_time(name, prefix)
        if at is not None:
            by_time[at] = name
    kept = keep(by_time, policy, tz)
    return Rotation(
        keep=tuple(sorted(by_time[at] for at in kept)),
        delete=tuple(sorted(name for at, name in by_time.items() if at not in kept)),
    )
