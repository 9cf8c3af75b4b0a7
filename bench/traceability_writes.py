"""Custody writes per second through the traceability API: confirmed transfers (initiate + confirm) and
transformations (a split, then a merge of its two halves back into one lot) over HTTP, uvicorn on PostgreSQL, at
16 and 64 concurrent clients, and field devices' batches from `--batch-clients` concurrent devices, each with
`--batch-size` / 2 lots, in a cycle of three batches: transfer + confirm of each lot, a split of each, a merge of
each lot's halves (one custody event per item); a bare FastAPI endpoint measured by the same client
in the same run as a baseline.

Each client owns one lot and loops: transfer A→B, confirm, transfer B→A, confirm, split, merge (six writes). The
client is Python (httpx) on the same 2-core machine as the server and PostgreSQL, so figures are a floor; compare
the ratio to the bare endpoint. All writes are of one organisation: its custody log is one hash chain, appended
under one row lock, which is the serial part. `--py-spy DIR` records the API's stacks; `--seconds`, `--clients`,
`--workers` change the run. Target (issue 12): >= 500 writes/s."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx

from bench.http import Server, bare_server, cpu_seconds, py_spy, tree
from bench.support import percentile
from libs.common import migrations
from libs.common.auth import issue_token
from libs.common.db import make_engine, make_sessions
from libs.common.devservers import free_port
from libs.common.events.kyc import ActorApproved, ActorState, MineSiteRegistered, MineSiteState
from libs.common.settings import ServiceSettings
from services.traceability import handlers
from tests.support import servers

ORG = "org-bench-writes"
DATABASE = "assay_bench_traceability_writes"
JWT_SECRET = "bench-writes-secret-0123456789-0123456789"


@dataclass
class Figures:
    name: str
    clients: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    cpu_us: float = 0.0  # API CPU per request, or per custody event for batches
    events: int = 0  # custody events written (batches); a single write is one

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def event_rate(self) -> float:
        return (self.events or len(self.latencies)) / self.seconds if self.seconds else 0.0


async def seed_read_models(url: str, *, actors: int, site_id: UUID) -> list[UUID]:
    """Approved actors and one site, as KYC's events would land them (through our handlers)."""
    engine = make_engine(url)
    sessions = make_sessions(engine)
    ids = [uuid4() for _ in range(actors)]
    async with sessions() as db, db.begin():
        site = MineSiteState(site_id=site_id, org_id=ORG, name="Bench site", country="CD", minerals=["tin"],
                             capacity_kg_per_month=None, status="green",
                             status_since_date=date(2026, 1, 1))  # fmt: skip
        await handlers.HANDLERS[MineSiteRegistered](
            db, MineSiteRegistered(org_id=ORG, site_id=site_id, aggregate_version=1, site=site)
        )
        for actor_id in ids:
            state = ActorState(actor_id=actor_id, org_id=ORG, actor_type="trader", legal_name=f"T {actor_id.hex[:6]}",
                               country="CD", kyc_status="approved")  # fmt: skip
            event = ActorApproved(org_id=ORG, actor_id=actor_id, aggregate_version=3, actor=state, approved_by="b")
            await handlers.HANDLERS[ActorApproved](db, event)
    await engine.dispose()
    return ids


def api_server(port: int, url: str, workers: int, folder: Path) -> Server:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEABILITY_", "JWT_"))}
    env.update(
        TRACEABILITY_DATABASE_URL=url,
        JWT_SECRET=JWT_SECRET,
        API_WORKERS=str(workers),
        LOG_LEVEL="WARNING",
        KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1",  # the API only writes the outbox; no relay runs here
        TRACEABILITY_PROOF_SIGNING_KEY="11" * 32,
    )
    cmd = [sys.executable, "-m", "services.traceability", "api", "--port", str(port)]
    return Server("traceability", cmd, env, port, folder / "traceability.log")


