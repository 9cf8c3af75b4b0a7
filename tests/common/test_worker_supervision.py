"""Supervised worker tasks: a task that dies is logged and restarted; /health, /ready and /metrics tell the truth."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from uuid import uuid4

import httpx
import pytest
from prometheus_client import REGISTRY

from libs.common import health, outbox, worker
from libs.common.db import utcnow
from libs.common.devservers import free_port
from libs.common.tables import DeadLetterRow, OutboxMessageRow, ScheduledJobRow
from tests.support.bus import eventually

pytestmark = pytest.mark.timeout(60)


@asynccontextmanager
async def health_server(*, ready=None) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    stop = asyncio.Event()
    bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    server = asyncio.create_task(health.serve("127.0.0.1", 0, ready=ready, stop=stop, on_listening=bound.set_result))
    port = await asyncio.wait_for(bound, timeout=5)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        await asyncio.wait_for(server, timeout=5)


@asynccontextmanager
async def supervised(name: str, run, *, within: float) -> AsyncIterator[None]:  # type: ignore[no-untyped-def]
    stop = asyncio.Event()
    task = asyncio.create_task(worker.supervise(name, run, stop, within=within))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=5)
        health.forget(name)


async def get(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=5) as client:
        return await client.get(url)


async def raw(base: str, data: bytes) -> bytes:
    """Send `data` as is and read until the server closes the connection."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(data)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    return answer


def restarts(task: str) -> float:
    return REGISTRY.get_sample_value("assay_worker_task_restarts_total", {"task": task}) or 0.0


async def test_a_task_that_raises_is_logged_restarted_and_health_shows_it_recovering(caplog):
    calls = 0

    async def flaky(stop: asyncio.Event) -> None:
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise RuntimeError(f"database went away ({calls})")
        while not stop.is_set():
            health.beat("flaky")
            await asyncio.sleep(0.05)

    before = restarts("flaky")
    caplog.set_level(logging.INFO, logger="assay.worker")
    async with health_server() as base, supervised("flaky", flaky, within=5):
        down = await eventually(lambda: _health_if(base, 503), interval=0.02)
        recovered = await eventually(lambda: _health_if(base, 200), timeout=10)

    assert "down: RuntimeError: database went away" in down["failing"]["flaky"]
    assert set(recovered["tasks"]) == {"flaky"} and calls == 3
    assert restarts("flaky") - before == 2
    failures = [r for r in caplog.records if r.getMessage() == "worker task failed; restarting"]
    assert len(failures) == 2 and all(r.levelno == logging.ERROR and r.exc_info for r in failures)
    assert [r.retry_in for r in failures] == [0.5, 1.0]  # type: ignore[attr-defined]


async def test_a_task_that_returns_while_the_worker_runs_is_restarted():
    calls = 0

    async def quits_once(stop: asyncio.Event) -> None:
        nonlocal calls
        calls += 1
        while calls > 1 and not stop.is_set():
            health.beat("quitter")
            await asyncio.sleep(0.05)

    async with health_server() as base, supervised("quitter", quits_once, within=5):
        await eventually(lambda: _health_if(base, 200), timeout=10)
        assert calls == 2


async def test_health_fails_when_a_task_stops_beating_and_names_it():
    async def stalls(stop: asyncio.Event) -> None:
        for _ in range(3):
            health.beat("staller")
            await asyncio.sleep(0.05)
        await stop.wait()  # alive as a task, but no longer making progress

    async with health_server() as base, supervised("staller", stalls, within=0.5):
        late = await eventually(lambda: _health_if(base, 503), timeout=10)

    assert late["status"] == "failing"
    assert late["failing"]["staller"].startswith("late: no beat for")
    assert late["tasks"]["staller"] > 0.5


async def test_ready_follows_the_readiness_check_and_a_failing_check_means_not_ready():
    state = {"ready": False}

    async def ready() -> bool:
        if state["ready"] is None:
            raise ConnectionError("database unreachable")
        return state["ready"]

    async with health_server(ready=ready) as base:
        not_yet = await get(base + "/ready")
        state["ready"] = True
        now = await get(base + "/ready")
        state["ready"] = None
        broken = await get(base + "/ready")

    assert (not_yet.status_code, now.status_code, broken.status_code) == (503, 200, 503)
    assert now.json() == {"status": "ready"}


