"""docker-compose's reverse proxy (deploy/nginx/nginx.conf) loaded by a real nginx: the file docker-compose mounts,
rendered for this machine (the upstream servers on loopback ports, the listen address, the paths docker-compose
mounts in a temporary folder), checked with `nginx -t`, then run in front of the four services' APIs served by real
uvicorn servers. Runs as any user: pid, logs and temporary files stay in the folder. Skipped where no nginx is
installed (failed under CI, whose machines have Debian's)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from deploy import docs_pages
from libs.common.devservers import free_port
from tests.common.test_docs_browser import browser, rendered_dom, serving
from tests.test_gateway import SERVICES, Upstream, from_address

pytestmark = pytest.mark.timeout(180)
ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
PROXY = COMPOSE["services"]["proxy"]
CONTAINER_CONF = "/etc/nginx/nginx.conf"
CONTAINER_HTML = "/usr/share/nginx/html"
UPSTREAM = re.compile(r"(upstream (\w+) \{[^}]*?)server ([\w.-]+):(\d+)[^;]*;")
START_SECONDS = 10.0


def nginx_binary() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
    if found:
        return found
    message = "no nginx binary found (apt-get install nginx-light): the proxy of docker-compose is not run here"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true: {message}")
    print(f"\nNOTICE: {message}", file=sys.stderr)
    pytest.skip(message)


def mounts() -> dict[str, Path]:
    """What docker-compose mounts into the proxy: container path -> file or folder of this checkout."""
    found = {}
    for volume in PROXY["volumes"]:
        source, target, *_ = volume.split(":")
        found[target] = (ROOT / source).resolve()
    return found


def mime_types(binary: str) -> Path | None:
    """The mime.types next to this nginx's own configuration (Debian: /etc/nginx), as the image has it."""
    built = subprocess.run([binary, "-V"], capture_output=True, text=True, check=True).stderr
    conf = re.search(r"--conf-path=(\S+)", built)
    candidate = Path(conf.group(1)).parent / "mime.types" if conf else Path("/etc/nginx/mime.types")
    return candidate if candidate.exists() else None


def compose_upstreams(text: str) -> dict[str, tuple[str, int]]:
    return {m.group(2): (m.group(3), int(m.group(4))) for m in UPSTREAM.finditer(text)}


def render(text: str, *, upstreams: Mapping[str, str | list[str]], port: int, html: Path, mime: Path | None) -> str:
    """The compose file for this machine. `upstreams`: host:port of each upstream block by its name (several: the
    replicas Docker's DNS names); each of the file's upstreams must be given. Everything else stays as written."""
    assert set(compose_upstreams(text)) == set(upstreams), "each upstream of the file needs a local address"

    def servers(match: re.Match[str]) -> str:  # (`resolve`: Docker's DNS, for names; these are addresses)
        addresses = upstreams[match.group(2)]
        return match.group(1) + " ".join(
            f"server {a};" for a in ([addresses] if isinstance(addresses, str) else addresses)
        )

    text = UPSTREAM.sub(servers, text)
    for written, local in (
        ("listen 8000;", f"listen 127.0.0.1:{port};"),
        (f"root {CONTAINER_HTML};", f"root {html};"),
        ("include /etc/nginx/mime.types;", f"include {mime};" if mime else "types { text/html html; }"),
        # The packaged paths (/var/lib/nginx, /var/log/nginx) are root's: everything in the prefix folder instead.
        ("http {", "http {\n" + "".join(f"    {kind}_temp_path temp/{kind};\n" for kind in TEMP_PATHS)),
    ):
        assert written in text, f"deploy/nginx/nginx.conf no longer has {written!r}: update this rendering"
        text = text.replace(written, local)
    return text


TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


