"""The HTTP client webhook deliveries go out through.

Outside development a webhook never reaches into our own network (the database, the metadata
service, the admin), DNS rebinding included: each request's host is resolved once, every address
it resolves to must be public, and the connection is made to the address that was checked — the
Host header stays the URL's, and for https so do the TLS server name (SNI) and the certificate
check. The client never resolves the name a second time.

The tenant is told only "blocked address"; which addresses a name resolved to goes to our logs.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections import OrderedDict
from collections.abc import Awaitable, Callable

import httpx

from boxoffice.config import Settings
from boxoffice.core.logging import get_logger

log = get_logger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: host, port → the addresses it resolves to (strings); raises OSError when it does not resolve.
Resolver = Callable[[str, int], Awaitable[list[str]]]

BLOCKED = "blocked address"
#: Distinct hostnames with their own connection pool (TLS sessions are per hostname, never shared
#: between two names that resolve to one address); the least recently used beyond this are closed.
MOST_HOSTS = 256


class BlockedAddress(Exception):
    """The URL's host is not only public addresses (or does not resolve): no connection was made."""

    def __init__(self) -> None:
        super().__init__(BLOCKED)


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def is_public(address: IPAddress) -> bool:
    """Globally routable; an IPv4 address written as IPv6 (::ffff:10.0.0.1) is judged as IPv4."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_global
    return address.is_global


class PinnedTransport(httpx.AsyncBaseTransport):
    """Resolve once, check every address, connect to the checked one."""

    def __init__(
        self,
        resolver: Resolver = system_resolver,
        *,
        allowed: Callable[[IPAddress], bool] = is_public,
        transport_for: Callable[[str], httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        self.resolver = resolver
        self.allowed = allowed
        self.transport_for = transport_for or (lambda _host: httpx.AsyncHTTPTransport())
        self._pools: OrderedDict[str, httpx.AsyncBaseTransport] = OrderedDict()
        self._closing: set[asyncio.Task[None]] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        address = await self._checked_address(host, request.url.port or _default_port(request.url.scheme))
        # The Host header was set from the URL when the request was built; only where we connect changes.
        request.url = request.url.copy_with(host=str(address))
        if request.url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": host}
        return await self._pool(host).handle_async_request(request)

    async def _checked_address(self, host: str, port: int) -> IPAddress:
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                addresses = [ipaddress.ip_address(a) for a in await self.resolver(host, port)]
            except (OSError, ValueError) as exc:
                log.warning("webhook_host_unresolved", host=host, reason=str(exc))
                raise BlockedAddress() from None
        refused = [str(a) for a in addresses if not self.allowed(a)]
        if not addresses or refused:
            log.warning("webhook_address_blocked", host=host, addresses=refused)
            raise BlockedAddress()
        return addresses[0]

    def _pool(self, host: str) -> httpx.AsyncBaseTransport:
        pool = self._pools.get(host)
        if pool is None:
            pool = self._pools[host] = self.transport_for(host)
            while len(self._pools) > MOST_HOSTS:
                _, oldest = self._pools.popitem(last=False)
                closing = asyncio.get_running_loop().create_task(oldest.aclose())
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)
        self._pools.move_to_end(host)
        return pool

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.aclose()


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def webhook_client(settings: Settings, resolver: Resolver = system_resolver) -> httpx.AsyncClient:
    """Deliveries' client: outside development every request goes through `PinnedTransport` (and
    never through a proxy from the environment, which would connect by name). Redirects are not
    followed: a receiver cannot send us somewhere else."""
    if settings.environment == "development":
        return httpx.AsyncClient(follow_redirects=False)
    return httpx.AsyncClient(transport=PinnedTransport(resolver), follow_redirects=False, trust_env=False)
