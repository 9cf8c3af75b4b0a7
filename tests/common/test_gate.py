"""A request is refused on its headers, before its body is sent: through a real uvicorn server and a raw socket that
sends the headers of a 300 MB upload and nothing more, or streams a chunked body without end."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest
import uvicorn

from tests.support.processes import wait_until

HUGE = 300 * 1024 * 1024
LIMIT = 64 * 1024  # the watchlist file limit these tests set; the body may have it plus a multipart envelope
BOUNDARY = "gate-test-boundary"
TIMEOUT = 30.0


@pytest.fixture
async def port(stack) -> AsyncIterator[int]:  # type: ignore[no-untyped-def]
    """The KYC API served by uvicorn on a loopback port of its own, in this event loop."""
    app = stack.app("kyc", kyc_watchlist_max_bytes=LIMIT)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    await wait_until(lambda: _started(server), timeout=TIMEOUT, what="uvicorn started", interval=0.02)
    yield listener.getsockname()[1]
    server.should_exit = True
    await asyncio.wait_for(serving, TIMEOUT)


async def _started(server: uvicorn.Server) -> bool:
    return server.started


def head(path: str, token: str | None, **headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Type: multipart/form-data; boundary={BOUNDARY}"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], dict[str, Any]]:
    status_line = await reader.readline()
    headers: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers["content-length"]))
    return int(status_line.split()[1]), headers, json.loads(body)


async def headers_only(port: int, request: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
    """Send a request's headers and not one byte of the body it announces; the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(answer(reader), TIMEOUT)
    finally:
        writer.close()


def imports() -> str:
    return f"/watchlists/{uuid4()}/imports"


async def test_no_token_is_401_before_the_body_is_sent(stack, port):
    status, headers, problem = await headers_only(port, head(imports(), None, Content_Length=str(HUGE)))

    assert status == 401 and problem["code"] == "missing_token"
    assert headers["content-type"] == "application/problem+json" and headers["connection"] == "close"


async def test_an_invalid_token_is_401_before_the_body_is_sent(stack, port):
    status, _, problem = await headers_only(port, head("/documents", "not-a-jwt", Content_Length=str(HUGE)))

    assert status == 401 and problem["code"] == "invalid_token"


async def test_a_role_that_may_not_send_is_403_before_the_body_is_sent(stack, port):
    analyst = stack.token(roles=("analyst",))  # imports are for admins
    smelter = stack.token(kind="smelter", roles=("admin",))  # uploads are for operators

    status, _, problem = await headers_only(port, head(imports(), analyst, Content_Length=str(HUGE)))
    kind_status, _, kind_problem = await headers_only(port, head("/documents", smelter, Content_Length=str(HUGE)))

    assert status == 403 and problem["code"] == "missing_role"
    assert kind_status == 403 and kind_problem["code"] == "operator_only"


async def test_a_declared_length_over_the_limit_is_413_before_the_body_is_sent(stack, port):
    admin = stack.token(roles=("admin",))

    status, headers, problem = await headers_only(port, head(imports(), admin, Content_Length=str(HUGE)))
    json_status, _, json_problem = await headers_only(
        port, head("/actors", admin, Content_Length=str(HUGE)).replace(b"multipart/form-data", b"application/json")
    )

    assert status == 413 and problem["code"] == "body_too_large" and problem["limit"] > LIMIT
    assert headers["content-type"] == "application/problem+json"
    assert json_status == 413 and json_problem["limit"] == 10 * 1024 * 1024  # MAX_REQUEST_BYTES' default


async def test_a_streamed_body_is_cut_at_the_limit_while_it_is_read(stack, port):
    admin = stack.token(roles=("admin",))
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    chunk, chunks = b"x" * LIMIT, 1024  # 64 MiB offered, never all read
    sent = 0

    async def stream() -> None:
        nonlocal sent
        writer.write(head(imports(), admin, Transfer_Encoding="chunked"))
        part = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="l.csv"\r\n\r\n'.encode()
        writer.write(b"%x\r\n%s\r\n" % (len(part), part))  # a file part that never ends
        with contextlib.suppress(ConnectionError):
            for _ in range(chunks):
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                await writer.drain()
                sent += len(chunk)

    streaming = asyncio.create_task(stream())
    try:
        status, _, problem = await asyncio.wait_for(answer(reader), TIMEOUT)
    finally:
        streaming.cancel()
        writer.close()

    assert status == 413 and problem["code"] == "body_too_large"
    assert sent < chunks * len(chunk), "answered while the body was still coming"


async def test_a_request_within_the_limits_still_goes_through(stack, port):
    admin = stack.token(roles=("admin",))
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = json.dumps({"name": "Own list", "format": "csv"}).encode()
    try:
        writer.write(
            head("/watchlists", admin, Content_Length=str(len(body))).replace(
                b"multipart/form-data; boundary=" + BOUNDARY.encode(), b"application/json"
            )
            + body
        )
        await writer.drain()
        status, _, created = await asyncio.wait_for(answer(reader), TIMEOUT)
    finally:
        writer.close()

    assert status == 201 and created["name"] == "Own list"
