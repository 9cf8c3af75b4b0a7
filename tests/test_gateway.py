"""The one entry point of `make run` (deploy/gateway.py) in front of the services' apps served by real uvicorn
servers: prefixes, headers, streaming both ways, the client address, upstreams down, the combined docs."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from deploy import docs_pages, gateway
from libs.common.devservers import free_port
from tests.common.test_docs_browser import browser, rendered_dom, serving

pytestmark = pytest.mark.timeout(180)
SERVICES = ("kyc", "incidents", "traceability", "scoring")
CHUNK = b"x" * 65_536


def from_address(address: str, **kwargs: Any) -> httpx.AsyncClient:
    """A client whose connections come from `address` (any 127.x.y.z is this machine's loopback on Linux)."""
    return httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(local_address=address), timeout=30, **kwargs)


class Upstream:
    """A stand-in upstream that reports what reached it, and whose big answer waits for the client's first read."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.first_chunk_arrived = asyncio.Event()  # the upload's first chunk is here while the client still holds more
        self.client_read_first_chunk = asyncio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        received = 0
        while True:
            message = await receive()
            received += len(message.get("body", b""))
            if received:
                self.first_chunk_arrived.set()
            if not message.get("more_body"):
                break
        self.seen.append({"path": scope["path"], "query": scope["query_string"], "headers": headers, "bytes": received})
        if scope["path"] == "/big":
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": CHUNK, "more_body": True})
            await self.client_read_first_chunk.wait()  # a gateway holding the whole answer back never gets past here
            for _ in range(63):
                await send({"type": "http.response.body", "body": CHUNK, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        if scope["path"] == "/slow":
            await receive()  # answers nothing until the gateway, timed out, hangs up (http.disconnect)
            return
        body = f'{{"received": {received}}}'.encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture
async def platform(stack):  # type: ignore[no-untyped-def]
    """The four services' apps on real uvicorn servers, a stand-in `echo` upstream and a dead one, the gateway."""
    upstream = Upstream()
    async with AsyncExitStack() as running:
        limited = {"incidents": {"incidents_public_rate_per_minute": 2}}
        bases = {s: await running.enter_async_context(serving(stack.app(s, **limited.get(s, {})))) for s in SERVICES}
        bases["echo"] = await running.enter_async_context(serving(upstream))
        bases["down"] = f"http://127.0.0.1:{free_port()}"
        entry = await running.enter_async_context(serving(gateway.create_app(bases, read_seconds=1.0)))
        yield {"entry": entry, "bases": bases, "upstream": upstream, "token": stack.token()}


async def test_each_prefix_reaches_its_service_with_the_callers_token(platform):
    entry, token = platform["entry"], platform["token"]
    async with from_address("127.0.0.1", base_url=entry) as client:
        health = {s: (await client.get(f"/{s}/health")).json() for s in SERVICES}
        refused = await client.get("/kyc/actors")
        listed = await client.get("/kyc/actors", params={"limit": 5}, headers={"Authorization": f"Bearer {token}"})
        docs = await client.get("/kyc/openapi.json")

    assert {s: h["service"] for s, h in health.items()} == {s: s for s in SERVICES}
    assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
    assert listed.status_code == 200, listed.text
    assert "/actors" in docs.json()["paths"]


async def test_headers_pass_except_hop_by_hop_and_the_query_survives(platform):
    async with from_address("127.0.0.1", base_url=platform["entry"]) as client:
        answer = await client.post(
            "/echo/some/path",
            params={"a": "1", "b": "two words"},
            content=b"{}",
            headers={
                "Authorization": "Bearer abc",
                "X-Request-ID": "req-123",
                "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                "Connection": "keep-alive, X-Private",
                "X-Private": "for the gateway only",
                "Proxy-Authorization": "Basic c2VjcmV0",
                "X-Forwarded-For": "6.6.6.6",
            },
        )

    seen = platform["upstream"].seen[-1]
    assert answer.status_code == 200
    assert seen["path"] == "/some/path" and seen["query"] == b"a=1&b=two+words"
    assert seen["headers"]["authorization"] == "Bearer abc"
    assert seen["headers"]["x-request-id"] == "req-123"
    assert seen["headers"]["traceparent"].startswith("00-0af7651916cd43dd")
    assert "x-private" not in seen["headers"] and "proxy-authorization" not in seen["headers"]
    assert seen["headers"]["x-forwarded-proto"] == "http"
    assert seen["headers"]["x-forwarded-for"] == "127.0.0.1"  # the peer's address, not what the client claimed


