"""Domains import downward only: tickets know nothing of sales; refunds and reprints sit above both."""

from __future__ import annotations

import ast
from pathlib import Path

#: package → packages of ours it must never import (they build on it).
FORBIDDEN = {
    "tickets": {"sales", "aftersale", "offline"},
    "sales": {"aftersale", "offline"},
    "catalog": {"sales", "tickets", "aftersale"},
}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("boxoffice."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("boxoffice.")}
    return found


def test_no_domain_imports_one_that_builds_on_it(repo_root: Path) -> None:
    src = repo_root / "src" / "boxoffice"
    offenders = [
        f"{path.relative_to(src)} imports {sorted(_imports(path) & banned)}"
        for package, banned in FORBIDDEN.items()
        for path in sorted((src / package).rglob("*.py"))
        if _imports(path) & banned
    ]
    assert offenders == []