class Nginx:
    """The compose configuration, rendered into a folder of its own, checked and run by the nginx binary."""

    def __init__(self, binary: str, folder: Path, upstreams: Mapping[str, str | list[str]]) -> None:
        self.binary, self.folder, self.port = binary, folder, free_port()
        html = folder / "html"
        conf = ""
        for target, source in sorted(mounts().items()):
            if target == CONTAINER_CONF:
                conf = source.read_text()
            elif target == CONTAINER_HTML:
                shutil.copytree(source, html, dirs_exist_ok=True)
            elif target.startswith(CONTAINER_HTML + "/"):
                html.mkdir(exist_ok=True)
                shutil.copy(source, html / target.removeprefix(CONTAINER_HTML + "/"))
        assert conf, f"docker-compose mounts no {CONTAINER_CONF} into the proxy"
        (folder / "temp").mkdir()
        # Workers of an nginx started by root run as `nobody`: they must read the pages (tempfile folders are 0700).
        for path in (folder, html, *html.iterdir()):
            path.chmod(0o755 if path.is_dir() else 0o644)
        self.conf = folder / "nginx.conf"
        self.conf.write_text(render(conf, upstreams=upstreams, port=self.port, html=html, mime=mime_types(binary)))
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: asyncio.subprocess.Process | None = None

    def command(self, *extra: str) -> list[str]:
        pid_and_log = f"pid {self.folder / 'nginx.pid'}; error_log {self.folder / 'error.log'} notice;"
        return [self.binary, "-c", str(self.conf), "-p", f"{self.folder}/", "-e", str(self.folder / "error.log"),
                "-g", f"daemon off; {pid_and_log}", *extra]  # fmt: skip

    def test(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command("-t"), capture_output=True, text=True, timeout=30)

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self.command(), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
        )
        deadline = asyncio.get_running_loop().time() + START_SECONDS
        while not answers(self.port):
            if self.process.returncode is not None or asyncio.get_running_loop().time() > deadline:
                await self.stop()
                pytest.fail(f"nginx did not start: {self.log()}")
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGQUIT)  # graceful: the master waits for its workers
        try:
            await asyncio.wait_for(self.process.wait(), 15)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    def log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text() if path.exists() else ""


def answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def folder() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="assay-nginx-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def hostport(url: str | list[str]) -> str | list[str]:
    return url.removeprefix("http://") if isinstance(url, str) else [u.removeprefix("http://") for u in url]


@asynccontextmanager
async def proxy(folder: Path, bases: Mapping[str, str | list[str]]) -> AsyncIterator[Nginx]:
    nginx = Nginx(nginx_binary(), folder, {name: hostport(url) for name, url in bases.items()})
    await nginx.start()
    try:
        yield nginx
    finally:
        await nginx.stop()


@pytest.fixture
async def platform(stack: Any, folder: Path) -> AsyncIterator[dict[str, Any]]:
    """The four services' apps on real uvicorn servers, nginx in front of them as docker-compose runs it."""
    async with AsyncExitStack() as running:
        limited = {"incidents": {"incidents_public_rate_per_minute": 2}}
        bases = {s: await running.enter_async_context(serving(stack.app(s, **limited.get(s, {})))) for s in SERVICES}
        nginx = await running.enter_async_context(proxy(folder, bases))
        yield {"entry": nginx.base, "nginx": nginx, "token": stack.token()}


def test_the_compose_configuration_passes_nginx_t(folder: Path) -> None:
    upstreams = {
        name: f"127.0.0.1:{free_port()}" for name in compose_upstreams((ROOT / "deploy/nginx/nginx.conf").read_text())
    }
    nginx = Nginx(nginx_binary(), folder, upstreams)

    checked = nginx.test()

    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr and "test is successful" in checked.stderr
    assert "[warn]" not in checked.stderr and "[emerg]" not in checked.stderr, checked.stderr
    assert set(upstreams) == set(SERVICES)


async def test_each_prefix_reaches_its_service_through_nginx_with_the_callers_token(platform: dict[str, Any]) -> None:
    token = platform["token"]
    async with from_address("127.0.0.1", base_url=platform["entry"]) as client:
        health = {s: await client.get(f"/{s}/health") for s in SERVICES}
        refused = await client.get("/kyc/actors")
        listed = await client.get("/kyc/actors", params={"limit": 5}, headers={"Authorization": f"Bearer {token}"})
        own = await client.get("/health")
        unknown = await client.get("/nowhere/at/all.html")
        posted = [await client.post(page, content=b"{}") for page in ("/", "/docs", "/asyncapi", "/asyncapi.yaml")]
        bare = await client.get("/kyc")

    assert {s: (h.status_code, h.json()["service"]) for s, h in health.items()} == {s: (200, s) for s in SERVICES}
    assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
    assert listed.status_code == 200 and listed.json()["items"] == [], listed.text
    assert own.json() == {"status": "ok"}
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["code"] == "not_found"
    for page in posted:  # the pages are read only
        assert (page.status_code, page.headers["content-type"]) == (405, "application/problem+json"), page.text
        assert page.json()["code"] == "method_not_allowed"
    assert (bare.status_code, bare.headers["location"]) == (301, "/kyc/")  # relative: the client's host and port


