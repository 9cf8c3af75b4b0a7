"""The bus's past failures (issue 7), each replayed with real processes, kill -9 and real outages."""

from __future__ import annotations

import asyncio
import time

import httpx

from tests.faults import figures
from tests.faults.steps import all_published, approved_platform, assert_promise_kept, warned_about
from tests.support.processes import wait_until

BROKER_DOWN_SECONDS = 8.0
CONSUMER_DB_OUTAGE_SECONDS = 12.0
KYC_DB_OUTAGE_SECONDS = 8.0
CONVERGENCE_TIMEOUT = 90.0
HEALTHY_AGAIN_TIMEOUT = 45.0  # a supervised task that failed during the outage restarts within 30 s of backoff


async def test_events_published_before_the_broker_forgot_them_reach_the_consumer_that_was_down(platform):
    writer, actors = await approved_platform(platform, 20)
    platform.kill("traceability-worker")
    for actor in actors:
        assert await writer.move(actor, "suspend")
    await all_published(platform)

    await platform.restart_broker(after=BROKER_DOWN_SECONDS)  # the memory broker comes back empty
    assert await writer.move(actors[0], "reinstate")
    await platform.start("traceability-worker")

    result = await figures.converge(platform, writer.writes, timeout=CONVERGENCE_TIMEOUT)
    assert_promise_kept(result, platform, "finding-1")


async def test_events_resent_after_a_broker_restart_do_not_overwrite_newer_state(platform):
    writer, actors = await approved_platform(platform, 10)
    platform.kill("traceability-worker")
    for actor in actors:
        assert await writer.move(actor, "suspend")
    await all_published(platform)

    await platform.restart_broker(after=1.0)
    for actor in actors:  # newer facts, published to the new broker; the suspensions must be sent again too
        assert await writer.move(actor, "reinstate")
    await all_published(platform)
    await platform.start("traceability-worker")

    result = await figures.converge(platform, writer.writes, timeout=CONVERGENCE_TIMEOUT)
    assert_promise_kept(result, platform, "finding-2")


async def test_events_arriving_while_the_consumer_database_refuses_connections_are_applied_after(platform):
    writer, actors = await approved_platform(platform, 10)

    began = time.monotonic()
    async with platform.databases.outage("traceability"):
        for actor in actors:
            assert await writer.move(actor, "suspend")
        await all_published(platform)  # delivered to the consumer while its database is down
        await asyncio.sleep(max(0.0, CONSUMER_DB_OUTAGE_SECONDS - (time.monotonic() - began)))  # outage length

    result = await figures.converge(platform, writer.writes, timeout=CONVERGENCE_TIMEOUT)
    assert_promise_kept(result, platform, "finding-3")


async def test_the_relay_resumes_by_itself_after_the_kyc_database_refused_connections(platform):
    writer, actors = await approved_platform(platform, 6)
    log_offset = platform.kyc_worker.log_size()

    async with platform.databases.outage("kyc"):
        for actor in actors[:2]:
            await writer.move(actor, "suspend")  # the API's database is down: no acknowledgement expected
        await asyncio.sleep(KYC_DB_OUTAGE_SECONDS)  # the outage's length, by design
    for actor in actors:  # written after the outage: only a relay that came back publishes them
        assert await writer.toggle(actor)

    result = await figures.converge(platform, writer.writes, timeout=CONVERGENCE_TIMEOUT)
    assert platform.kyc_worker.alive, "the KYC worker exited by itself\n" + platform.logs("kyc-worker")
    assert_promise_kept(result, platform, "finding-4")
    log = platform.kyc_worker.log_since(log_offset)
    assert warned_about(log, "relay"), "no WARNING/ERROR line about the relay after the outage began\n" + platform.logs(
        "kyc-worker"
    )
    await wait_until(
        lambda: _answers_200(platform.worker_health_url("kyc")),
        timeout=HEALTHY_AGAIN_TIMEOUT,
        what="the KYC worker's GET /health (KYC_WORKER_PORT) answers 200 again after the outage",
        diagnostics=lambda: platform.logs("kyc-worker"),
    )


async def _answers_200(url: str) -> bool:
    """True on 200; otherwise raises with the body (which says what fails), so the timeout message shows it."""
    async with httpx.AsyncClient(timeout=2.0) as http:
        answer = await http.get(url)
    if answer.status_code != 200:
        raise RuntimeError(f"{answer.status_code} {answer.text[:300]}")
    return True
