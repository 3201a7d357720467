"""Stopping the API is bounded step by step: a step stuck past its time is left behind (cancelled,
logged), even one that swallows its cancellation, so a stop ends before the orchestrator kills it."""

from __future__ import annotations

import asyncio
import time

import pytest

from boxoffice.core import background


async def stuck(stopped: list[str], released: asyncio.Event) -> None:
    """Takes no notice of being cancelled (as a wedged driver call would) until `released`."""
    while not released.is_set():
        try:
            await released.wait()
        except asyncio.CancelledError:
            stopped.append("asked")


async def test_a_step_that_never_ends_is_left_behind_in_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(background, "SHUTDOWN_STEP_SECONDS", 0.2)
    stopped: list[str] = []
    released = asyncio.Event()
    started = time.monotonic()
    await background.bounded(stuck(stopped, released), "stuck")
    assert time.monotonic() - started < 1.0
    await asyncio.sleep(0)
    assert stopped == ["asked"]  # it was asked to stop
    released.set()  # the test's loop ends with no task left behind


async def test_a_step_that_ends_is_awaited_and_its_failure_does_not_stop_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(background, "SHUTDOWN_STEP_SECONDS", 0.2)
    done: list[str] = []

    async def quick() -> None:
        await asyncio.sleep(0.01)
        done.append("closed")

    async def failing() -> None:
        raise ConnectionError("the database went first")

    await background.bounded(quick(), "quick")
    await background.bounded(failing(), "failing")
    assert done == ["closed"]
