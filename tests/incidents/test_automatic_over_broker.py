"""Automatic incidents over the real broker: KYC's and traceability's outboxes → relay → broker → the incidents
worker's consumer (its real handler map). A record delivered twice opens one incident, linked to its cause; the same
cause firing again updates it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa
from aiokafka import ConsumerRecord

from libs.common import bus, outbox
from libs.common.events.base import Event
from libs.common.events.traceability import CustodyAnomalyDetected
from libs.common.relay import Relay
from services.incidents.main import HANDLERS
from services.incidents.tables import IncidentCauseRow, IncidentRow
from tests.incidents.steps import outbox_types
from tests.incidents.test_handlers import hit_confirmed
from tests.support.bus import envelopes, eventually, read_topic, running


@pytest.fixture
def broker(fresh_broker):  # type: ignore[no-untyped-def]
    """A broker of its own: its topics hold only this test's records."""
    return fresh_broker


async def stage(stack: Any, service: str, event: Event, key: UUID) -> None:
    async with stack.sessions(service)() as db, db.begin():
        outbox.add(db, event, key=key)


async def publish(stack: Any, service: str) -> None:
    async def none_pending() -> bool:
        return await outbox.pending_count(stack.sessions(service)) == 0

    async with running(Relay(stack.settings(service), stack.sessions(service)).run):
        await eventually(none_pending)


async def send_again(stack: Any, record: ConsumerRecord) -> None:
    """The same record once more (same CloudEvent id), as a producer retry or a relay crash after the send does."""
    producer = bus.make_producer(stack.settings("kyc"))
    await producer.start()
    try:
        await producer.send_and_wait(record.topic, value=record.value, key=record.key, headers=list(record.headers))
    finally:
        await producer.stop()


async def incidents(stack: Any) -> list[Any]:
    async with stack.engine("incidents").connect() as conn:
        return list(
            (await conn.execute(sa.select(IncidentRow.__table__).order_by(IncidentRow.__table__.c.cause))).all()
        )


async def causes(stack: Any) -> list[Any]:
    async with stack.engine("incidents").connect() as conn:
        return list((await conn.execute(sa.select(IncidentCauseRow.__table__))).all())


async def test_automatic_incidents_through_the_broker_once_per_cause(stack: Any, broker: Any) -> None:
    actor_id, hit_id, anomaly_id, lot_id = uuid4(), uuid4(), uuid4(), uuid4()
    anomaly = CustodyAnomalyDetected(
        org_id="org-a",
        anomaly_id=anomaly_id,
        kind="tag_reuse",
        detail="tag T-1 used twice",
        lot_ids=[lot_id],
        detected_at=datetime.now(UTC),
    )
    await stage(stack, "kyc", hit_confirmed(hit_id, actor_id), actor_id)
    await stage(stack, "traceability", anomaly, lot_id)
    await publish(stack, "kyc")
    await publish(stack, "traceability")
    [hit_record] = await read_topic(broker.bootstrap, "kyc.events", expect=1)
    [anomaly_record] = await read_topic(broker.bootstrap, "traceability.events", expect=1)
    await send_again(stack, hit_record)  # each record is on the broker twice, under one event id
    await send_again(stack, anomaly_record)
    # Behind each duplicate, on the same key (so the same partition): the same hit firing again (a new event), and
    # another anomaly of the same lot as a marker. Once both are applied, both duplicates have been consumed.
    await stage(stack, "kyc", hit_confirmed(hit_id, actor_id, version=4), actor_id)
    marker_id = uuid4()
    marker = anomaly.model_copy(update={"anomaly_id": marker_id, "kind": "custody_jump", "detail": "marker"})
    await stage(stack, "traceability", marker, lot_id)

    async def settled() -> bool:
        rows = await incidents(stack)
        hit = [r for r in rows if r.cause == f"kyc.hit:{hit_id}"]
        return len(rows) == 3 and bool(hit) and hit[0].version >= 2

    consumer = bus.Consumer(stack.settings("incidents"), stack.sessions("incidents"), HANDLERS)
    relays = [Relay(stack.settings(s), stack.sessions(s)).run for s in ("kyc", "traceability")]
    async with running(*relays, consumer.run):
        await eventually(settled, timeout=60)

    on_kyc = [e.event_id for e in envelopes(await read_topic(broker.bootstrap, "kyc.events", expect=3))]
    on_traceability = [
        e.event_id for e in envelopes(await read_topic(broker.bootstrap, "traceability.events", expect=3))
    ]
    assert on_kyc[0] == on_kyc[1] != on_kyc[2] and on_traceability[0] == on_traceability[1] != on_traceability[2]

    by_cause = {r.cause: r for r in await incidents(stack)}
    hit = by_cause[f"kyc.hit:{hit_id}"]
    anomaly_row = by_cause[f"traceability.anomaly:{anomaly_id}"]
    marker_row = by_cause[f"traceability.anomaly:{marker_id}"]
    assert (hit.source, hit.cause, hit.category) == (
        "automatic",
        f"kyc.hit:{hit_id}",
        "money_laundering.sanctions_match",
    )
    assert hit.actor_ids == [str(actor_id)]
    assert hit.version == 2  # reported, then updated once by the second firing; the duplicate changed nothing
    assert (anomaly_row.cause, anomaly_row.lot_ids) == (f"traceability.anomaly:{anomaly_id}", [str(lot_id)])
    assert anomaly_row.version == 1  # delivered twice, one effect
    assert sorted((c.cause, c.incident_id) for c in await causes(stack)) == sorted(
        (r.cause, r.id) for r in (hit, anomaly_row, marker_row)
    )
    assert sorted(await outbox_types(stack)) == ["IncidentReported.v1"] * 3 + ["IncidentUpdated.v1"]
