"""Event bus benchmarks: outbox relay drain vs raw aiokafka produce, and commit → consumer effect latency."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import datetime
from uuid import uuid4

import psutil
import sqlalchemy as sa

from bench.support import bench_databases, summary_ms
from libs.common import bus, outbox
from libs.common.db import make_engine, make_sessions, utcnow
from libs.common.devservers import TansuBroker
from libs.common.events.kyc import ActorSuspended
from libs.common.relay import Relay
from libs.common.tables import OutboxMessageRow, ProcessedEventRow
from services.kyc.settings import KycSettings

Outbox = OutboxMessageRow.__table__
WRITERS = 8
COMMITTED: dict[str, datetime] = {}  # event id → when the writer's commit returned


def event_row(key: str) -> dict:
    event = ActorSuspended(org_id="org-bench", actor_id=key, suspended_by="bench-user",
                           reason="licence documents missing at the last site visit")
    return dict(event_id=str(uuid4()), topic=event.topic, key=key, event_type=event.event_type(),
                payload=event.model_dump_json(), bucket=outbox.bucket_of(key), occurred_at=utcnow())


async def fill_backlog(sessions, count: int) -> None:  # type: ignore[no-untyped-def]
    keys = [str(uuid4()) for _ in range(1000)]
    for start in range(0, count, 5000):
        async with sessions() as db, db.begin():
            await db.execute(sa.insert(Outbox), [event_row(keys[i % len(keys)]) for i in range(start, start + 5000)])


async def relay_drain(database_url: str, bootstrap: str, count: int) -> float:
    engine = make_engine(database_url)
    sessions = make_sessions(engine)
    await fill_backlog(sessions, count)
    settings = KycSettings(database_url=database_url, kafka_bootstrap_servers=bootstrap)
    await bus.ensure_topics(settings, [settings.topic])
    relay, stop = Relay(settings, sessions), asyncio.Event()
    started = time.perf_counter()
    task = asyncio.create_task(relay.run(stop))
    while await outbox.pending_count(sessions):
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    await engine.dispose()
    return count / elapsed


async def raw_produce(bootstrap: str, count: int) -> float:
    settings = KycSettings(kafka_bootstrap_servers=bootstrap)
    row = event_row(str(uuid4()))
    producer = bus.make_producer(settings)
    await producer.start()
    started = time.perf_counter()
    for start in range(0, count, 1000):
        futures = [await producer.send("bench.raw", value=row["payload"].encode(), key=str(i % 1000).encode())
                   for i in range(start, start + 1000)]
        await asyncio.gather(*futures)
    elapsed = time.perf_counter() - started
    await producer.stop()
    return count / elapsed


def start_worker(service: str, env: dict[str, str]) -> subprocess.Popen:
    os.makedirs("var/bench", exist_ok=True)
    log = open(f"var/bench/{service}-worker.log", "wb")
    return subprocess.Popen([sys.executable, "-m", f"services.{service}", "worker"], env=env,
                            stdout=log, stderr=subprocess.STDOUT)


async def write_steadily(sessions, *, rate: int, seconds: float, per_tx: int) -> int:  # type: ignore[no-untyped-def]
    """`per_tx` events per transaction, paced to `rate` events per second by 32 writers."""
    keys = [uuid4() for _ in range(200)]
    per_writer, written = rate / WRITERS / per_tx, 0

    async def writer(n: int) -> None:
        nonlocal written
        started = time.perf_counter()
        i = 0
        while (elapsed := time.perf_counter() - started) < seconds:
            if i < elapsed * per_writer:
                async with sessions() as db, db.begin():
                    staged = [outbox.add(db, ActorSuspended(org_id="org-bench", actor_id=key, suspended_by="b",
                                                            reason="steady"), key=key)
                              for key in (keys[(n * 7919 + i * per_tx + j) % len(keys)] for j in range(per_tx))]
                committed_at = utcnow()
                COMMITTED.update((row.event_id, committed_at) for row in staged)
                i += 1
                written += per_tx
            else:
                await asyncio.sleep(0.001)

    await asyncio.gather(*(writer(n) for n in range(WRITERS)))
    return written


async def end_to_end(urls: dict[str, str], bootstrap: str, *, rate: int, seconds: float,
                     per_tx: int) -> tuple[list[float], dict]:
    env = {**os.environ, "KYC_DATABASE_URL": urls["kyc"], "TRACEABILITY_DATABASE_URL": urls["traceability"],
           "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "LOG_LEVEL": "WARNING"}
    workers = [start_worker("kyc", env), start_worker("traceability", env)]
    kyc_engine, trace_engine = make_engine(urls["kyc"], pool_size=WRITERS), make_engine(urls["traceability"])
    try:
        await asyncio.sleep(8)  # the consumer joins its group
        written = await write_steadily(make_sessions(kyc_engine), rate=rate, seconds=seconds, per_tx=per_tx)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and await _processed(trace_engine) < written:
            await asyncio.sleep(0.2)
        rss = {w.args[2]: psutil.Process(w.pid).memory_info().rss / 2**20 for w in workers}
        return await _latencies(kyc_engine, trace_engine), {"written": written, "rss_mib": rss}
    finally:
        for w in workers:
            w.terminate()
            w.wait(timeout=20)
        await kyc_engine.dispose()
        await trace_engine.dispose()


async def _processed(engine) -> int:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(ProcessedEventRow))).scalar_one()


async def _latencies(kyc_engine, trace_engine) -> list[float]:  # type: ignore[no-untyped-def]
    async with kyc_engine.connect() as conn:
        outbox_rows = (await conn.execute(sa.select(Outbox.c.event_id, Outbox.c.occurred_at,
                                                    Outbox.c.published_at))).all()
    async with trace_engine.connect() as conn:
        rows = (await conn.execute(sa.select(ProcessedEventRow.event_id, ProcessedEventRow.processed_at))).all()
    occurred = {r.event_id: COMMITTED.get(r.event_id, r.occurred_at) for r in outbox_rows}
    relayed = [(r.published_at - occurred[r.event_id]).total_seconds() for r in outbox_rows if r.published_at]
    print(f"  of which commit → marked published by the relay: {summary_ms(relayed)}")
    return [(done - occurred[eid]).total_seconds() for eid, done in rows if eid in occurred]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--per-tx", type=int, nargs="+", default=[10, 1],
                        help="events per writing transaction; one end-to-end run per value")
    args = parser.parse_args()
    broker = TansuBroker().start()
    try:
        urls = bench_databases(("kyc", "traceability"))
        print(f"database: {'PostgreSQL' if urls['kyc'].startswith('postgres') else 'SQLite'}; broker: Tansu (memory)")
        raw = asyncio.run(raw_produce(broker.bootstrap, args.backlog))
        print(f"raw aiokafka produce (acks=all, 1000 in flight): {raw:,.0f} msg/s")
        drained = asyncio.run(relay_drain(urls["kyc"], broker.bootstrap, args.backlog))
        print(f"outbox relay drain of a {args.backlog:,}-event backlog: {drained:,.0f} events/s")
        for per_tx in args.per_tx:
            urls = bench_databases(("kyc", "traceability"))
            broker.stop()
            broker = TansuBroker().start()  # an empty log: the consumer sees only this run's events
            latencies, info = asyncio.run(end_to_end(urls, broker.bootstrap, rate=args.rate, seconds=args.seconds,
                                                     per_tx=per_tx))
            achieved = info["written"] / args.seconds
            print(f"end to end, {per_tx} event(s) per transaction, {achieved:,.0f} events/s for {args.seconds:.0f}s "
                  f"(commit → consumer effect): {summary_ms(latencies)}; delivered {len(latencies)}/{info['written']}")
            print(f"  worker memory (RSS): {json.dumps({k: round(v) for k, v in info['rss_mib'].items()})} MiB")
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
