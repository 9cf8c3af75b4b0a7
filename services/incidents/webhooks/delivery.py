"""Sending one webhook: resolve once, refuse forbidden addresses, connect to that very address, sign, POST.

The request goes to the IP literal the check approved (Host header and TLS SNI carry the name), so a name that
resolves differently the second time (DNS rebinding) cannot move the connection to a private address.

Connections are pooled per receiver (`Clients`: one small keep-alive pool per scheme, address, port and TLS name):
httpcore's pool does work proportional to its size on every request, so one shared pool of 200 connections spent
more CPU choosing a connection than sending on it (py-spy, 2026-12-02)."""

from __future__ import annotations

import asyncio
import importlib.util
import ipaddress
import socket
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import httpx
from standardwebhooks import Webhook

from libs.common.errors import Invalid
from services.incidents.webhooks.domain import address_refused

# httpcore runs `import sniffio` on every connection and lock; without sniffio installed each of those is a failed
# search of sys.path (12 % of the worker's CPU, py-spy). Absent, it is marked absent once, so the import fails fast.
if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
    sys.modules["sniffio"] = None  # type: ignore[assignment]


class Refused(Exception):
    """The URL may not be delivered to (a stable code, e.g. blocked_address)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


async def resolve(host: str, port: int) -> list[str]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Refused("unresolvable_host") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise Refused("unresolvable_host")
    return addresses


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


async def checked_address(url: httpx.URL, *, allow_private: bool) -> str:
    """The one address to connect to; every address the name resolves to must be allowed."""
    port = url.port or (443 if url.scheme == "https" else 80)
    literal = _literal(url.host)
    addresses = [literal] if literal is not None else await resolve(url.host, port)
    if not allow_private and any(address_refused(a) for a in addresses):
        raise Refused("blocked_address")
    return addresses[0]


async def validate_url(raw: str, *, allow_http: bool, allow_private: bool) -> str:
    """At subscription time: a problem+json 422 for what could never be delivered."""
    try:
        url = httpx.URL(raw)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise Invalid("the URL cannot be parsed", code="invalid_url", field="url") from exc
    if url.scheme != "https" and not (allow_http and url.scheme == "http"):
        raise Invalid("the URL must use https", code="url_not_https", field="url")
    if not url.host or url.userinfo:
        raise Invalid("the URL needs a host and no user:password part", code="invalid_url", field="url")
    try:
        await checked_address(url, allow_private=allow_private)
    except Refused as exc:
        detail = (
            "the URL's host resolves to a loopback, private or reserved address"
            if exc.code == "blocked_address"
            else "the URL's host does not resolve"
        )
        raise Invalid(detail, code=exc.code, field="url") from exc
    return str(url)


@lru_cache(maxsize=4096)
def _signer(secret: str) -> Webhook:
    return Webhook(secret)  # decodes the secret once, not per delivery


def signature(secrets: list[str], msg_id: str, timestamp: datetime, body: str) -> str:
    """One `v1,<sig>` per valid secret, space-separated (the new and, during the grace period, the old one)."""
    return " ".join(_signer(secret).sign(msg_id, timestamp, body) for secret in secrets)


class Clients:
    """One httpx client (a keep-alive pool of at most `per_receiver` connections) per receiver origin as connected
    to (scheme, checked address, port, TLS name). A client unused for `idle_seconds` is closed by `sweep`."""

    def __init__(self, *, per_receiver: int, idle_seconds: float = 60.0) -> None:
        self.per_receiver, self.idle_seconds = per_receiver, idle_seconds
        self.clients: dict[tuple[str, str, int, str], tuple[httpx.AsyncClient, float]] = {}
        self.in_use: dict[tuple[str, str, int, str], int] = {}
        self.tls = httpx.create_ssl_context()  # one for all (loading the CA store costs ~20 ms a client)

    def take(self, key: tuple[str, str, int, str]) -> httpx.AsyncClient:
        found = self.clients.get(key)
        if found is None:
            limits = httpx.Limits(max_connections=self.per_receiver, max_keepalive_connections=self.per_receiver)
            client = httpx.AsyncClient(limits=limits, follow_redirects=False, trust_env=False, verify=self.tls)
        else:
            client = found[0]
        self.clients[key] = (client, time.monotonic())
        self.in_use[key] = self.in_use.get(key, 0) + 1
        return client

    def give_back(self, key: tuple[str, str, int, str]) -> None:
        left = self.in_use.get(key, 1) - 1
        if left <= 0:
            self.in_use.pop(key, None)
        else:
            self.in_use[key] = left
        found = self.clients.get(key)
        if found is not None:
            self.clients[key] = (found[0], time.monotonic())

    async def sweep(self) -> None:
        cutoff = time.monotonic() - self.idle_seconds
        idle = [k for k, (_, used) in self.clients.items() if used < cutoff and k not in self.in_use]
        for key in idle:
            client, _ = self.clients.pop(key)
            await client.aclose()

    async def aclose(self) -> None:
        clients = [client for client, _ in self.clients.values()]
        self.clients.clear()
        for client in clients:
            await client.aclose()


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None
    error: str | None  # a stable code: http_500, timeout, connect_error, blocked_address, ...


async def send(
    clients: Clients,
    *,
    url: str,
    msg_id: str,
    secrets: list[str],
    body: str,
    timestamp: datetime,
    allow_private: bool,
    timeout: float,
) -> Outcome:
    target = httpx.URL(url)
    try:
        address = await checked_address(target, allow_private=allow_private)
    except Refused as exc:
        return Outcome(False, None, exc.code)
    headers = {
        "host": target.netloc.decode("ascii"),
        "content-type": "application/json",
        "user-agent": "Assay-Webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature(secrets, msg_id, timestamp, body),
    }
    pinned = target.copy_with(host=address)
    key = (target.scheme, address, target.port or 0, target.host)
    client = clients.take(key)
    try:
        async with asyncio.timeout(timeout):  # the whole exchange, not only each read
            response = await client.post(
                pinned,
                content=body.encode(),
                headers=headers,
                extensions={"sni_hostname": target.host},
                timeout=timeout,
            )
    except TimeoutError:
        return Outcome(False, None, "timeout")
    except httpx.TimeoutException:
        return Outcome(False, None, "timeout")
    except httpx.ConnectError:
        return Outcome(False, None, "connect_error")
    except httpx.HTTPError:
        return Outcome(False, None, "transport_error")
    finally:
        clients.give_back(key)
    if 200 <= response.status_code < 300:
        return Outcome(True, response.status_code, None)
    return Outcome(False, response.status_code, f"http_{response.status_code}")
