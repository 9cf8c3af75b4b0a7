"""A consumer batch holding several events of one actor, over the real broker: KYC's outbox → relay → broker →
scoring's consumer. Applied as one transaction (one rescoring after its last event) it leaves the read models and
scores exactly as applying the same records one at a time does, and what it publishes is a consistent chain of
ScoreChanged ending at that same state: fewer versions, never a different outcome."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa

from libs.common import bus, outbox
from libs.common.events import kyc
from libs.common.events.base import Event
from libs.common.relay import Relay
from services.scoring.risk.handlers import HANDLERS
from services.scoring.risk.tables import risk_actor, risk_hit, risk_score, risk_site
from tests.scoring.risk.events import ORG, actor_state, approved, score_changes, site_event, suspended
from tests.support.bus import eventually, read_topic, running
from tests.support.stack import truncate_all


@pytest.fixture
def broker(fresh_broker):  # type: ignore[no-untyped-def]
    """A broker of its own: kyc.events holds only this test's records."""
    return fresh_broker


def reinstated(actor_id: UUID, version: int) -> kyc.ActorReinstated:
    return kyc.ActorReinstated(
        org_id=ORG,
        actor_id=actor_id,
        aggregate_version=version,
        actor=actor_state(actor_id),
        reinstated_by="bob",
        reason="cleared",
    )


def hit_confirmed(actor_id: UUID, version: int, hit_id: UUID) -> kyc.HitConfirmed:
    return kyc.HitConfirmed(
        org_id=ORG,
        aggregate_version=version,
        hit_id=hit_id,
        actor_id=actor_id,
        actor=actor_state(actor_id, kyc_status="suspended"),
        subject_type="actor",
        subject_id=actor_id,
        list_name="UN",
        entry_id="UN-1",
        decided_by="bob",
        reason="same person",
    )


async def published(stack: Any, events: list[tuple[Event, UUID]]) -> list[bus.Delivery]:
    """The events as KYC's relay puts them on kyc.events, in the order each partition holds them."""
    async with stack.sessions("kyc")() as db, db.begin():
        for event, key in events:
            outbox.add(db, event, key=key)

    async def none_pending() -> bool:
        return await outbox.pending_count(stack.sessions("kyc")) == 0

    async with running(Relay(stack.settings("kyc"), stack.sessions("kyc")).run):
        await eventually(none_pending)
    records = await read_topic(stack.settings("kyc").kafka_bootstrap_servers, "kyc.events", expect=len(events))
    return [bus.Delivery.of(r) for r in sorted(records, key=lambda r: (r.partition, r.offset))]


async def state(stack: Any) -> dict[str, Any]:
    """What scoring keeps: its read models, and each subject's score as it stands (not how many versions led
    there, nor when it was computed)."""
    async with stack.engine("scoring").connect() as conn:
        actors = (await conn.execute(sa.select(risk_actor).order_by(risk_actor.c.actor_id))).all()
        hits = (await conn.execute(sa.select(risk_hit).order_by(risk_hit.c.hit_id))).all()
        sites = (await conn.execute(sa.select(risk_site).order_by(risk_site.c.site_id))).all()
        scores = (
            await conn.execute(
                sa.select(risk_score.c.subject_type, risk_score.c.subject_id, risk_score.c.score, risk_score.c.band)
                .add_columns(risk_score.c.factors)
                .order_by(risk_score.c.subject_type, risk_score.c.subject_id)
            )
        ).all()
    return {
        "actors": [tuple(r) for r in actors],
        "hits": [tuple(r) for r in hits],
        "sites": [tuple(r) for r in sites],
        "scores": [tuple(r) for r in scores],
    }


def by_subject(changes: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for change in changes:
        found[change["subject_id"]].append(change)
    return found


async def test_a_batch_of_several_events_per_actor_scores_as_one_event_at_a_time_would(stack: Any, broker: Any):
    a, b, site_id, hit_id = uuid4(), uuid4(), uuid4(), uuid4()
    events: list[tuple[Event, UUID]] = [
        (approved(a, 1), a),
        (approved(b, 1), b),
        (suspended(a, 2), a),
        (site_event(site_id, 1, status="red", operator=a), site_id),
        (reinstated(a, 3), a),
        (suspended(b, 2), b),
        (suspended(a, 4), a),
        (reinstated(b, 3), b),
        (hit_confirmed(a, 5, hit_id), a),
        (reinstated(a, 3), a),  # a late copy of an older state (another event): the guarded upsert keeps v5
    ]
    deliveries = await published(stack, events)
    consumer = bus.Consumer(stack.settings("scoring"), stack.sessions("scoring"), HANDLERS)
    partitions: dict[int, list[bus.Delivery]] = defaultdict(list)
    for delivery in deliveries:
        partitions[delivery.partition].append(delivery)

    # One transaction per partition, as the consumer applies what a fetch returned; a record delivered twice in
    # the batch, and the whole batch delivered again, are applied once.
    for batch in partitions.values():
        await consumer.process_batch([*batch, batch[0]])
    batched_state, batched = await state(stack), await score_changes(stack)
    for batch in partitions.values():
        await consumer.process_batch(batch)
    assert await state(stack) == batched_state and await score_changes(stack) == batched

    # The same records again on an empty scoring database, one transaction each.
    await truncate_all(stack.engine("scoring"), "scoring")
    for delivery in deliveries:
        prepared = await consumer.prepare(delivery)
        assert prepared is not None
        await consumer.apply_once(prepared)
    one_by_one_state, one_by_one = await state(stack), await score_changes(stack)

    assert batched_state == one_by_one_state
    [actor_a] = [r for r in batched_state["actors"] if r[0] == a]
    assert "suspended" in actor_a and 5 in actor_a  # kyc_status and version of the newest event, not the late v3
    batched_by, one_by_one_by = by_subject(batched), by_subject(one_by_one)
    assert set(batched_by) == set(one_by_one_by) == {str(a), str(b), str(site_id)}
    scores = {str(r[1]): r for r in batched_state["scores"]}
    for subject, chain in batched_by.items():
        # A chain of versions, each from the score the one before left, ending at the subject's score.
        assert [c["aggregate_version"] for c in chain] == list(range(1, len(chain) + 1))
        assert [(c["previous_score"], c["previous_band"]) for c in chain] == [(None, None)] + [
            (c["score"], c["band"]) for c in chain[:-1]
        ]
        last, alone = chain[-1], one_by_one_by[subject][-1]
        assert (last["score"], last["band"], last["factors"]) == (alone["score"], alone["band"], alone["factors"])
        assert (last["score"], last["band"], last["factors"]) == tuple(scores[subject][2:])
    # Actor a went low → critical → low → critical (and its hit) within the batch: one change, not four.
    assert len(batched_by[str(a)]) < len(one_by_one_by[str(a)])
