"""The event bus keeps its promises: nothing lost, order per key, applied once, poison set aside."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, datetime
from uuid import UUID, uuid4

import sqlalchemy as sa
from prometheus_client import REGISTRY

from libs.common import bus, deadletters, outbox
from libs.common.events import Envelope
from libs.common.events.kyc import ActorState, ActorSuspended
from libs.common.relay import Relay
from libs.common.tables import OutboxMessageRow, ProcessedEventRow
from tests.support.bus import envelopes, eventually, read_topic, running

Applied = dict[UUID, list[int]]


def suspension(actor_id: UUID, seq: int) -> ActorSuspended:
    state = ActorState(
        actor_id=actor_id,
        org_id="org-a",
        actor_type="trader",
        legal_name=f"Trader {seq}",
        country="CD",
        kyc_status="suspended",
    )
    return ActorSuspended(
        org_id="org-a",
        actor_id=actor_id,
        actor=state,
        aggregate_version=seq + 1,
        suspended_by="bob",
        reason=f"seq-{seq}",
    )


def recording_handlers(applied: Applied, *, fail_for: set[UUID] = frozenset()):  # type: ignore[no-untyped-def]
    async def on_suspended(db, event: ActorSuspended) -> None:  # type: ignore[no-untyped-def]
        if event.actor_id in fail_for:
            raise RuntimeError(f"cannot apply to {event.actor_id}")
        applied[event.actor_id].append(int(event.reason.removeprefix("seq-")))

    return {ActorSuspended: on_suspended}


async def write_events(stack, keys: list[UUID], seqs: range) -> None:  # type: ignore[no-untyped-def]
    for seq in seqs:  # one transaction per write, as the API does
        async with stack.sessions("kyc")() as db, db.begin():
            for key in keys:
                outbox.add(db, suspension(key, seq), key=key)


async def applied_all(applied: Applied, keys: list[UUID], count: int) -> bool:
    return all(len(applied[k]) >= count for k in keys)


async def test_events_written_while_the_broker_is_down_arrive_in_order_after_it_returns(stack, broker):
    keys, applied = [uuid4() for _ in range(5)], defaultdict(list)
    consumer = bus.Consumer(
        stack.settings("traceability"), stack.sessions("traceability"), recording_handlers(applied), name="test-order"
    )
    relay = Relay(stack.settings("kyc", relay_ack_timeout_seconds=1.0), stack.sessions("kyc"))
    async with running(relay.run, consumer.run):
        await write_events(stack, keys, range(0, 10))
        await eventually(lambda: applied_all(applied, keys, 10))
        broker.stop(kill=True)
        await write_events(stack, keys, range(10, 30))  # the service keeps accepting writes
        await asyncio.sleep(3.0)  # an outage longer than the relay's ack timeout (see README: embedded broker)
        broker.start()  # same port, empty: the memory broker lost every topic and offset
        await eventually(lambda: applied_all(applied, keys, 30), timeout=90)
        await write_events(stack, keys, range(30, 31))  # a marker behind any re-sent duplicate, per key
        await eventually(lambda: applied_all(applied, keys, 31))

    for k in keys:
        assert applied[k] == list(range(31)), str(applied[k])


async def test_a_broker_that_comes_back_empty_is_refilled_from_the_outbox(stack, broker):
    keys = [uuid4() for _ in range(3)]
    await write_events(stack, keys, range(0, 5))
    async with running(Relay(stack.settings("kyc"), stack.sessions("kyc")).run):
        await eventually(lambda: _pending_is_zero(stack))
    broker.stop()
    broker.start()  # the memory broker forgot every topic while no relay was running (a `make run` restart)
    assert await read_topic(broker.bootstrap, "kyc.events", timeout=2) == []

    async with running(Relay(stack.settings("kyc"), stack.sessions("kyc")).run):
        records = await read_topic(broker.bootstrap, "kyc.events", expect=15, timeout=30)

    seen: dict[str, list[int]] = defaultdict(list)
    for envelope in envelopes(records):
        seen[envelope.key].append(int(envelope.payload["reason"].removeprefix("seq-")))
    assert {k: seen[str(k)] for k in keys} == {k: list(range(5)) for k in keys}


async def test_a_relay_killed_between_publishing_and_marking_resends_and_the_consumer_applies_once(stack, broker):
    keys, applied = [uuid4() for _ in range(3)], defaultdict(list)
    await write_events(stack, keys, range(0, 5))

    crashed = subprocess.run(
        [sys.executable, "-m", "tests.support.crashing_relay", stack.database_urls["kyc"], broker.bootstrap],
        capture_output=True,
        timeout=60,
    )

    assert crashed.returncode == -9
    sent_before_the_kill = len(await read_topic(broker.bootstrap, "kyc.events", expect=5))
    assert sent_before_the_kill >= 5  # published (one claim covers some buckets)...
    assert await outbox.pending_count(stack.sessions("kyc")) == 15  # ...but never marked
    consumer = bus.Consumer(
        stack.settings("traceability"), stack.sessions("traceability"), recording_handlers(applied), name="test-resend"
    )
    async with running(Relay(stack.settings("kyc"), stack.sessions("kyc")).run, consumer.run):
        await eventually(lambda: _pending_is_zero(stack))
        await eventually(lambda: _processed(stack, "test-resend", 15))
        total = 15 + sent_before_the_kill
        assert len(await read_topic(broker.bootstrap, "kyc.events", expect=total)) == total  # resent
        await write_events(stack, keys, range(5, 6))  # a marker behind the resent batch, per key
        await eventually(lambda: applied_all(applied, keys, 6))
    assert {k: applied[k] for k in keys} == {k: list(range(6)) for k in keys}


async def test_a_poison_message_is_kept_as_a_dead_letter_and_the_events_behind_it_flow(stack, broker):
    poisoned, healthy, applied = uuid4(), uuid4(), defaultdict(list)
    settings = stack.settings("traceability", consumer_max_attempts=3)
    producer = bus.make_producer(settings)
    await producer.start()
    try:  # not a CloudEvent at all, on the same partition as what follows
        await producer.send_and_wait("kyc.events", value=b"\x00garbage", key=str(healthy).encode())
        # A well-formed event without an id, delivered twice: the SDK would make up a new id each time, so the inbox
        # could not tell the second from a new event; it is refused (a malformed message) and applied never.
        event = suspension(healthy, 7)
        envelope = Envelope(event_id="-", event_type=event.event_type(), source="/assay/kyc", key=str(healthy),
                            time=datetime.now(UTC), payload=event.model_dump_json().encode())  # fmt: skip
        message = envelope.to_kafka()
        headers = [(name, value) for name, value in message.headers.items() if name != "ce_id"]
        for _ in range(2):
            await producer.send_and_wait("kyc.events", value=message.value, key=str(healthy).encode(), headers=headers)
    finally:
        await producer.stop()
    await write_events(stack, [poisoned, healthy], range(0, 3))
    consumer = bus.Consumer(
        settings, stack.sessions("traceability"), recording_handlers(applied, fail_for={poisoned}), name="test-poison"
    )

    async with running(Relay(stack.settings("kyc"), stack.sessions("kyc")).run, consumer.run):
        await eventually(lambda: applied_all(applied, [healthy], 3))
        dead = await eventually(lambda: _dead_letters(stack, "test-poison", 6))

    assert applied[healthy] == [0, 1, 2] and applied[poisoned] == []
    assert sum(row.error.startswith("malformed") for row in dead) == 3
    failing = [row for row in dead if "cannot apply" in row.error]
    assert len(failing) == 3 and all(row.attempts == 3 for row in failing)
    assert [row.event_type for row in failing] == ["ActorSuspended.v1"] * 3


async def test_dead_letters_are_replayed_in_order_once_after_the_fix(stack, broker):
    poisoned, applied = uuid4(), defaultdict(list)
    settings = stack.settings("traceability", consumer_max_attempts=2)
    await write_events(stack, [poisoned], range(0, 3))
    broken = bus.Consumer(
        settings, stack.sessions("traceability"), recording_handlers(applied, fail_for={poisoned}), name="test-replay"
    )
    async with running(Relay(stack.settings("kyc"), stack.sessions("kyc")).run, broken.run):
        await eventually(lambda: _dead_letters(stack, "test-replay", 3))
    fixed = bus.Consumer(settings, stack.sessions("traceability"), recording_handlers(applied), name="test-replay")

    first = await deadletters.replay(fixed)
    again = await deadletters.replay(fixed)

    assert (first.replayed, first.failed, again.replayed) == (3, 0, 0)
    assert applied[poisoned] == [0, 1, 2]
    assert await deadletters.list_pending(stack.sessions("traceability"), consumer="test-replay") == []


async def test_a_database_outage_is_waited_out_and_nothing_is_dead_lettered(stack, broker):
    keys, applied = [uuid4() for _ in range(3)], defaultdict(list)
    settings = stack.settings("traceability", consumer_max_attempts=2)
    outage = {"left": 6}

    async def flaky(db, event: ActorSuspended) -> None:  # type: ignore[no-untyped-def]
        if outage["left"] > 0:  # the database drops the connection mid-transaction, six times
            outage["left"] -= 1
            raise sa.exc.OperationalError("SELECT 1", {}, ConnectionResetError("connection reset by peer"))
        applied[event.actor_id].append(int(event.reason.removeprefix("seq-")))

    consumer = bus.Consumer(settings, stack.sessions("traceability"), {ActorSuspended: flaky}, name="test-outage")
    await write_events(stack, keys, range(0, 4))
    async with running(Relay(stack.settings("kyc"), stack.sessions("kyc")).run, consumer.run):
        await eventually(lambda: applied_all(applied, keys, 4))

    assert {k: applied[k] for k in keys} == {k: list(range(4)) for k in keys}
    assert await deadletters.list_pending(stack.sessions("traceability"), consumer="test-outage") == []


async def test_an_unknown_event_type_or_version_is_skipped_and_counted(stack, broker):
    actor, applied = uuid4(), defaultdict(list)
    known = Envelope(
        event_id=str(uuid4()),
        event_type="ActorSuspended.v1",
        source="/assay/kyc",
        key=str(actor),
        time=None,
        payload=suspension(actor, 0).model_dump(mode="json"),
    )  # type: ignore[arg-type]
    from_the_future = Envelope(
        event_id=str(uuid4()),
        event_type="ActorSuspended.v9",
        source="/assay/kyc",
        key=str(actor),
        time=known.time,
        payload={"whatever": 1},
    )
    producer = bus.make_producer(stack.settings("kyc"))
    await producer.start()
    try:
        for envelope in (_timed(from_the_future), _timed(known)):
            message = envelope.to_kafka()
            await producer.send_and_wait(
                "kyc.events", value=message.value, key=message.key.encode(), headers=list(message.headers.items())
            )
    finally:
        await producer.stop()
    before = skipped("test-unknown", "unknown_type")
    consumer = bus.Consumer(
        stack.settings("traceability"), stack.sessions("traceability"), recording_handlers(applied), name="test-unknown"
    )

    async with running(consumer.run):
        await eventually(lambda: applied_all(applied, [actor], 1))

    assert skipped("test-unknown", "unknown_type") == before + 1


async def test_two_relays_at_once_lose_nothing_and_keep_order_per_key(stack, broker, row_locking):
    keys = [uuid4() for _ in range(20)]
    await write_events(stack, keys, range(0, 50))
    settings = stack.settings("kyc", relay_batch_size=100)

    async with running(Relay(settings, stack.sessions("kyc")).run, Relay(settings, stack.sessions("kyc")).run):
        await eventually(lambda: _pending_is_zero(stack))
    records = envelopes(await read_topic(broker.bootstrap, "kyc.events", expect=1000))

    seen: dict[str, list[int]] = defaultdict(list)
    for envelope in records:
        seen[envelope.key].append(int(envelope.payload["reason"].removeprefix("seq-")))
    assert len(records) >= 1000
    for key in keys:  # resends may repeat a suffix, never reorder what was first delivered
        first_seen = list(dict.fromkeys(seen[str(key)]))
        assert first_seen == list(range(50))


async def test_an_event_staged_in_a_failed_transaction_is_never_published(stack):
    class Boom(Exception):
        pass

    try:
        async with stack.sessions("kyc")() as db, db.begin():
            outbox.add(db, suspension(uuid4(), 0), key="k")
            raise Boom
    except Boom:
        pass
    async with stack.sessions("kyc")() as db:
        assert (await db.execute(sa.select(sa.func.count()).select_from(OutboxMessageRow))).scalar_one() == 0


def skipped(consumer: str, reason: str) -> float:
    """The skipped-events counter as a scrape would read it (prometheus_client's public registry API)."""
    value = REGISTRY.get_sample_value("assay_events_skipped_total", {"consumer": consumer, "reason": reason})
    return value or 0.0


def _timed(envelope: Envelope) -> Envelope:
    from libs.common.db import utcnow

    return Envelope(envelope.event_id, envelope.event_type, envelope.source, envelope.key, utcnow(), envelope.payload)


async def _pending_is_zero(stack) -> bool:  # type: ignore[no-untyped-def]
    return await outbox.pending_count(stack.sessions("kyc")) == 0


async def _processed(stack, consumer: str, count: int) -> bool:  # type: ignore[no-untyped-def]
    async with stack.sessions("traceability")() as db:
        found = (
            await db.execute(
                sa.select(sa.func.count()).select_from(ProcessedEventRow).where(ProcessedEventRow.consumer == consumer)
            )
        ).scalar_one()
    return found >= count


async def _dead_letters(stack, consumer: str, count: int) -> list:  # type: ignore[no-untyped-def]
    rows = await deadletters.list_pending(stack.sessions("traceability"), consumer=consumer)
    return rows if len(rows) >= count else []


async def test_an_idle_consumer_fetches_with_the_long_wait_and_a_busy_one_with_the_short(stack, broker):
    keys, applied = [uuid4()], defaultdict(list)
    settings = stack.settings("traceability", consumer_fetch_wait_ms=20, consumer_idle_fetch_wait_ms=400)
    consumer = bus.Consumer(settings, stack.sessions("traceability"), recording_handlers(applied), name="test-idle")

    def fetch_wait() -> int:  # aiokafka's private attribute the consumer tunes (pinned version)
        return consumer.consumer._fetcher._fetch_max_wait_ms  # type: ignore[union-attr]

    async with running(Relay(stack.settings("kyc"), stack.sessions("kyc")).run, consumer.run):
        await eventually(lambda: _is(consumer.consumer is not None and fetch_wait() == 400), timeout=30)
        await write_events(stack, keys, range(0, 3))
        await eventually(lambda: applied_all(applied, keys, 3))
        assert fetch_wait() == 20
        await eventually(lambda: _is(fetch_wait() == 400), timeout=30)


async def _is(value: bool) -> bool:
    return value
