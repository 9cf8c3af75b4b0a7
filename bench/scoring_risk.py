"""Risk score benchmarks.

recompute  `recompute_all` over N actors and N sites seeded straight into the read models (set-based SQL), each
           with a mix of statuses, confirmed hits, licences, open incidents and anomalies: wall time and the peak
           resident memory of this process (targets <= 60 s, <= 1 GiB).
latency    the scoring worker as a real process (`python -m services.scoring worker`) on a fresh Tansu broker; a
           lot with ~1,000 upstream lots (three levels of inputs, origin sites on the leaves). An incident on one
           leaf site is published on incidents.events (opened, then closed: the lot's score rises, then falls);
           measured from the send to the lot's ScoreChanged read back from scoring.events (target p99 <= 2 s)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer

from bench.support import bench_databases, summary_ms
from libs.common import bus
from libs.common.db import make_engine, make_sessions, utcnow
from libs.common.devservers import TansuBroker, free_port
from libs.common.events.base import Envelope, new_event_id
from libs.common.events.incidents import IncidentClosed, IncidentReported, IncidentState
from services.scoring.risk.recompute import recompute_all
from services.scoring.settings import ScoringSettings

ORG = "org-bench"
READY_TIMEOUT = 90.0
SAMPLE_TIMEOUT = 30.0

SEED_SQL = [
    # actors: every tenth suspended, every seventh in a high-risk area
    """INSERT INTO risk_actor (actor_id, org_id, kyc_status, risk_level, high_risk_area, country, region, version,
           event_id)
       SELECT gen_random_uuid(), :org, CASE WHEN i % 10 = 0 THEN 'suspended' WHEN i % 10 = 1 THEN 'submitted'
           ELSE 'approved' END, CASE WHEN i % 3 = 0 THEN 'high' ELSE 'low' END, i % 7 = 0, 'CD', 'CD-NK', 1,
           'seed-' || i
       FROM generate_series(1, :n) AS i""",
    """INSERT INTO risk_hit (hit_id, org_id, actor_id, confirmed, version, event_id)
       SELECT gen_random_uuid(), org_id, actor_id, true, 2, 'seed-hit' FROM risk_actor
       WHERE abs(hashtext(actor_id::text)) % 50 = 0""",
    """INSERT INTO risk_licence (licence_id, org_id, actor_id, valid_to, notice, removed, version, event_id)
       SELECT gen_random_uuid(), org_id, actor_id, current_date + (abs(hashtext(actor_id::text)) % 720 - 60),
           NULL, false, 2, 'seed-licence' FROM risk_actor WHERE abs(hashtext(actor_id::text)) % 4 <> 0""",
    """INSERT INTO risk_site (site_id, org_id, operator_actor_id, status, area_risk, version, event_id)
       SELECT gen_random_uuid(), :org, NULL, (ARRAY['green','green','yellow','red','blue'])[1 + i % 5],
           CASE WHEN i % 6 = 0 THEN 'high' ELSE 'standard' END, 1, 'seed-' || i
       FROM generate_series(1, :n) AS i""",
    """INSERT INTO risk_incident (incident_id, org_id, level, status, is_open, version, event_id)
       SELECT gen_random_uuid(), :org, 1 + i % 3, 'reported', true, 1, 'seed-incident-' || i
       FROM generate_series(1, :n / 20) AS i""",
    """INSERT INTO risk_incident_link (incident_id, subject_type, subject_id)
       SELECT i.incident_id, 'site', s.site_id
       FROM (SELECT incident_id, row_number() OVER () AS n FROM risk_incident) AS i
       JOIN (SELECT site_id, row_number() OVER () AS n FROM risk_site) AS s ON s.n = i.n""",
    """INSERT INTO risk_anomaly (anomaly_id, site_id, org_id, kind, event_id)
       SELECT gen_random_uuid(), site_id, org_id, 'capacity_exceeded', 'seed-anomaly' FROM risk_site
       WHERE abs(hashtext(site_id::text)) % 25 = 0""",
]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def truncate(url: str) -> None:
    engine = make_engine(url)
    async with engine.begin() as conn:
        tables = (
            await conn.execute(
                sa.text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND "
                    "tablename LIKE 'risk_%' OR tablename = 'outbox_message' OR "
                    "tablename = 'processed_event'"
                )
            )
        ).scalars()
        await conn.execute(sa.text(f"TRUNCATE {', '.join(tables)}"))
    await engine.dispose()


async def recompute(url: str, n: int) -> dict[str, Any]:
    await truncate(url)
    engine = make_engine(url)
    async with engine.begin() as conn:
        for statement in SEED_SQL:
            await conn.execute(sa.text(statement), {"org": ORG, "n": n})
        # Statistics, as autovacuum keeps them on a live database: without them the planner guesses on tables it
        # believes empty, and the time depended on whether autovacuum had got there yet (52 s to 80 s).
        await conn.execute(sa.text("ANALYZE"))
    before = peak_rss_mib()
    started = time.perf_counter()
    changed = await recompute_all(make_sessions(engine))
    elapsed = time.perf_counter() - started
    again_started = time.perf_counter()
    unchanged = await recompute_all(make_sessions(engine))
    again = time.perf_counter() - again_started
    await engine.dispose()
    return {
        "subjects": 2 * n,
        "seconds": elapsed,
        "changed": changed,
        "peak_rss_mib": peak_rss_mib(),
        "rss_before_mib": before,
        "again_seconds": again,
        "again_changed": unchanged,
    }


# --- latency ---------------------------------------------------------------------------------------------------


async def seed_lineage(url: str, *, fan: tuple[int, int, int] = (10, 10, 9)) -> tuple[UUID, list[UUID]]:
    """A target lot, `fan[0]` inputs, each with `fan[1]`, each with `fan[2]`; one site per leaf group."""
    await truncate(url)
    target = uuid4()
    lots, edges, origins, sites = [target], [], [], []
    level = [target]
    for depth, width in enumerate(fan):
        nxt = []
        for parent in level:
            for _ in range(width):
                child = uuid4()
                lots.append(child)
                edges.append({"lot_id": parent, "input_lot_id": child})
                nxt.append(child)
        level = nxt
        if depth == len(fan) - 1:
            for i, leaf in enumerate(level):
                if i % fan[-1] == 0:
                    sites.append(uuid4())
                origins.append({"lot_id": leaf, "site_id": sites[-1]})
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            sa.text("INSERT INTO risk_lot (lot_id, org_id, version) VALUES (:lot_id, :org, 1)"),
            [{"lot_id": lot, "org": ORG} for lot in lots],
        )
        await conn.execute(sa.text("INSERT INTO risk_lot_input VALUES (:lot_id, :input_lot_id)"), edges)
        await conn.execute(sa.text("INSERT INTO risk_lot_origin VALUES (:lot_id, :site_id)"), origins)
        await conn.execute(
            sa.text(
                "INSERT INTO risk_site (site_id, org_id, status, area_risk, version) "
                "VALUES (:site_id, :org, 'green', 'standard', 1)"
            ),
            [{"site_id": s, "org": ORG} for s in sites],
        )
    await recompute_all(make_sessions(engine))
    async with engine.begin() as conn:
        await conn.execute(sa.text("TRUNCATE outbox_message"))
    await engine.dispose()
    print(f"  lineage: target lot with {len(lots) - 1} upstream lots, {len(sites)} origin sites", flush=True)
    return target, sites


def incident_event(incident_id: UUID, site_id: UUID, version: int, *, closed: bool) -> tuple[str, Any]:
    now = datetime.now(UTC)
    state = IncidentState(
        incident_id=incident_id,
        org_id=ORG,
        reference=f"INC-B-{version}",
        category="annex2.armed_groups",
        category_group="annex2_serious_abuse",
        level=1,
        required_response="disengage",
        status="closed" if closed else "reported",
        title="armed group at the site",
        summary="bench",
        source="monitor",
        site_ids=[site_id],
        reported_at=now,
        updated_at=now,
    )
    event_class = IncidentClosed if closed else IncidentReported
    event = event_class(org_id=ORG, incident_id=incident_id, aggregate_version=version, incident=state)
    envelope = Envelope(
        event_id=new_event_id(),
        event_type=event.event_type(),
        source=event.source(),
        key=str(incident_id),
        time=utcnow(),
        payload=event.model_dump_json().encode(),
    )
    return str(incident_id), envelope.to_kafka()


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    os.makedirs("var/bench", exist_ok=True)
    log = open("var/bench/scoring-worker.log", "wb")
    return subprocess.Popen(
        [sys.executable, "-m", "services.scoring", "worker"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


async def latency(url: str, samples: int) -> dict[str, Any]:
    target, sites = await seed_lineage(url)
    broker = TansuBroker(log_path=None).start()
    settings = ScoringSettings(kafka_bootstrap_servers=broker.bootstrap)
    await bus.ensure_topics(settings, ["incidents.events", "scoring.events", "kyc.events", "traceability.events"])
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SCORING_", "KAFKA_"))},
        "SCORING_DATABASE_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "KAFKA_BROKER_FORGETS": "true",
        "SCORING_WORKER_PORT": str(free_port()),
        "STORAGE_DIR": os.path.abspath("var/bench/objects"),
        "S3_ENDPOINT": "",
        "LOG_LEVEL": "WARNING",
    }
    epoch = bus.BrokerEpoch(settings)
    await epoch.read(create=True)
    await epoch.close()
    worker = start_worker(env)
    producer = bus.make_producer(settings)
    consumer = AIOKafkaConsumer(
        "scoring.events", bootstrap_servers=broker.bootstrap, auto_offset_reset="latest", group_id=f"bench-{uuid4()}"
    )
    await producer.start()
    await consumer.start()
    try:
        await consumer.seek_to_end()
        waits: list[float] = []
        version, incident_id, warmup = 0, uuid4(), True
        while len(waits) < samples:
            version += 1
            key, message = incident_event(incident_id, sites[0], version, closed=version % 2 == 0)
            sent = time.perf_counter()
            await producer.send_and_wait(
                "incidents.events", value=message.value, key=key.encode(), headers=list(message.headers.items())
            )
            if not await _await_lot_score(consumer, target, worker, warmup=warmup):
                raise SystemExit("no ScoreChanged of the lot; see var/bench/scoring-worker.log")
            if warmup:
                warmup = False  # the first one waited for the worker's start and the group to form
                continue
            waits.append(time.perf_counter() - sent)
        return {
            "samples": len(waits),
            "summary": summary_ms(waits),
            "p99_s": sorted(waits)[int(0.99 * (len(waits) - 1))],
        }
    finally:
        await consumer.stop()
        await producer.stop()
        worker.terminate()
        worker.wait(timeout=30)
        broker.stop()


async def _await_lot_score(
    consumer: AIOKafkaConsumer, lot_id: UUID, worker: subprocess.Popen[bytes], *, warmup: bool
) -> bool:
    deadline = time.monotonic() + (READY_TIMEOUT if warmup else SAMPLE_TIMEOUT)
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise SystemExit(f"the scoring worker exited with {worker.returncode}; see var/bench/scoring-worker.log")
        batches = await consumer.getmany(timeout_ms=200)
        for records in batches.values():
            for record in records:
                if record.key == str(lot_id).encode():
                    return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scoring_risk")
    parser.add_argument("--subjects", type=int, default=100_000, help="actors, and as many sites")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--only", choices=["recompute", "latency"])
    args = parser.parse_args()
    url = bench_databases(("scoring",))["scoring"]
    if not url.startswith("postgresql"):
        raise SystemExit("the risk score benchmark needs PostgreSQL")
    if args.only != "latency":
        result = asyncio.run(recompute(url, args.subjects))
        print(
            f"  recompute: {result['subjects']:,} actors and sites in {result['seconds']:.1f} s "
            f"(target <= 60 s), peak RSS {result['peak_rss_mib']:.0f} MiB (target <= 1024), "
            f"changed {json.dumps(result['changed'])}; again with nothing changed {result['again_seconds']:.1f} s",
            flush=True,
        )
    if args.only != "recompute":
        result = asyncio.run(latency(url, args.samples))
        print(
            f"  incident -> lot ScoreChanged over {result['samples']} samples: {result['summary']} (target p99 <= 2 s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
