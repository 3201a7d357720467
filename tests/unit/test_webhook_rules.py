"""Webhook signatures and the retry schedule, and the README's receiver snippet really verifies."""

from __future__ import annotations

import random
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from boxoffice.webhooks.rules import RETRY_SCHEDULE, next_attempt, signature_header, verify

NOW = datetime(2031, 3, 14, 5, 0, tzinfo=UTC)


def test_schedule_with_jitter_then_dead_letter() -> None:
    rng = random.Random(1)
    for failures, wait in enumerate(RETRY_SCHEDULE, start=1):
        at = next_attempt(failures, NOW, rng)
        assert at is not None
        assert wait * 0.9 <= at - NOW <= wait * 1.1
    assert next_attempt(len(RETRY_SCHEDULE) + 1, NOW, rng) is None
    assert [w.total_seconds() for w in RETRY_SCHEDULE[:3]] == [10, 60, 300]
    assert RETRY_SCHEDULE[-1] == timedelta(hours=24)


def test_signatures_verify_with_either_secret_during_rotation_and_not_when_stale() -> None:
    body = b'{"id":"E1"}'
    header = signature_header([b"old", b"new"], int(NOW.timestamp()), body)
    assert header.startswith(f"t={int(NOW.timestamp())},v1=")
    assert verify(b"old", header, body, NOW)
    assert verify(b"new", header, body, NOW)
    assert not verify(b"other", header, body, NOW)
    assert not verify(b"new", header, body + b" ", NOW)  # body changed
    assert not verify(b"new", header, body, NOW + timedelta(minutes=6))  # replayed later


def test_the_readme_receiver_snippet_verifies_our_signature() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    snippet = re.search(r"```python\n(import hashlib, hmac, time.*?)```", readme, re.S)
    assert snippet is not None
    namespace: dict[str, Any] = {}
    exec(snippet.group(1), namespace)
    now = int(time.time())
    body = b'{"id":"E1","type":"sale.created"}'
    header = signature_header([b"whsec_abc"], now, body)
    assert namespace["verify"]("whsec_abc", header, body) is True
    assert namespace["verify"]("whsec_xyz", header, body) is False
    assert namespace["verify"]("whsec_abc", signature_header([b"whsec_abc"], now - 3600, body), body) is False
