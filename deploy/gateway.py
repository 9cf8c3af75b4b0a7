"""The one address of `make run`: /kyc, /incidents, /traceability and /scoring passed to the four APIs (prefix
stripped, bodies streamed both ways), the combined docs at / and /docs, the AsyncAPI document at /asyncapi.

    python -m deploy.gateway --port 8000 --upstream kyc=http://127.0.0.1:8001 ...

The gateway is the edge: X-Forwarded-For is set to the address of whoever connected to it (a client's own value is
dropped), and the services trust that header only from the proxies in their FORWARDED_ALLOW_IPS (loopback)."""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from deploy import docs_pages
from libs.common.app import SWAGGER_UI_ASSETS
from libs.common.http import problem
from libs.common.protocol import HTTP_PROTOCOL

DEFAULT_PORT = 8000
CONNECT_SECONDS = 2.0
# Between two chunks of a body, not for the whole exchange: a long upload or download that keeps moving goes on.
DEFAULT_READ_SECONDS = 60.0
# RFC 9110 7.6.1, plus what the gateway sets itself; Host is the upstream's.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer"}
    | {"transfer-encoding", "upgrade", "host", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto"}
)


def create_app(upstreams: Mapping[str, str], *, read_seconds: float = DEFAULT_READ_SECONDS) -> Starlette:
    """`upstreams`: the base URL of each service's API by prefix name, e.g. {"kyc": "http://127.0.0.1:8001"}."""
    upstreams = {name: url.rstrip("/") for name, url in upstreams.items()}
    timeout = httpx.Timeout(read_seconds, connect=CONNECT_SECONDS)
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=64)
    client = httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False, trust_env=False)
    pages = {"docs": docs_pages.swagger_page(upstreams), "asyncapi_yaml": docs_pages.ASYNCAPI_YAML.read_text()}
    pages["asyncapi"] = docs_pages.asyncapi_page(docs_pages.load_asyncapi())

    async def proxy(request: Request) -> Response:
        name = request.path_params["service"]
        if name not in upstreams:
            return problem(404, "not_found", "Not found", f"no service under /{name}", request)
        path = request.url.path.removeprefix(f"/{name}") or "/"
        url = httpx.URL(upstreams[name] + path, query=request.url.query.encode())
        outgoing = client.build_request(request.method, url, headers=_request_headers(request), content=_body(request))
        try:
            answer = await client.send(outgoing, stream=True)
        except httpx.ConnectError:
            return _unavailable(request, name, "refused the connection")
        except httpx.ConnectTimeout:
            return _unavailable(request, name, f"did not accept a connection within {CONNECT_SECONDS:g} s")
        except httpx.TimeoutException:
            return problem(504, "upstream_timeout", "Gateway timeout", f"{name} did not answer in time", request)
        except httpx.HTTPError as exc:
            return problem(502, "bad_gateway", "Bad gateway", f"{name} failed: {type(exc).__name__}", request)
        response = StreamingResponse(
            answer.aiter_raw(),  # as sent: a compressed body stays compressed, its headers still true
            status_code=answer.status_code,
            background=BackgroundTask(answer.aclose),
        )
        response.raw_headers = _response_headers(answer.headers)  # a list: Set-Cookie and the like may repeat
        return response

    async def health(_: Request) -> JSONResponse:
        names = list(upstreams)
        states = await asyncio.gather(*(_upstream_health(client, upstreams[n]) for n in names))
        report = dict(zip(names, states, strict=True))
        # 200 while the gateway itself answers (the launcher restarts what fails its checks); status says the rest
        return JSONResponse({"status": "ok" if all(s == "ok" for s in states) else "degraded", "upstreams": report})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await client.aclose()

    routes = [
        Route("/", lambda _: HTMLResponse(pages["docs"])),
        Route("/docs", lambda _: HTMLResponse(pages["docs"])),
        Route("/asyncapi", lambda _: HTMLResponse(pages["asyncapi"])),
        Route("/asyncapi.yaml", lambda _: PlainTextResponse(pages["asyncapi_yaml"], media_type="application/yaml")),
        Route("/health", health),
        Mount("/docs-assets", StaticFiles(directory=str(SWAGGER_UI_ASSETS)), name="docs-assets"),
        Route("/{service}", proxy, methods=_METHODS),
        Route("/{service}/{rest:path}", proxy, methods=_METHODS),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _body(request: Request) -> AsyncIterator[bytes] | None:
    """The request body as it arrives, chunk by chunk; None for a request that has none (a GET)."""
    if "content-length" not in request.headers and "transfer-encoding" not in request.headers:
        return None
    return request.stream()


def _request_headers(request: Request) -> list[tuple[str, str]]:
    drop = HOP_BY_HOP | _connection_tokens(request.headers.get("connection", ""))
    headers = [(k, v) for k, v in request.headers.items() if k not in drop]
    client = request.client.host if request.client else "unknown"
    headers += [
        ("x-forwarded-for", client),
        ("x-forwarded-host", request.headers.get("host", "")),
        ("x-forwarded-proto", request.url.scheme),
    ]
    return headers


def _response_headers(headers: httpx.Headers) -> list[tuple[bytes, bytes]]:
    drop = HOP_BY_HOP | _connection_tokens(headers.get("connection", ""))
    return [(k.lower(), v) for k, v in headers.raw if k.decode("latin-1").lower() not in drop]


def _connection_tokens(value: str) -> frozenset[str]:
    return frozenset(token.strip().lower() for token in value.split(",") if token.strip())


def _unavailable(request: Request, name: str, why: str) -> JSONResponse:
    response = problem(503, "upstream_unavailable", "Service unavailable", f"{name} {why}; try again", request)
    response.headers["Retry-After"] = "5"
    return response


async def _upstream_health(client: httpx.AsyncClient, base: str) -> str:
    try:
        answer = await client.get(base + "/health", timeout=2.0)
    except httpx.HTTPError:
        return "down"
    return "ok" if answer.status_code == 200 else f"unhealthy ({answer.status_code})"


def default_upstreams(env: Mapping[str, str]) -> dict[str, str]:
    from deploy.local import SERVICES  # the ports `make run` gives the APIs

    return {s: f"http://127.0.0.1:{env.get(f'{s.upper()}_PORT', port)}" for s, port in SERVICES.items()}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.gateway", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GATEWAY_PORT", DEFAULT_PORT)))
    parser.add_argument("--upstream", action="append", default=[], help="NAME=URL (default: the make run ports)")
    args = parser.parse_args()
    upstreams = dict(u.split("=", 1) for u in args.upstream) or default_upstreams(os.environ)
    read_seconds = float(os.environ.get("GATEWAY_READ_TIMEOUT_SECONDS", DEFAULT_READ_SECONDS))
    app = create_app(upstreams, read_seconds=read_seconds)
    # proxy_headers off: the gateway is the edge, the peer's address is the client's
    uvicorn.run(app, host=args.host, port=args.port, http=HTTP_PROTOCOL, proxy_headers=False, log_level="warning")


if __name__ == "__main__":
    main()