async def test_metrics_are_served_as_prometheus_text():
    worker.TASK_RESTARTS.labels("metrics-test").inc()

    async with health_server() as base:
        response = await get(base + "/metrics?format=text")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert 'assay_worker_task_restarts_total{task="metrics-test"} 1.0' in response.text


async def test_unknown_paths_are_404_and_other_methods_405_as_problem_json():
    async with health_server() as base:
        async with httpx.AsyncClient(timeout=5) as client:
            missing = await client.get(base + "/nope")
            posted = await client.post(base + "/health", content=b"x" * 1000)

    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["status"] == 404
    assert posted.status_code == 405 and posted.headers["allow"] == "GET"


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)),  # a TLS hello
        b"GET\r\n\r\n",
        b"GET /health HTTP/9\r\n\r\n",
        b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\n\r\n",
        b"GET /health HTTP/1.1\r\nContent-Length: banana\r\n\r\n",
        b"GET /health HTTP/1.1\r\n" + b"X-Filler: y\r\n" * 500 + b"\r\n",
        b"",
    ],
)
async def test_garbage_gets_a_400_or_a_closed_connection_and_the_server_keeps_answering(garbage):
    async with health_server() as base:
        answer = await raw(base, garbage)
        after = await get(base + "/health")

    assert answer == b"" or answer.startswith(b"HTTP/1.1 400 ")
    assert after.status_code == 200


async def test_a_client_that_sends_nothing_is_dropped_and_others_are_served_meanwhile():
    async with health_server() as base:
        host, port = base.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        served = await get(base + "/health")
        dropped = await asyncio.wait_for(reader.read(), timeout=health.READ_TIMEOUT_SECONDS + 5)
        writer.close()

    assert served.status_code == 200
    assert dropped.startswith(b"HTTP/1.1 400 ")


async def test_the_gauges_show_the_outbox_backlog_dead_letters_and_job_successes(stack):
    sessions = stack.sessions("kyc")
    finished = utcnow() - timedelta(minutes=5)
    async with sessions() as db, db.begin():
        db.add_all([pending_message() for _ in range(3)])
        db.add(ScheduledJobRow(name="gauge-test-job", last_finished_at=finished))
        db.add(dead_letter(replayed=False))
        db.add(dead_letter(replayed=True))

    await worker.update_gauges(sessions)

    assert REGISTRY.get_sample_value("assay_outbox_pending") == 3
    assert 0 <= REGISTRY.get_sample_value("assay_outbox_oldest_pending_seconds") < 60
    assert REGISTRY.get_sample_value("assay_dead_letters") == 1
    assert REGISTRY.get_sample_value("assay_job_last_success_timestamp", {"job": "gauge-test-job"}) == pytest.approx(
        finished.timestamp()
    )


async def test_run_worker_serves_its_tasks_health_readiness_and_metrics_then_stops(stack):
    port = free_port()
    settings = stack.settings("kyc", worker_port=port)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run_worker(settings, stack.sessions("kyc"), handlers={}, stop=stop))
    base = f"http://127.0.0.1:{port}"
    try:
        report = await eventually(lambda: _answer(base + "/health"), timeout=15)
        ready = await get(base + "/ready")
        metrics = await get(base + "/metrics")
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=30)

    assert set(report["tasks"]) == {"relay", "scheduler", "gauges"}  # no handlers: no consumer
    assert ready.status_code == 200
    assert "assay_outbox_pending" in metrics.text and "assay_dead_letters" in metrics.text
    with pytest.raises(httpx.ConnectError):
        await get(base + "/health")


def pending_message() -> OutboxMessageRow:
    key = str(uuid4())
    return OutboxMessageRow(
        event_id=str(uuid4()),
        topic="kyc.events",
        key=key,
        event_type="ActorSuspended.v1",
        payload="{}",
        bucket=outbox.bucket_of(key),
        occurred_at=utcnow(),
    )


def dead_letter(*, replayed: bool) -> DeadLetterRow:
    return DeadLetterRow(
        consumer="kyc",
        event_id=str(uuid4()),
        event_type="ActorSuspended.v1",
        topic="kyc.events",
        partition=0,
        offset=0,
        key=None,
        headers="[]",
        value="",
        error="boom",
        attempts=5,
        failed_at=utcnow(),
        replayed_at=utcnow() if replayed else None,
    )


async def _health_if(base: str, status: int) -> dict | None:
    response = await get(base + "/health")
    return response.json() if response.status_code == status else None


async def _answer(url: str) -> dict | None:
    try:
        return json.loads((await get(url)).text)
    except httpx.TransportError:
        return None
