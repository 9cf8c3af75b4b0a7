"""HTTP throughput of the KYC API against a bare FastAPI endpoint in the same run: wrk -t2 -c64 on GET by id, a
list of 20 and POST, for API_WORKERS=1 and 2, each server a uvicorn process of its own on PostgreSQL.

Figures on a busy machine are noisy: compare the ratios to the bare endpoint measured in the same run."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import psutil
from fastapi import FastAPI
from pydantic import BaseModel

from libs.common import migrations
from libs.common.auth import issue_token
from libs.common.devservers import free_port
from libs.common.settings import ServiceSettings
from tests.support import servers

ROOT = Path(__file__).resolve().parents[1]
DATABASE = "assay_http_kyc"
JWT_SECRET = "bench-http-secret-0123456789-0123456789"
ORG = "org-bench-http"
SEED_ACTORS = 300

# --- the bare endpoint: a pydantic response, no auth, no database -------------------------------------------------


class ItemRead(BaseModel):
    id: UUID
    name: str
    country: str
    minerals: list[str]
    created_at: datetime


def bare_app() -> FastAPI:
    """`uvicorn bench.http:bare_app --factory`: what FastAPI costs before any of our code runs."""
    app = FastAPI()
    created = datetime(2026, 1, 1, tzinfo=UTC)

    @app.get("/items/{item_id}")
    async def read_item(item_id: UUID) -> ItemRead:
        return ItemRead(
            id=item_id, name="Comptoir Minier du Kivu SARL", country="CD", minerals=["2609", "7108"], created_at=created
        )

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


# --- wrk ----------------------------------------------------------------------------------------------------------

DONE = """
function done(summary, latency, requests)
  io.write(string.format('WRK_JSON {"requests": %d, "duration_us": %d, "status_errors": %d, "connect": %d, ' ..
    '"read": %d, "write": %d, "timeout": %d, "p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, latency:percentile(50), latency:percentile(99)))
end
"""

# Each wrk thread has its own Lua state: setup() numbers them, so POST bodies are distinct across threads too.
THREADS = """
local counter = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
"""


def bearer(token: str | None) -> str:
    return f'wrk.headers["Authorization"] = "Bearer {token}"\n' if token else ""


def get_script(path: str, token: str | None) -> str:
    return f'wrk.method = "GET"\nwrk.path = "{path}"\n{bearer(token)}{DONE}'


def get_by_id_script(prefix: str, ids: list[str], token: str) -> str:
    listed = ",".join(f'"{i}"' for i in ids)
    return (
        f"{bearer(token)}local ids = {{{listed}}}\nlocal i = 0\n"
        f'function request()\n  i = i % #ids + 1\n  return wrk.format("GET", "{prefix}" .. ids[i])\nend\n{DONE}'
    )


def post_script(path: str, token: str, run: str) -> str:
    return (
        f'{bearer(token)}wrk.headers["Content-Type"] = "application/json"\n{THREADS}'
        f"function request()\n  counter = counter + 1\n"
        f'  local body = string.format(\'{{"actor_type": "trader", "legal_name": "Bench {run} %d-%d SARL", '
        f'"country": "CD", "minerals": ["2609"]}}\', tid or 0, counter)\n'
        f'  return wrk.format("POST", "{path}", nil, body)\nend\n{DONE}'
    )


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int  # wrk counts answers with a status of 400 or more
    socket_errors: int
    rss_mb: float
    cpu_us: float  # CPU time of the server's processes per request: what a busy machine distorts least
    db_cpu_us: float  # CPU time of this database's PostgreSQL backends per request


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk (apt-get install -y wrk) ...", flush=True)
        if subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True, check=False).returncode != 0:
            subprocess.run(["apt-get", "update"], capture_output=True, check=False)
            subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True, check=False)
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is needed: `sudo apt-get install -y wrk` (Debian/Ubuntu) or `brew install wrk`")
    return found


def run_wrk(wrk: str, url: str, script: str, folder: Path, *, seconds: float, connections: int) -> dict:
    path = folder / f"script-{uuid4().hex[:8]}.lua"
    path.write_text(script)
    out = subprocess.run(
        [wrk, "-t2", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s", "-s", str(path), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next((line for line in out.splitlines() if line.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    return json.loads(line.removeprefix("WRK_JSON "))


def py_spy() -> str:
    """py-spy (the bench extra) records where the API spends its time: `pip install py-spy` to use --py-spy."""
    beside = Path(sys.executable).parent / "py-spy"
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if found is None:
        raise SystemExit("--py-spy needs py-spy: pip install py-spy")
    return found


def tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def backends(database: str = DATABASE) -> list[psutil.Process]:
    """The PostgreSQL backends serving the bench database (their titles name it)."""
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        if process.info["name"] == "postgres" and database in " ".join(process.info["cmdline"] or ()):
            found.append(process)
    return found


def tree_rss_mb(pid: int) -> float:
    """RSS of a server and its worker processes (uvicorn --workers forks them)."""
    try:
        root = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]) / 2**20
    except psutil.NoSuchProcess:
        return float("nan")


# --- servers ------------------------------------------------------------------------------------------------------


class Server:
    def __init__(self, name: str, cmd: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self.name, self.cmd, self.env, self.port, self.log = name, cmd, env, port, log
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                self.cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log}")
            try:
                with urllib.request.urlopen(f"{self.base}/health", timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()  # `with` calls __exit__ only once __enter__ returned
        raise RuntimeError(f"{self.name} did not answer /health within 60 s; see {self.log}")

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def bare_server(port: int, workers: int, folder: Path) -> Server:
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.http:bare_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    return Server("bare", cmd, dict(os.environ), port, folder / f"bare-{workers}.log")


def service_server(
    service: str, port: int, workers: int, url: str, folder: Path, *, secret: str = JWT_SECRET, **extra: str
) -> Server:
    """`python -m services.<service> api` as the platform runs it, on `url`, with no broker (the API only writes
    its outbox); `extra` adds settings."""
    prefix = service.upper() + "_"
    env = {k: v for k, v in os.environ.items() if not k.startswith((prefix, "S3_", "JWT_"))}
    env.update(
        {f"{prefix}DATABASE_URL": url},
        JWT_SECRET=secret,
        API_WORKERS=str(workers),
        LOG_LEVEL="WARNING",
        STORAGE_DIR=str(folder / "objects"),
        KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1",
        **extra,
    )
    cmd = [sys.executable, "-m", f"services.{service}", "api", "--port", str(port)]
    return Server(service, cmd, env, port, folder / f"{service}-{workers}.log")


def kyc_server(port: int, workers: int, url: str, folder: Path) -> Server:
    return service_server("kyc", port, workers, url, folder)


def migrated_database(service: str, name: str) -> str:
    """A fresh database `name` on the tests' PostgreSQL with `service`'s migrations applied; its URL."""
    admin_url, _ = servers.find_postgres()
    if admin_url is None:
        raise SystemExit("this benchmark needs PostgreSQL (TEST_DATABASE_URL or 127.0.0.1:5432)")
    asyncio.run(servers.create_databases(admin_url, [name]))
    url = servers.with_database(admin_url, name)
    migrations.upgrade(service, url)
    return url


def fresh_database() -> str:
    return migrated_database("kyc", DATABASE)


def token() -> str:
    settings = ServiceSettings(jwt_secret=JWT_SECRET)
    return issue_token(settings, user_id="bench", org_id=ORG, org_kind="operator", roles=["admin"])


async def seed(base: str, bearer_token: str, count: int) -> list[str]:
    """`count` actors registered through the API, a few at a time; their ids."""
    headers = {"Authorization": f"Bearer {bearer_token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        semaphore = asyncio.Semaphore(8)

        async def one(n: int) -> str:
            body = {
                "actor_type": "trader",
                "legal_name": f"Comptoir Minier {n:04d} SARL",
                "country": "CD",
                "region": "CD-NK",
                "minerals": ["2609"],
                "registration_number": f"CD/GOM/RCCM/{n}",
            }
            async with semaphore:
                response = await client.post("/actors", json=body)
            response.raise_for_status()
            return response.json()["id"]

        return await asyncio.gather(*(one(n) for n in range(count)))


# --- the run ------------------------------------------------------------------------------------------------------


def measure(
    wrk: str,
    name: str,
    server: Server,
    url: str,
    script: str | Callable[[], str],
    folder: Path,
    args: argparse.Namespace,
    profile: Path | None,
    *,
    database: str = DATABASE,
) -> Result:
    """A warm-up run, then the measured one; `script` may be a function giving a fresh script for each run (bodies
    that must be unique across both, e.g. tags)."""

    def fresh() -> str:
        return script() if callable(script) else script

    run_wrk(wrk, url, fresh(), folder, seconds=args.warmup, connections=args.connections)
    spy = None
    assert server.process is not None
    if profile is not None:
        spy = subprocess.Popen(
            [
                py_spy(),
                "record",
                "--format",
                "raw",
                "--nonblocking",
                "-r",
                "200",
                "-d",
                str(int(args.seconds)),
                "-o",
                str(profile / (re.sub(r"\W+", "_", name) + ".txt")),
                "--subprocesses",
                "-p",
                str(server.process.pid),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    server_processes, database_processes = tree(server.process.pid), backends(database)
    cpu_before, db_before = cpu_seconds(server_processes), cpu_seconds(database_processes)
    figures = run_wrk(wrk, url, fresh(), folder, seconds=args.seconds, connections=args.connections)
    cpu, db_cpu = cpu_seconds(server_processes) - cpu_before, cpu_seconds(database_processes) - db_before
    if spy is not None:
        spy.wait()
    rps = figures["requests"] / (figures["duration_us"] / 1e6)
    sockets = sum(figures[k] for k in ("connect", "read", "write", "timeout"))
    rss = tree_rss_mb(server.process.pid)
    count = max(1, figures["requests"])
    return Result(
        name,
        rps,
        figures["p50_us"] / 1000,
        figures["p99_us"] / 1000,
        figures["status_errors"],
        sockets,
        rss,
        1e6 * cpu / count,
        1e6 * db_cpu / count,
    )


def run_for(workers: int, wrk: str, folder: Path, args: argparse.Namespace) -> list[Result]:
    profile = None
    if args.py_spy:
        profile = Path(args.py_spy) / f"workers-{workers}"
        profile.mkdir(parents=True, exist_ok=True)
    results = []
    port = free_port()
    with bare_server(port, workers, folder) as bare:
        path = f"/items/{uuid4()}"
        results.append(
            measure(wrk, "bare GET /items/{id}", bare, bare.base + path, get_script(path, None), folder, args, None)
        )
    url = fresh_database()
    bearer_token = token()
    with kyc_server(free_port(), workers, url, folder) as kyc:
        ids = asyncio.run(seed(kyc.base, bearer_token, args.seed))
        cases = [
            ("GET /actors/{id}", kyc.base + "/actors/" + ids[0], get_by_id_script("/actors/", ids, bearer_token)),
            ("GET /actors?limit=20", kyc.base + "/actors?limit=20", get_script("/actors?limit=20", bearer_token)),
            ("POST /actors", kyc.base + "/actors", post_script("/actors", bearer_token, uuid4().hex[:6])),
        ]
        for name, target, script in cases:
            if args.only and not any(part in name for part in args.only.split(",")):
                continue
            results.append(measure(wrk, name, kyc, target, script, folder, args, profile))
    return results


def table(workers: int, results: list[Result]) -> str:
    bare = results[0].rps
    width = max(22, *(len(r.name) for r in results))
    header = (
        f"  {'endpoint':<{width}} {'rps':>8} {'× bare':>7} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} "
        f"{'sock err':>8} {'RSS MB':>7} {'CPU µs/req':>10} {'db µs/req':>9}"
    )
    lines = [f"API_WORKERS={workers}", header]
    for r in results:
        lines.append(
            f"  {r.name:<{width}} {r.rps:8.0f} {r.rps / bare:7.2f} {r.p50_ms:8.1f} {r.p99_ms:8.1f} "
            f"{r.non_2xx:8d} {r.socket_errors:8d} {r.rss_mb:7.0f} {r.cpu_us:10.0f} {r.db_cpu_us:9.0f}"
        )
    return "\n".join(lines)


def wrk_arguments(parser: argparse.ArgumentParser) -> None:
    """--seconds, --warmup and --connections, as every wrk benchmark takes them (wrk wants whole seconds)."""
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per endpoint")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured wrk run before each measurement")
    parser.add_argument("--connections", type=int, default=64)


def announce(args: argparse.Namespace) -> None:
    print(
        f"wrk -t2 -c{args.connections} -d{args.seconds:g}s per endpoint; load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores (figures on a busy machine are noisy; compare the ratios to the bare endpoint)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.http", description=__doc__)
    parser.add_argument("--workers", default="1,2", help="API_WORKERS values to measure, comma-separated")
    wrk_arguments(parser)
    parser.add_argument("--seed", type=int, default=SEED_ACTORS, help="actors registered before measuring")
    parser.add_argument("--only", help="measure only the endpoints whose name contains one of these, e.g. '{id}'")
    parser.add_argument("--py-spy", metavar="DIR", help="also record py-spy profiles of the KYC API into DIR")
    args = parser.parse_args()
    wrk = ensure_wrk()
    announce(args)
    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        folder = Path(tmp)
        for workers in (int(w) for w in args.workers.split(",")):
            print(table(workers, run_for(workers, wrk, folder, args)), flush=True)
    admin_url, _ = servers.find_postgres()
    if admin_url is not None:
        asyncio.run(servers.drop_databases(admin_url, [DATABASE]))


if __name__ == "__main__":
    main()
