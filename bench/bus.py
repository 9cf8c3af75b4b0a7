"""Event bus benchmarks: outbox relay drain vs raw aiokafka produce, and commit → consumer effect latency at a steady
rate, split into its stages, with the CPU each process used meanwhile.

End to end runs the KYC and traceability workers as real processes (`python -m services.<svc> worker`, the broker
treated as one that forgets, as with `make run`) on PostgreSQL and a fresh Tansu memory broker. The writers are
this process: transactions that stage valid ActorSuspended events with `outbox.add`, the time each commit returned
noted. Stages of one event:

  relay    writer's commit → the relay marked it published (outbox.published_at, after the broker's acks)
  deliver  published → the consumer began the transaction that applies it (processed_event.processed_at)
  apply    that → the consumer's transaction committed (a deferred trigger in the bench's traceability database
           records clock_timestamp() at commit; it adds one small insert per event to the consumer's work)
  total    writer's commit → consumer's committed effect

Stage percentiles do not add up to the total's (each is taken over its own distribution)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from uuid import uuid4

import psutil
import sqlalchemy as sa

from bench.support import (
    CpuMeter,
    PostgresBackends,
    Versions,
    bench_databases,
    cpu_table,
    processes,
    summary_ms,
    suspension,
)
from libs.common import bus, outbox
from libs.common.db import make_engine, make_sessions, utcnow
from libs.common.devservers import TansuBroker, free_port
from libs.common.relay import Relay
from libs.common.tables import OutboxMessageRow, ProcessedEventRow
from services.kyc.settings import KycSettings

Outbox = OutboxMessageRow.__table__
WRITERS = 8
CONSUMER = "traceability"
READY_TIMEOUT = 60.0  # for the workers to start and the consumer to apply a probe event
DRAIN_TIMEOUT = 60.0
COMMITTED: dict[str, datetime] = {}  # event id → when the writer's commit returned

COMMIT_CLOCK_SQL = [
    "CREATE TABLE IF NOT EXISTS bench_effect (event_id varchar(36) PRIMARY KEY, committed_at timestamptz NOT NULL)",
    """CREATE OR REPLACE FUNCTION bench_effect_at() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN INSERT INTO bench_effect VALUES (NEW.event_id, clock_timestamp()) ON CONFLICT DO NOTHING;
       RETURN NULL; END $$""",
    "DROP TRIGGER IF EXISTS bench_effect_at ON processed_event",
    """CREATE CONSTRAINT TRIGGER bench_effect_at AFTER INSERT ON processed_event
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bench_effect_at()""",
]


def event_row(key: str, version: int) -> dict:
    event = suspension(key, version)  # type: ignore[arg-type]
    return dict(
        event_id=str(uuid4()),
        topic=event.topic,
        key=key,
        event_type=event.event_type(),
        payload=event.model_dump_json(),
        bucket=outbox.bucket_of(key),
        occurred_at=utcnow(),
    )


async def fill_backlog(sessions, count: int) -> None:  # type: ignore[no-untyped-def]
    keys, versions = [str(uuid4()) for _ in range(1000)], Versions()
    for start in range(0, count, 5000):
        rows = [
            event_row(key, versions.next(key))
            for key in (keys[i % len(keys)] for i in range(start, min(count, start + 5000)))
        ]
        async with sessions() as db, db.begin():
            await db.execute(sa.insert(Outbox), rows)


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
    row = event_row(str(uuid4()), 1)
    producer = bus.make_producer(settings)
    await producer.start()
    started = time.perf_counter()
    for start in range(0, count, 1000):
        futures = [
            await producer.send("bench.raw", value=row["payload"].encode(), key=str(i % 1000).encode())
            for i in range(start, start + 1000)
        ]
        await asyncio.gather(*futures)
    elapsed = time.perf_counter() - started
    await producer.stop()
    return count / elapsed


def start_worker(service: str, env: dict[str, str]) -> subprocess.Popen:
    os.makedirs("var/bench", exist_ok=True)
    log = open(f"var/bench/{service}-worker.log", "wb")
    return subprocess.Popen(
        [sys.executable, "-m", f"services.{service}", "worker"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


async def write_steadily(sessions, *, rate: int, seconds: float, per_tx: int) -> int:  # type: ignore[no-untyped-def]
    """`per_tx` events per transaction, paced to `rate` events per second by WRITERS writers. Each writer has its
    own actors, so each actor's versions rise in commit order, as KYC's do."""
    keys = [uuid4() for _ in range(200)]
    versions = Versions()
    per_writer, written = rate / WRITERS / per_tx, 0

    async def writer(n: int) -> None:
        nonlocal written
        mine = keys[n::WRITERS]
        started = time.perf_counter()
        i = 0
        while (elapsed := time.perf_counter() - started) < seconds:
            if i < elapsed * per_writer:
                async with sessions() as db, db.begin():
                    staged = [
                        outbox.add(db, suspension(key, versions.next(key), reason="steady"), key=key)
                        for key in (mine[(i * per_tx + j) % len(mine)] for j in range(per_tx))
                    ]
                committed_at = utcnow()
                COMMITTED.update((row.event_id, committed_at) for row in staged)
                i += 1
                written += per_tx
            else:
                await asyncio.sleep(0.001)

    await asyncio.gather(*(writer(n) for n in range(WRITERS)))
    return written


async def install_commit_clock(engine) -> bool:  # type: ignore[no-untyped-def]
    if engine.dialect.name != "postgresql":
        return False
    async with engine.begin() as conn:
        for statement in COMMIT_CLOCK_SQL:
            await conn.execute(sa.text(statement))
    return True


async def wait_for_probe(kyc_sessions, trace_engine, workers: dict[str, subprocess.Popen]) -> float:  # type: ignore[no-untyped-def]
    """Stage one event and wait until the consumer applied it: the workers are up and the group has formed."""
    started = time.monotonic()
    key = uuid4()
    async with kyc_sessions() as db, db.begin():
        probe = outbox.add(db, suspension(key, 1, reason="probe"), key=key)
    while time.monotonic() - started < READY_TIMEOUT:
        for name, process in workers.items():
            if process.poll() is not None:
                raise SystemExit(f"{name} exited with {process.returncode}; see var/bench/{name}.log")
        try:
            async with trace_engine.connect() as conn:
                if (
                    await conn.execute(
                        sa.select(ProcessedEventRow.event_id).where(ProcessedEventRow.event_id == probe.event_id)
                    )
                ).first():
                    return time.monotonic() - started
        except Exception:  # the worker may still be migrating or connecting; keep polling until the deadline
            pass
        await asyncio.sleep(0.1)
    raise SystemExit(f"the probe event was not applied within {READY_TIMEOUT:.0f}s; see var/bench/*-worker.log")


async def end_to_end(
    urls: dict[str, str], broker: TansuBroker, *, rate: int, seconds: float, per_tx: int, extra_env: dict[str, str]
) -> dict:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("KYC_", "TRACEABILITY_", "KAFKA_"))},
        "KYC_DATABASE_URL": urls["kyc"],
        "TRACEABILITY_DATABASE_URL": urls["traceability"],
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "KAFKA_BROKER_FORGETS": "true",
        "KYC_WORKER_PORT": str(free_port()),
        "TRACEABILITY_WORKER_PORT": str(free_port()),
        "STORAGE_DIR": os.path.abspath("var/bench/objects"),
        "S3_ENDPOINT": "",
        "LOG_LEVEL": "WARNING",
        **extra_env,
    }
    settings = KycSettings(kafka_bootstrap_servers=broker.bootstrap)
    # The broker's epoch exists before the workers start, so relay and consumer agree on it from the first look
    # (else the consumer would see it appear two seconds later and re-read the topic during the measurement).
    epoch = bus.BrokerEpoch(settings)
    await epoch.read(create=True)
    await epoch.close()
    kyc_engine, trace_engine = make_engine(urls["kyc"], pool_size=WRITERS), make_engine(urls["traceability"])
    commit_clock = await install_commit_clock(trace_engine)
    workers = {"kyc-worker": start_worker("kyc", env), "traceability-worker": start_worker("traceability", env)}
    kyc_sessions = make_sessions(kyc_engine)
    try:
        ready_after = await wait_for_probe(kyc_sessions, trace_engine, workers)
        before = await _processed(trace_engine)
        named = {
            "bench (writers)": os.getpid(),
            "broker": broker.process.pid if broker.process else None,
            **{name: p.pid for name, p in workers.items()},
        }
        own = processes(named)
        databases = {url.rpartition("/")[2] for url in urls.values()}
        backends = PostgresBackends(databases, lambda: own)
        meter = CpuMeter(lambda: [*own.items(), *backends()], every=1.0).start()
        written = await write_steadily(kyc_sessions, rate=rate, seconds=seconds, per_tx=per_tx)
        written_at = time.monotonic()
        deadline = written_at + DRAIN_TIMEOUT
        while time.monotonic() < deadline and await _processed(trace_engine) - before < written:
            await asyncio.sleep(0.05)
        drained_after = time.monotonic() - written_at
        cpu = meter.stop()
        rss = {name: psutil.Process(p.pid).memory_info().rss / 2**20 for name, p in workers.items()}
        stages = await _stages(kyc_engine, trace_engine, commit_clock=commit_clock)
        return {
            "written": written,
            "rss_mib": rss,
            "cpu": cpu,
            "wall": meter.wall,
            "stages": stages,
            "ready_after": ready_after,
            "drained_after": drained_after,
            "commit_clock": commit_clock,
        }
    finally:
        for process in workers.values():
            process.terminate()
        for process in workers.values():
            try:
                process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        await kyc_engine.dispose()
        await trace_engine.dispose()


async def _processed(engine) -> int:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        return (
            await conn.execute(
                sa.select(sa.func.count()).select_from(ProcessedEventRow).where(ProcessedEventRow.consumer == CONSUMER)
            )
        ).scalar_one()


async def _stages(kyc_engine, trace_engine, *, commit_clock: bool) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
    async with kyc_engine.connect() as conn:
        published = dict((await conn.execute(sa.select(Outbox.c.event_id, Outbox.c.published_at))).all())
    async with trace_engine.connect() as conn:
        began = dict(
            (
                await conn.execute(
                    sa.select(ProcessedEventRow.event_id, ProcessedEventRow.processed_at).where(
                        ProcessedEventRow.consumer == CONSUMER
                    )
                )
            ).all()
        )
        committed = (
            dict((await conn.execute(sa.text("SELECT event_id, committed_at FROM bench_effect"))).all())
            if commit_clock
            else began
        )
    stages: dict[str, list[float]] = {"relay": [], "deliver": [], "apply": [], "total": [], "batch": []}
    # The consumer stamps every event of one partition's batch with the same processed_at: its batch sizes.
    stages["batch"] = [float(n) for n in Counter(began[e] for e in COMMITTED if e in began).values()]
    for event_id, written in COMMITTED.items():
        sent, start, done = published.get(event_id), began.get(event_id), committed.get(event_id)
        if sent is not None:
            stages["relay"].append((sent - written).total_seconds())
        if sent is not None and start is not None:
            stages["deliver"].append((start - sent).total_seconds())
        if start is not None and done is not None and commit_clock:
            stages["apply"].append((done - start).total_seconds())
        if done is not None:
            stages["total"].append((done - written).total_seconds())
    return stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument(
        "--per-tx",
        type=int,
        nargs="+",
        default=[10, 1],
        help="events per writing transaction; one end-to-end run per value",
    )
    parser.add_argument("--skip-drain", action="store_true", help="only the end-to-end runs")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the workers, e.g. --env CONSUMER_FETCH_WAIT_MS=50 (repeatable)",
    )
    args = parser.parse_args()
    extra_env = dict(item.split("=", 1) for item in args.env)
    broker = TansuBroker().start()
    try:
        urls = bench_databases(("kyc", "traceability"))
        print(
            f"database: {'PostgreSQL' if urls['kyc'].startswith('postgres') else 'SQLite'}; broker: Tansu (memory)"
            + (f"; worker env: {' '.join(args.env)}" if args.env else "")
        )
        if not args.skip_drain:
            raw = asyncio.run(raw_produce(broker.bootstrap, args.backlog))
            print(f"raw aiokafka produce (acks=all, 1000 in flight): {raw:,.0f} msg/s", flush=True)
            drained = asyncio.run(relay_drain(urls["kyc"], broker.bootstrap, args.backlog))
            print(f"outbox relay drain of a {args.backlog:,}-event backlog: {drained:,.0f} events/s", flush=True)
        for per_tx in args.per_tx:
            urls = bench_databases(("kyc", "traceability"))
            broker.stop()
            broker = TansuBroker().start()  # an empty log: the consumer sees only this run's events
            COMMITTED.clear()
            info = asyncio.run(
                end_to_end(urls, broker, rate=args.rate, seconds=args.seconds, per_tx=per_tx, extra_env=extra_env)
            )
            stages, achieved = info["stages"], info["written"] / args.seconds
            print(
                f"end to end, {per_tx} event(s) per transaction, {achieved:,.0f} events/s for {args.seconds:.0f}s "
                f"(commit → consumer's committed effect): {summary_ms(stages['total'])}; "
                f"delivered {len(stages['total'])}/{info['written']}"
            )
            print(f"  relay    commit → published:       {summary_ms(stages['relay'])}")
            print(f"  deliver  published → apply begins: {summary_ms(stages['deliver'])}")
            if info["commit_clock"]:
                print(f"  apply    apply begins → committed: {summary_ms(stages['apply'])}")
            else:
                print("  (SQLite: no commit clock; the effect time is when the consumer began applying)")
            batches = sorted(stages["batch"])
            if batches:
                print(
                    f"  consumer batches (one transaction per partition): {len(batches)}, events per batch "
                    f"median {batches[len(batches) // 2]:.0f}, max {batches[-1]:.0f}"
                )
            print(
                f"  workers ready (probe applied) after {info['ready_after']:.1f}s; "
                f"last event applied {info['drained_after']:.2f}s after the writers stopped"
            )
            print("  CPU during the run (writers' start → last event applied):")
            print(cpu_table(info["cpu"], info["wall"], shared={"postgres background"}))
            print(
                f"  worker memory (RSS): {json.dumps({k: round(v) for k, v in info['rss_mib'].items()})} MiB",
                flush=True,
            )
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
