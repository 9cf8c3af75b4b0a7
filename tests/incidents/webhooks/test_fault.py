"""The incidents worker as a real process, killed -9 in the middle of a fan-out, with one receiver down for a while:
every subscribed receiver still gets every event at least once, with one stable webhook-id per event."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any
from uuid import uuid4

from libs.common import outbox
from libs.common.devservers import free_port
from libs.common.events import incidents as events
from tests.incidents.webhooks.receiver import Receiver
from tests.incidents.webhooks.test_webhooks import event, subscribe
from tests.support.processes import ServiceProcess, wait_until
from tests.support.stack import TEST_JWT_SECRET

INCIDENTS, VERSIONS = 10, 3


def worker(stack: Any, tmp_path: Path) -> ServiceProcess:
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONUNBUFFERED": "1",
        "INCIDENTS_DATABASE_URL": stack.database_urls["incidents"],
        "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap,
        "KAFKA_BROKER_FORGETS": "true",
        "JWT_SECRET": TEST_JWT_SECRET,
        "INCIDENTS_WORKER_PORT": str(port),
        "RELAY_IDLE_SECONDS": "0.01",
        "SCHEDULER_INTERVAL_SECONDS": "0.1",
        "S3_ENDPOINT": "",
        "LOG_LEVEL": "INFO",
        "INCIDENTS_WEBHOOKS_ALLOW_HTTP": "true",
        "INCIDENTS_WEBHOOKS_ALLOW_PRIVATE": "true",
        "INCIDENTS_WEBHOOKS_RETRY_SCHEDULE_SECONDS": json.dumps([0.3] * 200),
        "INCIDENTS_WEBHOOKS_LEASE_SECONDS": "2",
        "INCIDENTS_WEBHOOKS_PER_SUBSCRIPTION": "1",
        "INCIDENTS_WEBHOOKS_DISABLE_AFTER": "1000",
    }
    return ServiceProcess(
        "incidents-worker",
        [sys.executable, "-m", "services.incidents", "worker"],
        env=env,
        log_path=tmp_path / "incidents-worker.log",
        health_url=f"http://127.0.0.1:{port}/health",
        started_line="worker started",
    )


async def test_kill_9_mid_fan_out_and_a_receiver_down(stack: Any, row_locking: None, tmp_path: Path) -> None:
    receivers = [Receiver(delay=0.03) for _ in range(3)]
    process = worker(stack, tmp_path)
    try:
        for receiver in receivers:
            await subscribe(stack, receiver)
        receivers[2].close()  # down before the first event and for a good part of the run
        expected = set()
        async with stack.sessions("incidents")() as db, db.begin():
            for _ in range(INCIDENTS):
                incident_id = uuid4()
                for version, (cls, status) in enumerate(
                    [
                        (events.IncidentReported, "reported"),
                        (events.IncidentTriaged, "triage"),
                        (events.IncidentVerified, "verified"),
                    ][:VERSIONS],
                    start=1,
                ):
                    ev = event(cls, version, status, incident_id=incident_id)
                    outbox.add(db, ev, key=incident_id)
                    expected.add(f"{incident_id}:{version}")

        await process.start()
        await wait_until(
            lambda: _async(len(receivers[0].received) >= 5), timeout=60, what="fan-out under way", interval=0.02
        )
        process.kill()  # mid fan-out: sends in flight, leases held, deliveries pending
        assert len(receivers[0].received) < len(expected), "the fan-out finished before the kill"
        receivers[2].start()  # back on the same port
        await process.start()

        def complete() -> bool:
            return all(
                {(r.body["data"]["incident"]["incident_id"], r.body["data"]["aggregate_version"]) for r in rec.received}
                >= {(k.split(":")[0], int(k.split(":")[1])) for k in expected}
                for rec in receivers
            )

        await wait_until(lambda: _async(complete()), timeout=120, what="every receiver has every event")
    finally:
        process.stop()
        for receiver in receivers:
            receiver.close()

    ours = {k.split(":")[0] for k in expected}
    for receiver in receivers:
        assert all(r.verified for r in receiver.received)
        ids = _ids(receiver, ours)
        assert len(ids) == len(expected)
        assert all(len(v) == 1 for v in ids.values()), "a webhook-id changed between attempts"
    all_ids = [next(iter(v)) for rec in receivers for v in _ids(rec, ours).values()]
    assert len(set(all_ids)) == len(all_ids)  # one id per (event, subscription)


def _ids(receiver: Receiver, incidents: set[str]) -> dict[tuple[str, int], set[str]]:
    """The webhook-ids by (incident, version) of this test's incidents: the suite's broker is shared, so an event an
    earlier test left unconsumed on incidents.events reaches these subscriptions too (the whole-suite run saw two)."""
    ids: dict[tuple[str, int], set[str]] = defaultdict(set)
    for r in receiver.received:
        incident = r.body["data"]["incident"]["incident_id"]
        if incident in incidents:
            ids[(incident, r.body["data"]["aggregate_version"])].add(r.webhook_id)
    return ids


async def _async(value: bool) -> bool:
    return value
