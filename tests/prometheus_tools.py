"""Debian's `prometheus` package (promtool and the server) for the monitoring tests: `.ci/run`
installs it; elsewhere a test without it is skipped with the command that brings it."""

from __future__ import annotations

import os
import shutil

import pytest


def debian_tool(name: str) -> str:
    """The tool's path; in CI its absence fails the test, elsewhere it skips it."""
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is required in CI (.ci/run installs Debian's prometheus package)")
        pytest.skip(f"{name} is not installed (apt-get install prometheus)")
    return found
