"""What every service call needs from the app: database, clock and settings, in one small object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from boxoffice.config import Settings
from boxoffice.core.clock import Clock
from boxoffice.core.db import Database


@dataclass(frozen=True)
class Deps:
    db: Database
    clock: Clock
    settings: Settings


def get_deps(request: Request) -> Deps:
    return Deps(request.app.state.db, request.app.state.clock, request.app.state.settings)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


AppDeps = Annotated[Deps, Depends(get_deps)]