async def test_nginx_serves_the_combined_docs_and_the_asyncapi_pages(platform: dict[str, Any]) -> None:
    pages = docs_pages.rendered_for_nginx()
    async with from_address("127.0.0.1", base_url=platform["entry"]) as client:
        root, docs = await client.get("/"), await client.get("/docs")
        asyncapi, raw = await client.get("/asyncapi"), await client.get("/asyncapi.yaml")
        bundle = await client.get("/docs-assets/swagger-ui-bundle.js")
        documents = {s: await client.get(f"/{s}/openapi.json") for s in SERVICES}

    assert root.text == docs.text == pages["index.html"] and docs.headers["content-type"].startswith("text/html")
    assert asyncapi.text == pages["asyncapi.html"] and asyncapi.headers["content-type"].startswith("text/html")
    assert raw.text == docs_pages.ASYNCAPI_YAML.read_text() and raw.headers["content-type"] == "application/yaml"
    assert bundle.status_code == 200 and "javascript" in bundle.headers["content-type"]
    assert all(d.status_code == 200 and d.json()["paths"] for d in documents.values())


async def test_the_docs_page_renders_each_service_through_nginx_in_a_real_browser(platform: dict[str, Any]) -> None:
    dom = await rendered_dom(browser(), platform["entry"] + "/docs")

    assert "Unable to render this definition" not in dom and "Failed to load" not in dom
    assert {"/actors", "/actors/{actor_id}"} <= set(re.findall(r'data-path="([^"]+)"', dom))
    assert all(f'<option value="{s}"' in dom for s in SERVICES)


async def test_a_service_sees_the_client_behind_nginx_and_no_forged_address(platform: dict[str, Any]) -> None:
    """Public incident reports allow 2 requests a minute per client (as the rate limiter counts them)."""
    path, body = "/incidents/public/reports/status", {"token": "no-such-token-" + "0" * 20}

    async def statuses(address: str, *, forged: bool) -> list[int]:
        async with from_address(address, base_url=platform["entry"]) as client:
            headers = {"X-Forwarded-For": "10.0.0.9"} if forged else {}
            return [(await client.post(path, json=body, headers=headers)).status_code for _ in range(3)]

    forged, plain = await statuses("127.0.0.2", forged=True), await statuses("127.0.0.3", forged=False)

    # each client has its own count: the service believes nginx, and nginx replaced the client's own header
    assert forged[:2] == plain[:2] == [404, 404] and forged[2] == plain[2] == 429