async def make_lots(client: httpx.AsyncClient, site_id: UUID, producer: UUID, count: int, run: str) -> list[str]:
    block = {"prefix": f"W{run}-", "first": 1, "count": count, "site_id": str(site_id)}
    (await client.post("/tag-blocks", json=block)).raise_for_status()
    items = [
        {"action": "create_lot", "idempotency_key": f"{run}-{n}", "tag": f"W{run}-{n}", "mineral": "tin",
         "form": "ore", "mass": 100, "unit": "KGM", "site_id": str(site_id), "producer_actor_id": str(producer)}
        for n in range(1, count + 1)
    ]  # fmt: skip
    lots = []
    for start in range(0, len(items), 100):
        response = await client.post("/custody/batches", json={"items": items[start : start + 100]}, timeout=300)
        response.raise_for_status()
        answers = response.json()["items"]
        if any(item["status"] != 201 for item in answers):
            raise RuntimeError(f"lot creation refused: {answers}")
        lots += [item["result"]["lot_id"] for item in answers]
    return lots


async def custody_loop(client: httpx.AsyncClient, lot: str, a: UUID, b: UUID, stop: float, figures: Figures) -> None:
    async def write(path: str, body: dict, expect: int) -> dict | None:
        start = time.perf_counter()
        try:
            response = await client.post(path, json=body)
        except httpx.HTTPError:
            figures.errors += 1
            return None
        if response.status_code != expect:
            figures.errors += 1
            return None
        figures.latencies.append(time.perf_counter() - start)
        return response.json()

    holder, other = a, b
    while time.perf_counter() < stop:
        for _ in range(2):
            sent = {"from_actor_id": str(holder), "to_actor_id": str(other)}
            if await write(f"/lots/{lot}/transfers", sent, 201) is None:
                return
            got = {"actor_id": str(other), "mass": 100, "unit": "KGM"}
            if await write(f"/lots/{lot}/transfers/confirm", got, 200) is None:
                return
            holder, other = other, holder
        split = {"kind": "split", "actor_id": str(holder), "input_lot_ids": [lot],
                 "outputs": [{"mass": 50, "unit": "KGM"}, {"mass": 50, "unit": "KGM"}]}  # fmt: skip
        halves = await write("/transformations", split, 201)
        if halves is None:
            return
        merge = {"kind": "merge", "actor_id": str(holder), "input_lot_ids": halves["output_lot_ids"],
                 "outputs": [{"mass": 100, "unit": "KGM"}]}  # fmt: skip
        merged = await write("/transformations", merge, 201)
        if merged is None:
            return
        lot = merged["output_lot_ids"][0]


async def bare_loop(client: httpx.AsyncClient, stop: float, figures: Figures) -> None:
    path = f"/items/{uuid4()}"
    while time.perf_counter() < stop:
        start = time.perf_counter()
        try:
            response = await client.get(path)
        except httpx.HTTPError:
            figures.errors += 1
            continue
        if response.status_code != 200:
            figures.errors += 1
            continue
        figures.latencies.append(time.perf_counter() - start)


async def batch_loop(
    client: httpx.AsyncClient, lots: list[str], a: UUID, b: UUID, stop: float, figures: Figures, run: str
) -> None:
    """A device syncing, in a cycle of three batches: each of its lots transferred to the other actor and
    confirmed there (two custody events per lot); each lot split in two halves there (one transformation per
    lot); the halves of each merged back into one lot (one per lot), which the next cycle sends back."""
    holder, other, n, phase = a, b, 0, 0
    halves: list[list[str]] = []
    while time.perf_counter() < stop:
        items: list[dict[str, Any]] = []
        if phase == 0:
            for lot in lots:
                items.append({"action": "transfer", "idempotency_key": f"{run}-{n}", "lot_id": lot,
                              "from_actor_id": str(holder), "to_actor_id": str(other)})  # fmt: skip
                items.append({"action": "confirm", "idempotency_key": f"{run}-{n + 1}", "lot_id": lot,
                              "actor_id": str(other), "mass": 100, "unit": "KGM"})  # fmt: skip
                n += 2
        elif phase == 1:
            for lot in lots:
                items.append({"action": "transform", "idempotency_key": f"{run}-{n}", "kind": "split",
                              "actor_id": str(other), "input_lot_ids": [lot],
                              "outputs": [{"mass": 50, "unit": "KGM"}, {"mass": 50, "unit": "KGM"}]})  # fmt: skip
                n += 1
        else:
            for pair in halves:
                items.append({"action": "transform", "idempotency_key": f"{run}-{n}", "kind": "merge",
                              "actor_id": str(other), "input_lot_ids": pair,
                              "outputs": [{"mass": 100, "unit": "KGM"}]})  # fmt: skip
                n += 1
        start = time.perf_counter()
        try:
            response = await client.post("/custody/batches", json={"items": items})
        except httpx.HTTPError:
            figures.errors += 1
            return
        answers = response.json()["items"] if response.status_code == 200 else []
        applied = sum(1 for item in answers if item["status"] == 201 and not item["replayed"])
        if response.status_code != 200 or applied != len(items):
            figures.errors += 1
            return
        figures.latencies.append(time.perf_counter() - start)
        figures.events += applied
        if phase == 1:
            halves = [item["result"]["output_lot_ids"] for item in answers]
        elif phase == 2:
            lots = [item["result"]["output_lot_ids"][0] for item in answers]
            holder, other = other, holder
        phase = (phase + 1) % 3


