"""docs/DEVICE_GUIDE.md keeps up with the API: every error code the API can send is explained, and
its flow diagrams are the Postman collection's flows, request by request."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from boxoffice.core import errors
from boxoffice.tickets.redemption import REASON_CODES

MESSAGE = re.compile(r"^\s*\w+->>API: (.+)$")


@pytest.fixture(scope="module")
def guide(repo_root: Path) -> str:
    return (repo_root / "docs" / "DEVICE_GUIDE.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def collection(repo_root: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (repo_root / "docs" / "api" / "boxoffice.postman_collection.json").read_text(encoding="utf-8")
    )
    return document


def flows_in_guide(guide: str) -> dict[str, list[str]]:
    """`### <folder>` → the request names of its sequence diagram, in order."""
    flows: dict[str, list[str]] = {}
    for section in re.split(r"^### ", guide, flags=re.MULTILINE)[1:]:
        title, _, body = section.partition("\n")
        diagram = re.search(r"```mermaid\n(.*?)```", body, flags=re.DOTALL)
        if diagram:
            flows[title.strip()] = [
                m.group(1).strip() for line in diagram.group(1).splitlines() if (m := MESSAGE.match(line))
            ]
    return flows


def test_every_error_code_is_explained(guide: str) -> None:
    source = Path(errors.__file__).read_text(encoding="utf-8")
    codes = set(re.findall(r'"(E_[A-Z_]+)"', source)) | set(errors.ERROR_CODES) | set(REASON_CODES.values())
    table = guide.split("## Error codes", 1)[1]
    missing = sorted(code for code in codes if f"`{code}`" not in table)
    assert not missing, f"error codes the device guide does not explain: {missing}"


def test_the_diagrams_are_the_collections_flows(guide: str, collection: dict[str, Any]) -> None:
    diagrams = flows_in_guide(guide)
    folders = {folder["name"]: [item["name"] for item in folder["item"]] for folder in collection["item"]}
    assert set(diagrams) == set(folders), "a flow of the collection has no diagram, or one has no flow"
    for name, requests in folders.items():
        unknown = [r for r in diagrams[name] if r not in requests]
        assert not unknown, f"{name}: the guide names requests the collection does not have: {unknown}"
        assert diagrams[name] == requests, (
            f"{name}: the diagram and the collection differ (run `make contract`)"
        )


def test_the_guide_describes_the_offline_contract(guide: str) -> None:
    offline = guide.split("## Working offline", 1)[1].split("## Error codes", 1)[0]
    for needed in ("max_offline_minutes", "offline_cap", "op_id", "outbox_remaining", "duplicate", "scan_id",
                   "clock_skew_seconds", "pos_max_sales", "purpose"):  # fmt: skip
        assert needed in offline, needed