async def test_nginx_forwards_the_client_and_the_request_as_sent(stack: Any, folder: Path) -> None:
    echo = Upstream()
    async with AsyncExitStack() as running:
        bases = {s: await running.enter_async_context(serving(stack.app(s))) for s in SERVICES}
        bases["scoring"] = await running.enter_async_context(serving(echo))  # type: ignore[arg-type]
        bases["incidents"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        nginx = await running.enter_async_context(proxy(folder, bases))
        async with from_address("127.0.0.5", base_url=nginx.base) as client:
            sent = await client.post(
                "/scoring/some/path",
                params={"a": "1", "b": "two words"},
                content=b"{}",
                headers={"Authorization": "Bearer abc", "X-Request-ID": "req-123", "X-Forwarded-For": "6.6.6.6",
                         "X-Forwarded-Proto": "https", "Host": "assay.example"},
            )  # fmt: skip
            down = await client.get("/incidents/some/report.pdf")

    seen = echo.seen[-1]
    assert sent.status_code == 200 and sent.json() == {"received": 2}
    assert seen["path"] == "/some/path" and seen["query"] == b"a=1&b=two+words"  # the prefix stripped
    headers = seen["headers"]
    assert (headers["authorization"], headers["x-request-id"]) == ("Bearer abc", "req-123")
    assert headers["x-forwarded-for"] == "127.0.0.5"  # the peer's address, not what the client claimed
    assert (headers["x-forwarded-proto"], headers["x-forwarded-host"], headers["host"]) == (
        "http",
        "assay.example",
        "assay.example",
    )
    assert down.status_code == 503 and down.headers["content-type"] == "application/problem+json"
    assert down.json()["code"] == "upstream_unavailable" and down.headers["retry-after"] == "5"


async def test_nginx_spreads_requests_over_replicas_and_skips_one_that_refuses(stack: Any, folder: Path) -> None:
    """As traceability's two replicas behind one name in docker-compose: here two addresses in the upstream."""
    first, second = Upstream(), Upstream()
    async with AsyncExitStack() as running:
        bases: dict[str, str | list[str]] = {
            s: await running.enter_async_context(serving(stack.app(s))) for s in SERVICES
        }
        live = bases["traceability"]
        bases["traceability"] = [str(live), f"http://127.0.0.1:{free_port()}"]  # one replica down
        bases["scoring"] = [await running.enter_async_context(serving(u)) for u in (first, second)]  # type: ignore[arg-type]
        nginx = await running.enter_async_context(proxy(folder, bases))
        async with from_address("127.0.0.1", base_url=nginx.base) as client:
            traced = [(await client.get("/traceability/health")).status_code for _ in range(6)]
            spread = [(await client.get(f"/scoring/n/{n}")).status_code for n in range(6)]

    assert traced == [200] * 6  # the refusing replica is skipped (proxy_next_upstream), no 503 reaches the client
    assert spread == [200] * 6 and len(first.seen) == len(second.seen) == 3  # round robin over the two


def raw_request(port: int, head: str) -> tuple[int, dict[str, str], bytes]:
    """A request whose head says a large body is coming, sent without the body: what answers before it is read."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode())
        data = b""
        while b"\r\n\r\n" not in data or not _complete(data):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head_part, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head_part.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def _complete(data: bytes) -> bool:
    head, _, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?i)content-length:\s*(\d+)", head)
    return length is not None and len(body) >= int(length.group(1))


async def test_a_body_over_the_proxys_limit_is_refused_by_nginx_and_a_smaller_one_by_the_service(
    platform: dict[str, Any],
) -> None:
    nginx: Nginx = platform["nginx"]
    limit = int(re.search(r"client_max_body_size (\d+)m;", nginx.conf.read_text()).group(1)) * 1024 * 1024  # type: ignore[union-attr]
    auth = f"Authorization: Bearer {platform['token']}\r\n"

    def post(path: str, length: int) -> tuple[int, dict[str, str], bytes]:
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\n"
        head += f"Content-Length: {length}\r\n\r\n"
        return raw_request(nginx.port, head)

    over = await asyncio.to_thread(post, "/kyc/actors", limit + 1)
    service = await asyncio.to_thread(post, "/kyc/actors", 11 * 1024 * 1024)  # over the service's 10 MiB default

    for status, headers, body in (over, service):
        assert status == 413 and headers["content-type"] == "application/problem+json", (status, headers, body)
    assert json.loads(over[2])["code"] == json.loads(service[2])["code"] == "body_too_large"
    assert json.loads(over[2])["limit"] == limit  # nginx's answer names its own limit
    assert json.loads(service[2])["limit"] == 10 * 1024 * 1024  # the service's own answer, with its limit


async def test_what_nginx_refuses_while_reading_a_request_is_a_problem_not_an_html_page(
    platform: dict[str, Any],
) -> None:
    """A malformed request line, a path over large_client_header_buffers and a header line over it are refused by
    nginx itself, before any service sees them: each answers problem+json with a stable code."""
    nginx: Nginx = platform["nginx"]
    cases = {
        "bad_request": (400, "GET /kyc/actors HTTP/1.1\r\nHost: x\r\nBroken header line\r\n\r\n"),
        "uri_too_long": (414, f"GET /kyc/actors?q={'a' * 9000} HTTP/1.1\r\nHost: x\r\n\r\n"),
        "headers_too_large": (431, f"GET /kyc/actors HTTP/1.1\r\nHost: x\r\nX-Big: {'b' * 9000}\r\n\r\n"),
    }
    for code, (status, head) in cases.items():
        got, headers, body = await asyncio.to_thread(raw_request, nginx.port, head)
        assert got == status and headers["content-type"] == "application/problem+json", (code, got, headers, body)
        problem = json.loads(body)
        assert problem["code"] == code and problem["status"] == status, problem
    async with httpx.AsyncClient(base_url=platform["entry"]) as client:
        inside = await client.get("/.problem/uri_too_long")  # the page behind the 414 is not reachable from outside
    assert inside.status_code == 404 and inside.headers["content-type"] == "application/problem+json", inside.text
