"""Sending one webhook: resolve once, refuse forbidden addresses, connect to that very address, sign, POST.

The request goes to the IP literal the check approved (Host header and TLS SNI carry the name), so a name that
resolves differently the second time (DNS rebinding) cannot move the connection to a private address."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from datetime import datetime

import httpx
from standardwebhooks import Webhook

from libs.common.errors import Invalid
from services.incidents.webhooks.domain import address_refused


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


async def checked_address(url: httpx.URL, *, allow_private: bool) -> str:
    """The one address to connect to; every address the name resolves to must be allowed."""
    port = url.port or (443 if url.scheme == "https" else 80)
    addresses = await resolve(url.host, port)
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


def signature(secrets: list[str], msg_id: str, timestamp: datetime, body: str) -> str:
    """One `v1,<sig>` per valid secret, space-separated (the new and, during the grace period, the old one)."""
    return " ".join(Webhook(secret).sign(msg_id, timestamp, body) for secret in secrets)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None
    error: str | None  # a stable code: http_500, timeout, connect_error, blocked_address, ...


async def send(
    client: httpx.AsyncClient,
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
    if 200 <= response.status_code < 300:
        return Outcome(True, response.status_code, None)
    return Outcome(False, response.status_code, f"http_{response.status_code}")
