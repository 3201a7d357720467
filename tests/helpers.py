"""Small assertions shared by the API tests."""

from __future__ import annotations

from typing import Any

import httpx


def assert_envelope(response: httpx.Response) -> dict[str, Any]:
    """Every response carries exactly the envelope keys, with data xor error; returns the body."""
    body: dict[str, Any] = response.json()
    assert set(body) == {"server_time", "request_id", "data", "error"}
    assert body["server_time"].endswith("Z")
    assert (body["data"] is None) != (body["error"] is None)
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def error_code(response: httpx.Response) -> str:
    code: str = assert_envelope(response)["error"]["code"]
    return code
