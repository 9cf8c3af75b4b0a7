"""A small in-process rate limiter for public endpoints, keyed by a keyed hash of the client address kept only in
memory (the address itself is never stored, logged or written anywhere)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from fastapi import Request

from libs.common.errors import AppError


class TooManyRequests(AppError):
    status, code, title = 429, "too_many_requests", "Too many requests"


@dataclass
class RateLimiter:
    """At most `limit` requests per `window` seconds per client, as a sliding count in fixed windows.

    The key is HMAC-SHA256 of the address under a random secret made at start-up and never written down, so even
    this process's memory holds no address; at most `max_clients` keys are kept (oldest dropped first)."""

    limit: int
    window: float = 60.0
    max_clients: int = 100_000
    clock: Callable[[], float] = time.monotonic
    _secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    _counts: OrderedDict[bytes, tuple[float, int]] = field(default_factory=OrderedDict, repr=False)

    def key(self, address: str) -> bytes:
        return hmac.new(self._secret, address.encode(), hashlib.sha256).digest()

    def hit(self, address: str) -> bool:
        """Count one request from `address`; False when it is over the limit."""
        key, now = self.key(address), self.clock()
        started, count = self._counts.get(key, (now, 0))
        if now - started >= self.window:
            started, count = now, 0
        self._counts[key] = (started, count + 1)
        self._counts.move_to_end(key)
        while len(self._counts) > self.max_clients:
            self._counts.popitem(last=False)
        return count + 1 <= self.limit

    def check(self, address: str) -> None:
        if not self.hit(address):
            raise TooManyRequests(f"more than {self.limit} requests in {self.window:g} s; try again later")


def client_address(request: Request) -> str:
    """The peer's address, or X-Forwarded-For's client when the peer is a proxy in FORWARDED_ALLOW_IPS (the app's
    ProxyHeadersMiddleware rewrote it; a client's own X-Forwarded-For from anywhere else is ignored)."""
    return request.client.host if request.client else "unknown"


def limit_requests(limiter: RateLimiter) -> Callable[[Request], None]:
    """A FastAPI dependency refusing (429 problem) a client past the limiter's rate."""

    def dependency(request: Request) -> None:
        limiter.check(client_address(request))

    return dependency


class HideClientAddress(logging.Filter):
    """Blanks the client address in uvicorn's access log lines for requests under the given path prefixes."""

    def __init__(self, prefixes: Iterable[str]) -> None:
        super().__init__()
        self.prefixes = tuple(prefixes)

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn.access: (client_addr, method, full_path, http_version, status_code)
        if isinstance(args, tuple) and len(args) == 5 and str(args[2]).startswith(self.prefixes):
            record.args = ("-", *args[1:])
        return True


def hide_client_address(prefixes: Iterable[str]) -> None:
    """Install HideClientAddress on uvicorn's access logger (once per prefix set)."""
    access = logging.getLogger("uvicorn.access")
    wanted = tuple(prefixes)
    if not any(isinstance(f, HideClientAddress) and f.prefixes == wanted for f in access.filters):
        access.addFilter(HideClientAddress(wanted))
