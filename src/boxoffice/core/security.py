"""Secrets handling: token hashing, PIN/password hashing, access tokens.

Device tokens and site keys are 256-bit random strings stored only as SHA-256 hashes; PINs and
passwords are argon2id (OWASP minimum parameters: 19 MiB, t=2, p=1); access tokens are HS256
JWTs signed with JWT_SECRET. Hashing runs in a thread so a login never stalls the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from boxoffice.core.errors import Unauthenticated

_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)

ACCESS_TOKEN_TTL = timedelta(minutes=15)
JWT_ALGORITHM = "HS256"
JWT_ISSUER = "boxoffice"


def new_secret_token(prefix: str) -> str:
    """A 256-bit random token with a readable prefix (`dt_` device token, `sk_` site key)."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def same_hash(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(sha256_hex(token), stored_hash)


async def hash_secret(plain: str) -> str:
    return await asyncio.to_thread(_hasher.hash, plain)


async def verify_secret(stored: str | None, plain: str) -> bool:
    if not stored:
        # Spend the same time as a real check, so a missing record is not told apart by timing.
        await asyncio.to_thread(_dummy_verify, plain)
        return False
    try:
        return await asyncio.to_thread(_hasher.verify, stored, plain)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH = _hasher.hash("not-a-real-secret")


def _dummy_verify(plain: str) -> None:
    try:
        _hasher.verify(_DUMMY_HASH, plain)
    except VerificationError:
        pass


def issue_access_token(
    secret: str, claims: dict[str, Any], *, now: datetime, ttl: timedelta = ACCESS_TOKEN_TTL
) -> tuple[str, datetime]:
    expires_at = now + ttl
    payload = {**claims, "iss": JWT_ISSUER, "iat": int(now.timestamp()), "exp": int(expires_at.timestamp())}
    return jwt.encode(payload, secret, algorithm=JWT_ALGORITHM), expires_at


def decode_access_token(
    secret: str, token: str, *, now: datetime, allow_expired: bool = False
) -> dict[str, Any]:
    """Verify signature, issuer and expiry against the injected clock's `now`.

    `allow_expired` is for refreshing a back-office session only (bounded by its `auth_time`).
    """
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            issuer=JWT_ISSUER,
            # Time is checked below against the injected clock, not the wall clock.
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "require": ["exp", "iat", "iss", "typ", "sub", "tid"],
            },
        )
    except jwt.PyJWTError as exc:
        raise Unauthenticated("The access token is not valid.") from exc
    if not allow_expired and int(claims["exp"]) <= int(now.timestamp()):
        raise Unauthenticated("The access token has expired; log in again.")
    return claims
