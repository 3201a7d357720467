"""Collections are touched only in repositories, so tenant scoping cannot be bypassed by accident."""

from __future__ import annotations

import re
from pathlib import Path

ALLOWED = {
    "core/db.py",  # the connection and index creation
    "core/repository.py",  # the scoped base every repository extends
    "core/ratelimit.py",  # its own collection, keyed by subject rather than tenant
    "core/lease.py",  # its own collection: one lease per background loop, no tenant
    "core/retention.py",  # deletes expired rows of every tenant, by `_id`
    "core/writes.py",  # ordered writes of documents and filters their repositories scoped
}
#: `db[...]`, `.db[...]`, `.collection.` and `get_collection(` are the ways into a collection.
RAW_ACCESS = re.compile(r"(\bdb\[|\.db\[|\.collection\.|get_collection\()")


def test_no_module_outside_repositories_touches_a_collection(repo_root: Path) -> None:
    src = repo_root / "src" / "boxoffice"
    offenders = []
    for path in sorted(src.rglob("*.py")):
        relative = path.relative_to(src).as_posix()
        if relative in ALLOWED or path.name == "repository.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if RAW_ACCESS.search(line):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []
