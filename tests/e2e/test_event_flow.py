"""One event across services: kyc's outbox → relay → broker → traceability's consumer → its read model."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

import sqlalchemy as sa

from libs.common import bus, outbox
from libs.common.events.kyc import ActorApproved, ActorState, ActorSuspended
from libs.common.relay import Relay
from libs.common.tables import OutboxMessageRow, ProcessedEventRow
from services.traceability.handlers import HANDLERS as TRACEABILITY_HANDLERS
from services.traceability.tables import KnownActorRow
from tests.support.bus import eventually, read_topic, running


def state(actor_id: UUID, status: str, org: str = "org-a") -> ActorState:
    return ActorState(
        actor_id=actor_id,
        org_id=org,
        actor_type="trader",
        legal_name="Comptoir Minier de Goma",
        country="CD",
        kyc_status=status,
        risk_level="medium",
        next_review_date=date(2027, 11, 1),
    )


def approved(actor_id: UUID, org: str = "org-a", *, version: int = 1) -> ActorApproved:
    return ActorApproved(
        org_id=org,
        actor_id=actor_id,
        actor=state(actor_id, "approved", org),
        aggregate_version=version,
        approved_by="bob",
    )


def suspended(actor_id: UUID, *, version: int, reason: str = "audit") -> ActorSuspended:
    return ActorSuspended(
        org_id="org-a",
        actor_id=actor_id,
        actor=state(actor_id, "suspended"),
        aggregate_version=version,
        suspended_by="bob",
        reason=reason,
    )


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


async def test_a_duplicate_and_a_stale_resend_change_nothing(stack, broker):
    actor_id = uuid4()
    await stage(stack, (approved(actor_id, version=1), actor_id), (suspended(actor_id, version=2), actor_id))
    kyc = stack.settings("kyc")
    async with running(Relay(kyc, stack.sessions("kyc")).run):
        await eventually(lambda: _none_pending(stack))
    records = await read_topic(broker.bootstrap, "kyc.events", expect=2)
    # After the suspension: the approval again (same event id), the approval re-sent under a new id (stale version),
    # then a newer suspension as a marker. One key, one partition: once the marker is applied, the two before it
    # have been seen.
    await stage(stack, (approved(actor_id, version=1), actor_id))
    producer = bus.make_producer(kyc)
    await producer.start()
    try:
        await producer.send_and_wait(
            records[0].topic, value=records[0].value, key=records[0].key, headers=list(records[0].headers)
        )
    finally:
        await producer.stop()
    await stage(stack, (suspended(actor_id, version=3, reason="marker"), actor_id))

    consumer = bus.Consumer(stack.settings("traceability"), stack.sessions("traceability"), TRACEABILITY_HANDLERS)
    async with running(Relay(kyc, stack.sessions("kyc")).run, consumer.run):
        await eventually(lambda: _known_version(stack, actor_id, 3))

    assert await known_status(stack, actor_id) == "suspended"
    assert await _processed_count(stack, 0) == 4  # v1, v2, the stale re-send and v3: each id once


async def _known_version(stack, actor_id: UUID, version: int) -> bool:  # type: ignore[no-untyped-def]
    async with stack.sessions("traceability")() as db:
        row = await db.get(KnownActorRow, actor_id)
        return row is not None and row.version >= version


async def _none_pending(stack) -> bool:  # type: ignore[no-untyped-def]
    return await outbox.pending_count(stack.sessions("kyc")) == 0


async def _processed_count(stack, at_least: int) -> int:  # type: ignore[no-untyped-def]
    async with stack.sessions("traceability")() as db:
        count = (await db.execute(sa.select(sa.func.count()).select_from(ProcessedEventRow))).scalar_one()
    return count if count >= at_least else 0
