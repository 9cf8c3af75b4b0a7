"""The worker's liveness: loops beat, the supervisor says what must beat, and a tiny HTTP server reports it."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable

from prometheus_client import generate_latest

log = logging.getLogger("assay.health")
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
READ_TIMEOUT_SECONDS = 5.0
MAX_HEADER_LINES = 100
MAX_DISCARDED_BODY = 64 * 1024
READY_TIMEOUT_SECONDS = 5.0

# One worker per process, so one registry per process: name -> monotonic time of the last beat, etc.
_beats: dict[str, float] = {}
_limits: dict[str, float] = {}
_down: dict[str, str] = {}


def beat(name: str) -> None:
    """Called by a loop at least every few seconds, busy or idle: "I am still making progress"."""
    _beats[name] = time.monotonic()


def expect(name: str, *, within: float) -> None:
    """The supervisor (re)started `name`: it counts as alive now and must beat again within `within` seconds."""
    _limits[name] = within
    _down.pop(name, None)
    _beats[name] = time.monotonic()


def down(name: str, reason: str) -> None:
    """`name` died and waits for its restart; /health fails until expect() is called for it again."""
    _down[name] = reason


def forget(*names: str) -> None:
    """The worker stopped: these tasks are no longer expected."""
    for name in names:
        _limits.pop(name, None)
        _down.pop(name, None)
        _beats.pop(name, None)


def check() -> tuple[bool, dict[str, object]]:
    """(alive, the /health body): alive when every expected task beat within its limit and none is down."""
    now = time.monotonic()
    silences = {name: round(now - _beats.get(name, now), 3) for name in _limits}
    failing = {name: f"down: {reason}" for name, reason in _down.items() if name in _limits}
    for name, silence in silences.items():
        if name not in failing and silence > _limits[name]:
            failing[name] = f"late: no beat for {silence:.1f}s (limit {_limits[name]:.0f}s)"
    if failing:
        return False, {"status": "failing", "tasks": silences, "failing": failing}
    return True, {"status": "ok", "tasks": silences}


async def serve(
    host: str,
    port: int,
    *,
    ready: Callable[[], Awaitable[bool]] | None = None,
    stop: asyncio.Event,
    on_listening: Callable[[int], None] | None = None,
) -> None:
    """GET /health, /ready and /metrics on host:port (0 picks a free port, passed to on_listening) until stop."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _answer(reader, writer, ready)

    server = await asyncio.start_server(handle, host, port, limit=16 * 1024)
    bound = server.sockets[0].getsockname()[1]
    log.info("worker health listening", extra={"host": host, "port": bound})
    if on_listening is not None:
        on_listening(bound)
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()


async def _answer(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, ready: Callable[[], Awaitable[bool]] | None
) -> None:
    try:
        try:
            method, path = await asyncio.wait_for(_read_request(reader), timeout=READ_TIMEOUT_SECONDS)
        except (TimeoutError, ValueError, asyncio.LimitOverrunError, asyncio.IncompleteReadError):
            status, headers, body = _problem(400, "Bad Request", "not an HTTP/1.x request")
        else:
            status, headers, body = await _route(method, path, ready)
        writer.write(_response(status, headers, body))
        await writer.drain()
    except Exception:  # a client that vanished, or anything else: this connection is done, the server goes on
        log.debug("health request failed", exc_info=True)
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except Exception:  # the peer reset the connection; it is closed either way
            pass


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str]:
    parts = (await reader.readline()).decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise ValueError("bad request line")
    length = 0
    for _ in range(MAX_HEADER_LINES):  # read the headers, so closing does not reset the reply away
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    else:
        raise ValueError("too many headers")
    if 0 < length <= MAX_DISCARDED_BODY:
        await reader.readexactly(length)
    return parts[0], parts[1].split("?", 1)[0]


async def _route(
    method: str, path: str, ready: Callable[[], Awaitable[bool]] | None
) -> tuple[int, dict[str, str], bytes]:
    if path not in ("/health", "/ready", "/metrics"):
        return _problem(404, "Not Found", f"no such path: {path[:200]}")
    if method != "GET":
        status, headers, body = _problem(405, "Method Not Allowed", f"{path} answers GET only")
        return status, {**headers, "Allow": "GET"}, body
    if path == "/metrics":
        return 200, {"Content-Type": METRICS_CONTENT_TYPE}, generate_latest()
    if path == "/health":
        alive, report = check()
        return _json(200 if alive else 503, report)
    is_ready = await _is_ready(ready)
    return _json(200 if is_ready else 503, {"status": "ready" if is_ready else "not ready"})


async def _is_ready(ready: Callable[[], Awaitable[bool]] | None) -> bool:
    if ready is None:
        return True
    try:
        return bool(await asyncio.wait_for(ready(), timeout=READY_TIMEOUT_SECONDS))
    except Exception:  # a readiness probe that fails or hangs means "not ready", never a crash
        log.debug("readiness check failed", exc_info=True)
        return False


def _json(status: int, body: dict[str, object]) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


def _problem(status: int, title: str, detail: str) -> tuple[int, dict[str, str], bytes]:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return status, {"Content-Type": "application/problem+json"}, json.dumps(body).encode()


def _response(status: int, headers: dict[str, str], body: bytes) -> bytes:
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}[
        status
    ]
    lines = [
        f"HTTP/1.1 {status} {reason}",
        *(f"{k}: {v}" for k, v in headers.items()),
        f"Content-Length: {len(body)}",
        "Connection: close",
        "",
        "",
    ]
    return "\r\n".join(lines).encode("latin-1") + body