async def test_a_large_body_streams_both_ways_without_being_held(platform):
    upstream: Upstream = platform["upstream"]

    async def upload() -> AsyncIterator[bytes]:
        yield CHUNK
        await upstream.first_chunk_arrived.wait()  # a gateway buffering the whole upload never lets this go
        for _ in range(255):
            yield CHUNK

    async with from_address("127.0.0.1", base_url=platform["entry"]) as client:
        uploaded = await client.post("/echo/upload", content=upload())
        async with client.stream("GET", "/echo/big") as answer:
            chunks = answer.aiter_raw()
            first = await anext(chunks)
            upstream.client_read_first_chunk.set()
            rest = [chunk async for chunk in chunks]

    assert uploaded.json() == {"received": 256 * len(CHUNK)}
    assert len(first) + sum(map(len, rest)) == 64 * len(CHUNK)


async def test_the_service_sees_the_client_behind_the_gateway_and_no_forged_address(platform):
    """Public incident reports allow 2 requests a minute per client (as the rate limiter counts them)."""
    entry, incidents = platform["entry"], platform["bases"]["incidents"]
    path, body = "/public/reports/status", {"token": "no-such-token-" + "0" * 20}

    async def statuses(base: str, address: str, *, forged: bool = False) -> list[int]:
        async with from_address(address, base_url=base) as client:
            return [
                (
                    await client.post(path, json=body, headers={"X-Forwarded-For": f"10.0.0.{n}"} if forged else {})
                ).status_code
                for n in range(3)
            ]

    through_gateway_a = await statuses(entry + "/incidents", "127.0.0.2", forged=True)
    through_gateway_b = await statuses(entry + "/incidents", "127.0.0.3")
    direct_untrusted = await statuses(incidents, "127.0.0.4", forged=True)

    # each client has its own count (the service trusts the gateway's word), a forged header changes nothing
    assert 429 not in through_gateway_a[:2] and through_gateway_a[2] == 429
    assert 429 not in through_gateway_b[:2] and through_gateway_b[2] == 429
    assert direct_untrusted[2] == 429  # 127.0.0.4 is no trusted proxy: its X-Forwarded-For is not believed


async def test_an_upstream_down_or_silent_answers_a_problem_and_never_hangs(platform):
    async with from_address("127.0.0.1", base_url=platform["entry"]) as client:
        down = await client.get("/down/anything")
        silent = await client.get("/echo/slow")
        unknown = await client.get("/nowhere/at/all")
        health = (await client.get("/health")).json()

    assert down.status_code == 503 and down.headers["content-type"] == "application/problem+json"
    assert down.json()["code"] == "upstream_unavailable" and down.headers["retry-after"] == "5"
    assert silent.status_code == 504 and silent.json()["code"] == "upstream_timeout"
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    assert health["status"] == "degraded"
    assert {s: health["upstreams"][s] for s in (*SERVICES, "down")} == {**dict.fromkeys(SERVICES, "ok"), "down": "down"}


async def test_the_asyncapi_document_is_browsable_and_served_raw(platform):
    async with from_address("127.0.0.1", base_url=platform["entry"]) as client:
        page = await client.get("/asyncapi")
        raw = await client.get("/asyncapi.yaml")

    document = docs_pages.load_asyncapi()
    assert raw.text == docs_pages.ASYNCAPI_YAML.read_text()
    for channel in document["channels"].values():
        assert f"<code>{channel['address']}</code>" in page.text
    assert 'id="message-ActorApproved.v1"' in page.text and 'id="schema-ActorApproved.v1"' in page.text
    assert "<code>approved_by</code>" in page.text  # a payload field
    assert "http://" not in page.text and "https://" not in page.text  # nothing fetched from elsewhere


async def test_the_combined_docs_page_renders_each_service_under_its_prefix_in_a_real_browser(stack):
    chromium = browser()
    async with AsyncExitStack() as running:
        bases = {s: await running.enter_async_context(serving(stack.app(s))) for s in SERVICES}
        entry = await running.enter_async_context(serving(gateway.create_app(bases)))
        dom = await rendered_dom(chromium, entry + "/docs")

    assert "Unable to render this definition" not in dom and "Failed to load" not in dom
    assert {"/actors", "/actors/{actor_id}"} <= set(re.findall(r'data-path="([^"]+)"', dom))
    assert re.search(r'<option value="/kyc"[^>]*>', dom), "the document's server is not the gateway's /kyc prefix"
    assert all(f'<option value="{s}"' in dom for s in SERVICES)


def test_the_pages_nginx_serves_are_the_ones_rendered_now():
    for name, text in docs_pages.rendered_for_nginx().items():
        written = docs_pages.NGINX_HTML / name
        assert written.exists() and written.read_text() == text, "run: python -m deploy.docs_pages --write"
