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
    """The peer address, as the server settled it: uvicorn replaces it with X-Forwarded-For only when
    the peer is in FORWARDED_ALLOW_IPS (the admin service; see cli.api_server_config). Never read a
    forwarding header here: any caller can send one."""
    return request.client.host if request.client else None


AppDeps = Annotated[Deps, Depends(get_deps)]
