"""One list of error codes: every error the API can raise is in it, and the schema's enum is that list."""

from __future__ import annotations

import importlib
import pkgutil

import boxoffice
from boxoffice.app import create_app
from boxoffice.config import Settings
from boxoffice.core.errors import ERROR_CODES, AppError


def _every_error_class() -> set[type[AppError]]:
    """AppError and its subclasses in every module of ours (domains define their own, e.g. RuleConflict)."""
    for module in pkgutil.walk_packages(boxoffice.__path__, prefix="boxoffice."):
        importlib.import_module(module.name)
    found: set[type[AppError]] = set()
    pending: list[type[AppError]] = [AppError]
    while pending:
        kind = pending.pop()
        found.add(kind)
        pending.extend(kind.__subclasses__())
    return found


def test_every_error_class_sends_a_listed_code() -> None:
    kinds = _every_error_class()
    unlisted = sorted(
        f"{kind.__module__}.{kind.__qualname__}: {kind.code}"
        for kind in kinds
        if kind.code not in ERROR_CODES
    )
    assert unlisted == []
    codes = {kind.code for kind in kinds}
    assert {"E_PAYMENT_DISABLED", "E_TOO_LARGE", "E_RULE_CONFLICT", "E_INTERNAL"} <= codes


def test_codes_are_listed_once() -> None:
    assert len(set(ERROR_CODES)) == len(ERROR_CODES)


def test_schema_enumerates_the_codes(settings: Settings) -> None:
    schema = create_app(settings).openapi()
    code = schema["components"]["schemas"]["ErrorBody"]["properties"]["code"]
    assert code["type"] == "string"
    assert code["enum"] == list(ERROR_CODES)
