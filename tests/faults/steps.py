"""Steps the fault tests share: a running platform with approved actors, waits on the relay, the final assertions."""

from __future__ import annotations

import json

from tests.faults import figures
from tests.faults.kyc_writes import KycWriter
from tests.support.processes import Platform, wait_until

BASELINE_TIMEOUT = 60.0
LOGS = ("kyc-worker", "traceability-worker", "broker")


async def approved_platform(platform: Platform, count: int) -> tuple[KycWriter, list[str]]:
    """Every process started, `count` actors approved through the API, and their events applied in traceability:
    the baseline before any fault (if this fails, the bus does not work even without faults)."""
    await platform.start()
    writer = KycWriter(platform.api_url)
    platform.cleanups.append(writer.close)
    actors = await writer.approved_actors(count)
    result = await figures.converge(platform, writer.writes, timeout=BASELINE_TIMEOUT)
    assert result is not None and result.converged, "baseline, before any fault: " + figures.report(
        result, platform, "baseline", logs=LOGS
    )
    return writer, actors


async def pending_count(platform: Platform) -> int:
    conn = await platform.databases.connect("kyc")
    try:
        return await conn.fetchval("SELECT count(*) FROM outbox_message WHERE published_at IS NULL")
    finally:
        await conn.close()


async def all_published(platform: Platform, *, timeout: float = 30.0) -> None:
    """The KYC relay handed every outbox row to the broker (acks=all)."""

    async def none_pending() -> bool:
        return await pending_count(platform) == 0

    await wait_until(
        none_pending,
        timeout=timeout,
        what="the KYC relay publishes every outbox row",
        diagnostics=lambda: platform.logs("kyc-worker", "broker"),
    )


def assert_promise_kept(result: figures.Figures | None, platform: Platform, seed: int | str) -> None:
    """Every committed event applied once, read model equal to the source, nothing dead-lettered or gone back."""
    if result is not None:
        print("\n" + result.line(seed))
    message = figures.report(result, platform, seed, logs=LOGS)
    assert result is not None, message
    assert result.lost == 0, message
    assert result.applied == result.expected, message
    assert result.duplicated == 0, message
    assert result.regressions == 0, message
    assert result.dead_lettered == 0, message
    assert result.unrecorded == 0, message


def warned_about(log: str, word: str) -> list[str]:
    """JSON log lines at WARNING or above that mention `word` (in the logger, the message or the traceback)."""
    found = []
    for line in log.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("level") in ("WARNING", "ERROR", "CRITICAL") and word in line.lower():
            found.append(line[:300])
    return found
