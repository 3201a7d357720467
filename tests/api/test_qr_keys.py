"""`boxoffice keys rotate`: new tokens use the new key, old tokens keep verifying, forgeries fail."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

import pytest

from boxoffice.config import Settings
from boxoffice.core.db import C
from boxoffice.core.deps import Deps
from boxoffice.tickets import keys
from boxoffice.tickets.qr import InvalidSignature, sign, verify

TICKET = "01M8C0T7ZNCVJWX84Z0EXXVQMG"


def run_rotate(base_env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "boxoffice.cli", "keys", "rotate"],
        env={**os.environ, **base_env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_rotation_keeps_old_tokens_valid(
    deps: Deps, settings: Settings, base_env: dict[str, str]
) -> None:
    before = await keys.load(deps.db, settings)
    assert before.current_id == settings.qr_current_key.key_id
    old_token = sign(before.current_id, before.current_secret, TICKET)

    output = run_rotate(base_env)
    after = await keys.load(deps.db, settings)
    assert after.current_id != before.current_id
    assert f"QR signing key {after.current_id} is now current" in output
    assert verify(old_token, after.secrets) == TICKET
    new_token = sign(after.current_id, after.current_secret, TICKET)
    assert verify(new_token, after.secrets) == TICKET
    with pytest.raises(InvalidSignature):
        verify(
            new_token, before.secrets
        )  # a replica that has not reloaded yet refuses, it never accepts a forgery
    forged = f"{after.current_id}.{TICKET}.{'A' * 22}"
    with pytest.raises(InvalidSignature):
        verify(forged, after.secrets)

    stored = await deps.db[C.SECRETS].find_one({"key_id": after.current_id})
    assert stored is not None
    assert "secret" not in stored
    assert after.current_secret.hex() not in str(stored)


async def test_a_wrong_master_key_is_a_clear_error(
    deps: Deps, settings: Settings, base_env: dict[str, str]
) -> None:
    run_rotate(base_env)
    with pytest.raises(RuntimeError, match="WEBHOOK_MASTER_KEY"):
        await keys.load(deps.db, replace(settings, webhook_master_key="another-master-key"))
