"""One event across services: kyc's outbox → relay → broker → traceability's consumer → its read model."""
from __future__ import annotations

import asyncio
from datetime import date
from uuid import UUID, uuid4

import sqlalchemy as sa

from libs.common import bus, outbox
from libs.common.events.kyc import ActorApproved, ActorSuspended
from libs.common.relay import Relay
from libs.common.tables import OutboxMessageRow, ProcessedEventRow
from services.traceability.handlers import HANDLERS as TRACEABILITY_HANDLERS
from services.traceability.tables import KnownActorRow
from tests.support.bus import eventually, read_topic, running


def approved(actor_id: UUID, org: str = "org-a") -> ActorApproved:
    return ActorApproved(org_id=org, actor_id=actor_id, actor_type="trader", legal_name="Comptoir Minier de Goma",
                         country="CD", risk_level="medium", approved_by="bob", next_review_date=date(2027, 11, 1))


async def stage(stack, *events_with_keys) -> None:  # type: ignore[no-untyped-def]
    async with stack.sessions("kyc")() as db, db.begin():
        for event, key in events_with_keys:
            outbox.add(db, event, key=key)


async def known_status(stack, actor_id: UUID) -> str | None:  # type: ignore[no-untyped-def]
    async with stack.sessions("traceability")() as db:
        row = await db.get(KnownActorRow, actor_id)
        return row.kyc_status if row else None


async def test_an_approved_actor_reaches_traceabilitys_read_model(stack):
    actor_id = uuid4()
    await stage(stack, (approved(actor_id), actor_id))
    kyc, trace = stack.settings("kyc"), stack.settings("traceability")
    consumer = bus.Consumer(trace, stack.sessions("traceability"), TRACEABILITY_HANDLERS)

    async with running(Relay(kyc, stack.sessions("kyc")).run, consumer.run):
        assert await eventually(lambda: known_status(stack, actor_id)) == "approved"

    async with stack.sessions("kyc")() as db:
        published = (await db.execute(sa.select(OutboxMessageRow.published_at))).scalars().all()
    assert len(published) == 1 and published[0] is not None


async def test_the_same_event_delivered_twice_is_applied_once(stack, broker):
    actor_id = uuid4()
    await stage(stack, (approved(actor_id), actor_id), (ActorSuspended(org_id="org-a", actor_id=actor_id,
                                                                       suspended_by="bob", reason="audit"), actor_id))
    kyc = stack.settings("kyc")
    async with running(Relay(kyc, stack.sessions("kyc")).run):
        await eventually(lambda: _none_pending(stack))
    records = await read_topic(broker.bootstrap, "kyc.events", expect=2)
    producer = bus.make_producer(kyc)
    await producer.start()
    try:  # deliver the approval again, after the suspension: a stale duplicate must not undo the suspension
        await producer.send_and_wait(records[0].topic, value=records[0].value, key=records[0].key,
                                     headers=list(records[0].headers))
    finally:
        await producer.stop()

    consumer = bus.Consumer(stack.settings("traceability"), stack.sessions("traceability"), TRACEABILITY_HANDLERS)
    async with running(consumer.run):
        await eventually(lambda: _processed_count(stack, 2))
        await asyncio.sleep(1.0)  # give the duplicate time to arrive

    assert await known_status(stack, actor_id) == "suspended"
    assert await _processed_count(stack, 2) == 2


async def _none_pending(stack) -> bool:  # type: ignore[no-untyped-def]
    return await outbox.pending_count(stack.sessions("kyc")) == 0


async def _processed_count(stack, at_least: int) -> int:  # type: ignore[no-untyped-def]
    async with stack.sessions("traceability")() as db:
        count = (await db.execute(sa.select(sa.func.count()).select_from(ProcessedEventRow))).scalar_one()
    return count if count >= at_least else 0
