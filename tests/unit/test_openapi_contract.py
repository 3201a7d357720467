"""The committed schema the admin's typed client is generated from matches the API."""

from __future__ import annotations

import json
from pathlib import Path

from boxoffice.app import create_app
from boxoffice.config import Settings


def test_admin_schema_is_current(repo_root: Path, settings: Settings) -> None:
    committed = json.loads((repo_root / "admin-ui" / "openapi.json").read_text())
    assert committed == create_app(settings).openapi(), "run `make openapi` and commit the result"


def test_every_route_documents_its_errors(settings: Settings) -> None:
    schema = create_app(settings).openapi()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/v1/health"):
                continue
            responses = operation["responses"]
            assert {"400", "401", "403"} <= set(responses), (method, path)
