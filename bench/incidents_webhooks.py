"""Partner webhook fan-out: 100 receivers on loopback, deliveries per minute with Standard Webhooks signing (target
>= 10,000/min), and the extra latency a dead and a slow (10 s) receiver add to the others (target: none).

The receivers run in a child process (raw asyncio HTTP/1.1, keep-alive, answering 200 at once; the slow one answers
after 10 s, the dead one accepts and never answers). This process is the worker: the incidents fan-out handler
inserts the deliveries in one transaction per event (as the consumer does), and the delivery job runs on a 50 ms
tick with the production settings (10 s timeout) apart from the loopback allowance. Latency of a delivery: from
its row's creation to the receiver's 200 being recorded (delivered_at - created_at)."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import psutil
import sqlalchemy as sa

from bench.support import CpuMeter, PostgresBackends, bench_databases, summary_ms
from libs.common import scheduler
from libs.common.db import make_engine, make_sessions
from libs.common.events import incidents as events
from services.incidents.settings import IncidentsSettings
from services.incidents.webhooks import domain
from services.incidents.webhooks.handlers import on_incident_event
from services.incidents.webhooks.jobs import Dispatcher
from services.incidents.webhooks.repository import Deliveries, Subscriptions
from services.incidents.webhooks.tables import WebhookSubscriptionRow

ORG = "org-bench"
RECEIVERS = 100


async def serve(count: int) -> None:
    """`count` receivers on ports the system picks; the last but one is slow (10 s), the last dead (never answers)."""
    slow, dead = count - 2, count - 1

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                if index == dead:
                    await asyncio.sleep(3600)
                if index == slow:
                    await asyncio.sleep(10)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def factory(index: int) -> Any:
        return lambda r, w: handle(r, w, index)

    servers = [await asyncio.start_server(factory(i), "127.0.0.1", 0) for i in range(count)]
    ports = [s.sockets[0].getsockname()[1] for s in servers]
    print("ready " + ",".join(map(str, ports)), flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


def incident_event(incident_id: UUID) -> events.IncidentReported:
    now = datetime.now(UTC)
    state = events.IncidentState(
        incident_id=incident_id,
        org_id=ORG,
        reference="INC-2026-00042",
        category="annex2.forced_labour",
        category_group="annex2_serious_abuse",
        level=1,
        required_response="disengage",
        status="reported",
        title="Forced labour reported at a pit",
        summary="Miners were made to work under guard.",
        source="staff",
        country="CD",
        reported_at=now,
        updated_at=now,
    )
    return events.IncidentReported(org_id=ORG, incident_id=incident_id, aggregate_version=1, incident=state)


def meter(database: str) -> CpuMeter:
    """CPU of this process (the worker) and of its PostgreSQL backends."""
    me = psutil.Process()
    backends = PostgresBackends([database], lambda: {"worker": me})
    # Sampled every 5 s: a scan of the machine's processes runs in this process and would count as the worker's.
    return CpuMeter(lambda: [("worker", me), *backends()], every=5.0).start()


async def run_phase(
    sessions: Any, settings: IncidentsSettings, subs: list[UUID], events_count: int, database: str
) -> dict[str, Any]:
    started = time.perf_counter()
    since = datetime.now(UTC)
    fan_out_cpu = meter(database)
    for _ in range(events_count):
        async with sessions() as db, db.begin():
            await on_incident_event(db, incident_event(uuid4()))
    fan_out = fan_out_cpu.stop()
    delivery_started = time.perf_counter()
    delivery_cpu = meter(database)
    dispatcher = Dispatcher(settings)
    job = scheduler.Job("incidents.webhooks.deliver", timedelta(0), dispatcher.run)
    healthy = subs[:RECEIVERS]
    target = events_count * len(healthy)
    done = 0
    while done < target:
        await scheduler.run_due(sessions, [job], force=True)
        await asyncio.sleep(0.05)
        async with sessions() as db:
            done = (
                await db.execute(
                    sa.select(sa.func.count())
                    .select_from(Deliveries)
                    .where(
                        Deliveries.c.subscription_id.in_(healthy),
                        Deliveries.c.status == "delivered",
                        Deliveries.c.created_at >= since,
                    )
                )
            ).scalar_one()
    elapsed = time.perf_counter() - started
    delivery = delivery_cpu.stop()
    delivery_seconds = time.perf_counter() - delivery_started
    async with sessions() as db:
        rows = (
            await db.execute(
                sa.select(Deliveries.c.created_at, Deliveries.c.delivered_at).where(
                    Deliveries.c.subscription_id.in_(healthy),
                    Deliveries.c.status == "delivered",
                    Deliveries.c.created_at >= since,
                )
            )
        ).all()
    for task in list(dispatcher.tasks):
        task.cancel()
    await asyncio.gather(*dispatcher.tasks, return_exceptions=True)
    if dispatcher.clients is not None:
        await dispatcher.clients.aclose()
    latencies = [(r.delivered_at - r.created_at).total_seconds() for r in rows]
    return {
        "deliveries": target,
        "seconds": elapsed,
        "per_minute": target / elapsed * 60,
        "latency": latencies,
        "fan_out_seconds": delivery_started - started,
        "fan_out_cpu": fan_out,
        "delivery_seconds": delivery_seconds,
        "delivery_cpu": delivery,
    }


def cpu_line(totals: dict[str, float]) -> str:
    worker = totals.get("worker", 0.0)
    postgres = sum(v for k, v in totals.items() if k.startswith("postgres"))
    return f"worker {worker:.2f} s CPU, its PostgreSQL backends {postgres:.2f} s"


async def main(url: str, events_count: int) -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.incidents_webhooks", "--serve", str(RECEIVERS + 2)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    for line in child.stdout:
        if line.startswith("ready "):
            ports = [int(p) for p in line.split()[1].split(",")]
            break
    else:
        raise SystemExit("the receivers did not start")
    slow, dead = ports[-2], ports[-1]
    engine = make_engine(url, pool_size=60)
    sessions = make_sessions(engine)
    settings = IncidentsSettings(
        database_url=url, webhooks_allow_http=True, webhooks_allow_private=True, webhooks_concurrency=200
    )
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.delete(Deliveries))
            await conn.execute(sa.delete(Subscriptions))
        now = datetime.now(UTC)
        subs: list[UUID] = []
        async with sessions() as db, db.begin():
            for port in ports:
                sub = WebhookSubscriptionRow(
                    id=uuid4(),
                    org_id=ORG,
                    url=f"http://127.0.0.1:{port}/hook",
                    tier="member",
                    filters={},
                    secret=domain.new_secret(),
                    created_by="bench",
                    created_at=now,
                    updated_at=now,
                    enabled=port not in (slow, dead),
                )
                db.add(sub)
                subs.append(sub.id)
        database = sa.make_url(url).database or ""
        alone = await run_phase(sessions, settings, subs, events_count, database)
        async with engine.begin() as conn:
            await conn.execute(sa.update(Subscriptions).values(enabled=True))
        beside = await run_phase(sessions, settings, subs, events_count, database)
    finally:
        await engine.dispose()
        child.kill()
        child.wait()
    for name, phase in (("100 healthy receivers", alone), ("+ a dead and a slow (10 s) receiver", beside)):
        print(
            f"{name}: {phase['deliveries']} signed deliveries in {phase['seconds']:.1f} s = "
            f"{phase['per_minute']:,.0f}/min (target >= 10,000); latency of the healthy ones: "
            f"{summary_ms(phase['latency'])}"
        )
        worker = phase["delivery_cpu"].get("worker", 0.0)
        print(
            f"    fan-out ({events_count} events, one transaction each): {phase['fan_out_seconds']:.1f} s, "
            f"{cpu_line(phase['fan_out_cpu'])}\n"
            f"    delivery: {phase['delivery_seconds']:.1f} s = "
            f"{phase['deliveries'] / phase['delivery_seconds'] * 60:,.0f}/min, {cpu_line(phase['delivery_cpu'])}"
            f" = {phase['deliveries'] / worker if worker else float('nan'):,.0f} deliveries per worker CPU-second"
        )
    from bench.support import percentile

    extra = percentile(beside["latency"], 99) - percentile(alone["latency"], 99)
    print(f"extra p99 latency the dead and slow receivers add to the others: {extra * 1000:+.1f} ms (target: none)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--serve", type=int, help="run this many receivers (the child process)")
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve))
    else:
        print(f"load average {' '.join(f'{v:.2f}' for v in psutil.getloadavg())}", flush=True)
        asyncio.run(main(bench_databases(("incidents",))["incidents"], args.events))
        print(f"load average {' '.join(f'{v:.2f}' for v in psutil.getloadavg())}", flush=True)