async def run_batches(
    server: Server, token: str, site_id: UUID, actors: list[UUID], clients: int, size: int, seconds: float,
    spy_dir: str | None,
) -> Figures:  # fmt: skip
    figures = Figures(f"batches {size}/{size // 2}/{size // 2}", clients)
    headers = {"Authorization": f"Bearer {token}"}
    run = uuid4().hex[:6]
    async with httpx.AsyncClient(base_url=server.base, headers=headers, limits=limits(clients), timeout=60) as client:
        per_client = size // 2
        lots = await make_lots(client, site_id, actors[0], clients * per_client, run)
        groups = [lots[n * per_client : (n + 1) * per_client] for n in range(clients)]
        # every client moves its lots between actors[0] and its own second actor
        partners = [actors[1 + n % (len(actors) - 1)] for n in range(clients)]
        assert server.process is not None
        processes = tree(server.process.pid)
        spy = _spy(server, spy_dir, f"batches-{clients}.txt", seconds)
        cpu, start = cpu_seconds(processes), time.perf_counter()
        await asyncio.gather(
            *(
                batch_loop(client, group, actors[0], partner, start + seconds, figures, f"{run}-{n}")
                for n, (group, partner) in enumerate(zip(groups, partners, strict=True))
            )
        )
        figures.seconds = time.perf_counter() - start
        figures.cpu_us = 1e6 * (cpu_seconds(processes) - cpu) / max(1, figures.events)
        if spy is not None:
            spy.wait()
    return figures


def _spy(server: Server, spy_dir: str | None, name: str, seconds: float) -> subprocess.Popen[bytes] | None:
    if not spy_dir:
        return None
    assert server.process is not None
    Path(spy_dir).mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [py_spy(), "record", "--format", "raw", "--nonblocking", "-r", "200", "-d", str(int(seconds)),
         "-o", str(Path(spy_dir) / name), "--subprocesses", "-p", str(server.process.pid)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def limits(clients: int) -> httpx.Limits:
    return httpx.Limits(max_connections=clients, max_keepalive_connections=clients)


async def run_bare(server: Server, clients: int, seconds: float) -> Figures:
    figures = Figures("bare GET /items/{id}", clients)
    async with httpx.AsyncClient(base_url=server.base, limits=limits(clients), timeout=30) as client:
        await asyncio.gather(*(bare_loop(client, time.perf_counter() + 1, Figures("warm", 0)) for _ in range(4)))
        assert server.process is not None
        processes = tree(server.process.pid)
        cpu, start = cpu_seconds(processes), time.perf_counter()
        await asyncio.gather(*(bare_loop(client, start + seconds, figures) for _ in range(clients)))
        figures.seconds = time.perf_counter() - start
        figures.cpu_us = 1e6 * (cpu_seconds(processes) - cpu) / max(1, len(figures.latencies))
    return figures


async def run_writes(
    server: Server, token: str, site_id: UUID, actors: list[UUID], clients: int, seconds: float, spy_dir: str | None
) -> Figures:
    figures = Figures("custody writes", clients)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.base, headers=headers, limits=limits(clients), timeout=30) as client:
        lots = await make_lots(client, site_id, actors[0], clients, uuid4().hex[:6])
        pairs = [(actors[(2 * n) % len(actors)], actors[(2 * n + 1) % len(actors)]) for n in range(clients)]
        # every lot starts with actors[0]: hand each to its pair's first actor (not measured)
        for lot, (a, _) in zip(lots, pairs, strict=True):
            if a != actors[0]:
                sent = {"from_actor_id": str(actors[0]), "to_actor_id": str(a)}
                (await client.post(f"/lots/{lot}/transfers", json=sent)).raise_for_status()
                got = {"actor_id": str(a), "mass": 100, "unit": "KGM"}
                (await client.post(f"/lots/{lot}/transfers/confirm", json=got)).raise_for_status()
        assert server.process is not None
        processes = tree(server.process.pid)
        spy = _spy(server, spy_dir, f"writes-{clients}.txt", seconds)
        cpu, start = cpu_seconds(processes), time.perf_counter()
        await asyncio.gather(
            *(
                custody_loop(client, lot, a, b, start + seconds, figures)
                for lot, (a, b) in zip(lots, pairs, strict=True)
            )
        )
        figures.seconds = time.perf_counter() - start
        figures.cpu_us = 1e6 * (cpu_seconds(processes) - cpu) / max(1, len(figures.latencies))
        if spy is not None:
            spy.wait()
    return figures


