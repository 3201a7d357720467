"""A deprecated route keeps answering, says so in RFC 9745/8594 headers and in the OpenAPI schema;
a deprecated field is marked in the schema; and the real API deprecates nothing unannounced."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from pydantic import Field

from boxoffice.app import create_app
from boxoffice.config import Settings
from boxoffice.core.clock import FixedClock
from boxoffice.core.db import Database
from boxoffice.core.deprecation import MIN_NOTICE_DAYS, Deprecation, deprecated_field, deprecated_route
from boxoffice.core.envelope import Envelope, ok
from boxoffice.core.errors import NotFound
from boxoffice.core.schemas import CommandModel, ReadModel

#: Operations and fields of the real API that are deprecated on purpose (none today). Deprecating
#: one means adding it here, to docs/API_POLICY.md's list and to the changelog, in one change.
EXPECTED_DEPRECATED: set[str] = set()

SINCE = date(2031, 1, 1)
SUNSET = date(2031, 7, 15)


class Greeting(ReadModel):
    text: str
    shout: str | None = Field(
        default=None, **deprecated_field(since=SINCE, sunset=SUNSET, use_instead="text")
    )


class GreetingIn(CommandModel):
    name: str = Field(min_length=1, max_length=20)


legacy = APIRouter(prefix="/v1")


@legacy.post(
    "/greetings",
    response_model=Envelope[Greeting],
    **deprecated_route(since=SINCE, sunset=SUNSET, use_instead="POST /v1/salutations"),
)
async def old_greeting(request: Request, body: GreetingIn) -> dict[str, Any]:
    if body.name == "nobody":
        raise NotFound("Nobody is here.")
    return ok(request, Greeting(text=f"hello {body.name}", shout=f"HELLO {body.name}").model_dump())


@legacy.post("/salutations", response_model=Envelope[Greeting])
async def new_greeting(request: Request, body: GreetingIn) -> dict[str, Any]:
    return ok(request, Greeting(text=f"hello {body.name}").model_dump())


@pytest.fixture
async def legacy_app(settings: Settings, clean_db: Database, clock: FixedClock) -> AsyncIterator[FastAPI]:
    application = create_app(settings, clock=clock, db=clean_db, background=False)
    application.include_router(legacy)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def legacy_client(legacy_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=legacy_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as c:
        yield c


def links(header: str) -> dict[str, str]:
    """rel → target of an RFC 8288 Link header."""
    return {rel: target for target, rel in re.findall(r'<([^>]*)>;\s*rel="([^"]+)"', header)}


async def test_a_deprecated_route_still_works_and_announces_its_dates(
    legacy_client: httpx.AsyncClient,
) -> None:
    answer = await legacy_client.post("/v1/greetings", json={"name": "ann"})

    assert answer.status_code == 200
    assert answer.json()["data"]["text"] == "hello ann"
    # RFC 9745: a Structured Field Date, "@" and the Unix seconds of the deprecation.
    since = int(datetime(2031, 1, 1, tzinfo=UTC).timestamp())
    assert answer.headers["Deprecation"] == f"@{since}"
    # RFC 8594: an IMF-fixdate, which parses back to the sunset instant in GMT.
    assert answer.headers["Sunset"] == "Tue, 15 Jul 2031 00:00:00 GMT"
    assert parsedate_to_datetime(answer.headers["Sunset"]) == datetime(2031, 7, 15, tzinfo=UTC)
    assert links(answer.headers["Link"]) == {"deprecation": "/v1/docs", "sunset": "/v1/docs"}


async def test_errors_of_a_deprecated_route_carry_the_headers_too(legacy_client: httpx.AsyncClient) -> None:
    missing = await legacy_client.post("/v1/greetings", json={"name": "nobody"})
    invalid = await legacy_client.post("/v1/greetings", json={"name": ""})

    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "E_NOT_FOUND")
    assert (invalid.status_code, invalid.json()["error"]["code"]) == (400, "E_VALIDATION")
    for answer in (missing, invalid):
        assert answer.headers["Deprecation"].startswith("@")
        assert "Sunset" in answer.headers


async def test_other_routes_carry_no_deprecation_headers(legacy_client: httpx.AsyncClient) -> None:
    for answer in (
        await legacy_client.post("/v1/salutations", json={"name": "ann"}),
        await legacy_client.get("/v1/health"),
        await legacy_client.get("/v1/no/such/route"),
    ):
        assert "Deprecation" not in answer.headers
        assert "Sunset" not in answer.headers


def test_the_schema_marks_the_route_and_the_field(legacy_app: FastAPI) -> None:
    schema = legacy_app.openapi()
    operation = schema["paths"]["/v1/greetings"]["post"]

    assert operation["deprecated"] is True
    assert operation["x-deprecation"]["sunset"] == "2031-07-15T00:00:00Z"
    assert "Use POST /v1/salutations instead." in operation["description"]
    assert {"Deprecation", "Sunset", "Link"} <= set(operation["responses"]["200"]["headers"])
    assert "deprecated" not in schema["paths"]["/v1/salutations"]["post"]

    shout = schema["components"]["schemas"]["Greeting"]["properties"]["shout"]
    assert shout["deprecated"] is True
    assert "Use text instead." in shout["description"]
    assert "deprecated" not in schema["components"]["schemas"]["Greeting"]["properties"]["text"]


def test_a_sunset_sooner_than_the_policy_allows_is_refused() -> None:
    with pytest.raises(ValueError, match=f"at least {MIN_NOTICE_DAYS} days"):
        deprecated_route(since=date(2031, 1, 1), sunset=date(2031, 3, 1))
    with pytest.raises(ValueError, match="time zone"):
        Deprecation.of(datetime(2031, 1, 1), datetime(2032, 1, 1))  # no zone: refused


def _deprecated_in(schema: dict[str, Any]) -> set[str]:
    found = {
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if operation.get("deprecated")
    }
    for name, component in schema.get("components", {}).get("schemas", {}).items():
        for field, spec in component.get("properties", {}).items():
            if spec.get("deprecated"):
                found.add(f"{name}.{field}")
    return found


def test_the_real_api_deprecates_only_what_the_policy_lists(settings: Settings) -> None:
    assert _deprecated_in(create_app(settings).openapi()) == EXPECTED_DEPRECATED
