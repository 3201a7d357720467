"""The browser's session: the API token lives in an httpOnly cookie the page cannot read.

SameSite=Strict plus a double-submit CSRF token (cookie `bo_csrf`, header `X-CSRF-Token`) guards
every state-changing request; the token is refreshed through the API shortly before it expires.
Cookies are `Secure` when the browser's request came over https (the request's own scheme, or
X-Forwarded-Proto from a proxy listed in ADMIN_FORWARDED_ALLOW_IPS), or always/never as
ADMIN_COOKIE_SECURE says.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

import httpx
from fastapi import Request, Response

from boxoffice.config import Settings
from boxoffice.core.clock import Clock

SESSION_COOKIE = "bo_session"
CSRF_COOKIE = "bo_csrf"
CSRF_HEADER = "x-csrf-token"
REFRESH_BEFORE = timedelta(minutes=5)
COOKIE_MAX_AGE = timedelta(hours=12)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token_expiry(token: str) -> int | None:
    """The `exp` claim, read without verification: the API verifies; this only schedules refresh."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return int(claims["exp"])
    except (IndexError, KeyError, TypeError, ValueError):
        return None


def over_https(request: Request) -> bool:
    """The scheme uvicorn saw: the connection's own, or a trusted proxy's X-Forwarded-Proto."""
    return request.url.scheme == "https"


def _secure(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    if settings.admin_cookie_secure == "always":
        return True
    if settings.admin_cookie_secure == "never":
        return False
    return over_https(request)


def set_session(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(COOKIE_MAX_AGE.total_seconds()),
        httponly=True,
        secure=_secure(request),
        samesite="strict",
        path="/",
    )


def clear_session(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=_secure(request), httponly=True, samesite="strict"
    )


def ensure_csrf_cookie(request: Request, response: Response) -> None:
    """Every page load leaves a CSRF cookie for the page to echo back in a header."""
    if not request.cookies.get(CSRF_COOKIE):
        response.set_cookie(
            CSRF_COOKIE,
            secrets.token_urlsafe(32),
            max_age=int(COOKIE_MAX_AGE.total_seconds()),
            httponly=False,
            secure=_secure(request),
            samesite="strict",
            path="/",
        )


def csrf_ok(request: Request) -> bool:
    if request.method in SAFE_METHODS:
        return True
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    return bool(cookie) and hmac.compare_digest(cookie, header)


@dataclass
class SessionToken:
    token: str | None
    refreshed: bool = False


async def session_token(
    request: Request, api: httpx.AsyncClient, clock: Clock, headers: dict[str, str]
) -> SessionToken:
    """The cookie's token, refreshed through the API when it is about to (or did) expire."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return SessionToken(None)
    expiry = token_expiry(token)
    if expiry is not None and expiry - clock.now().timestamp() > REFRESH_BEFORE.total_seconds():
        return SessionToken(token)
    response = await api.post(
        "/v1/employees/refresh", headers={**headers, "authorization": f"Bearer {token}"}
    )
    if response.status_code != 200:
        return SessionToken(None, refreshed=True)
    return SessionToken(str(response.json()["data"]["access_token"]), refreshed=True)