def line(f: Figures, bare: Figures) -> str:
    ms = [x * 1000 for x in f.latencies]
    return (
        f"  {f.name:<22} {f.clients:>7} {f.rate:9.1f} {f.event_rate:9.1f} "
        f"{f.event_rate / bare.rate if bare.rate else 0:7.2f} {percentile(ms, 50):8.1f} {percentile(ms, 99):8.1f} "
        f"{f.errors:7d} {f.cpu_us:11.0f} {bare.cpu_us / f.cpu_us if f.cpu_us else 0:7.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_WRITES_SECONDS", "15")))
    parser.add_argument("--clients", default="16,64")
    parser.add_argument("--workers", type=int, default=1, help="API_WORKERS of the traceability API")
    parser.add_argument("--py-spy", default=None, help="folder for py-spy raw stacks of the API")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=50,
        help="items per transfer batch (transfer + confirm per lot; half as many splits, merges)",
    )
    parser.add_argument("--batch-clients", default="4", help="concurrent devices sending batches; empty: none")
    args = parser.parse_args()
    admin_url, _ = servers.find_postgres()
    if admin_url is None:
        print("bench.traceability_writes needs PostgreSQL (TEST_DATABASE_URL or 127.0.0.1:5432)")
        return
    asyncio.run(servers.create_databases(admin_url, [DATABASE]))  # its own: the lineage bench refills its lot table
    url = servers.with_database(admin_url, DATABASE)
    migrations.upgrade("traceability", url)
    site_id = uuid4()
    actors = asyncio.run(seed_read_models(url, actors=8, site_id=site_id))
    token = issue_token(
        ServiceSettings(jwt_secret=JWT_SECRET), user_id="bench", org_id=ORG, org_kind="operator", roles=["admin"]
    )
    header = (
        f"  {'endpoint':<22} {'clients':>7} {'req/s':>9} {'events/s':>9} {'× bare':>7} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'errors':>7} {'CPU µs/ev':>11} {'CPU×bare':>7}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-writes-") as tmp:
        folder = Path(tmp)
        print(f"traceability custody writes, API_WORKERS={args.workers}, {args.seconds:g} s per run", flush=True)
        print(header, flush=True)
        for clients in [int(c) for c in args.clients.split(",") if c]:
            with bare_server(free_port(), args.workers, folder) as bare_app:
                bare = asyncio.run(run_bare(bare_app, clients, args.seconds))
            print(line(bare, bare), flush=True)
            with api_server(free_port(), url, args.workers, folder) as api:
                writes = asyncio.run(run_writes(api, token, site_id, actors, clients, args.seconds, args.py_spy))
            print(line(writes, bare), flush=True)
        for clients in [int(c) for c in args.batch_clients.split(",") if c]:
            with bare_server(free_port(), args.workers, folder) as bare_app:
                bare = asyncio.run(run_bare(bare_app, clients, args.seconds))
            print(line(bare, bare), flush=True)
            with api_server(free_port(), url, args.workers, folder) as api:
                batches = asyncio.run(
                    run_batches(api, token, site_id, actors, clients, args.batch_size, args.seconds, args.py_spy)
                )
            print(line(batches, bare), flush=True)
        print(
            "  (bare: a GET with a pydantic response, no auth or database; writes: transfer, confirm, split, merge,"
            " one per request; batches: transfer + confirm of each lot, then a split of each, then a merge of each's"
            " halves, one custody event per item; p50/p99 per"
            " request; CPU: the API process's per request (bare) or per custody event, CPU×bare = bare's / this)"
        )


if __name__ == "__main__":
    main()
