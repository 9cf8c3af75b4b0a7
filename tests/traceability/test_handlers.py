"""KYC's actors land in traceability's read model: an event in (twice, or late), state out (once, the newest)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa

from libs.common.events.kyc import (
    ActorApproved,
    ActorRegistered,
    ActorReinstated,
    ActorRejected,
    ActorReopened,
    ActorReviewStarted,
    ActorState,
    ActorSubmitted,
    ActorSuspended,
    ActorUpdated,
    KycEvent,
)
from libs.common.events.scoring import ScoreChanged, ScoreFactor
from services.traceability import handlers
from services.traceability.tables import KnownActorRow, KnownScoreRow


def state(actor_id: UUID, **overrides: Any) -> ActorState:
    values: dict[str, Any] = dict(
        actor_id=actor_id,
        org_id="org-a",
        actor_type="exporter",
        legal_name="Comptoir Kivu",
        country="CD",
        region="CD-NK",
        kyc_status="draft",
    )
    return ActorState(**{**values, **overrides})


def event(event_class: type[KycEvent], actor_id: UUID, version: int, **state_overrides: Any) -> KycEvent:
    """An event as KYC publishes it: the actor's state after the event, at `version`."""
    facts: dict[str, Any] = {
        ActorRegistered: {},
        ActorSubmitted: {"submitted_by": "alice"},
        ActorReviewStarted: {"reviewer": "bob"},
        ActorApproved: {"approved_by": "bob"},
        ActorRejected: {"rejected_by": "bob", "reason": "tax number missing"},
        ActorSuspended: {"suspended_by": "bob", "reason": "sanctions hit"},
        ActorReinstated: {"reinstated_by": "bob", "reason": "hit dismissed"},
        ActorReopened: {"reopened_by": "alice"},
        ActorUpdated: {"changed_fields": ["legal_name"]},
    }[event_class]
    return event_class(
        org_id="org-a", actor_id=actor_id, aggregate_version=version, actor=state(actor_id, **state_overrides), **facts
    )


async def deliver(stack, *events: KycEvent) -> None:  # type: ignore[no-untyped-def]
    """Each event in its own transaction, through the handler the consumer would call."""
    for item in events:
        async with stack.sessions("traceability")() as db, db.begin():
            await handlers.HANDLERS[type(item)](db, item)


async def known(stack, actor_id: UUID) -> KnownActorRow:  # type: ignore[no-untyped-def]
    async with stack.sessions("traceability")() as db:
        row = await db.get(KnownActorRow, actor_id)
    assert row is not None
    return row


async def test_an_older_event_delivered_after_a_newer_one_changes_nothing(stack):
    actor_id = uuid4()
    approved = event(ActorApproved, actor_id, 5, kyc_status="approved", risk_level="high")
    suspended = event(ActorSuspended, actor_id, 6, kyc_status="suspended", risk_level="high")
    await deliver(stack, approved, suspended)
    before = await known(stack, actor_id)

    await deliver(stack, approved, event(ActorRegistered, actor_id, 1, legal_name="Old Name"), suspended)

    after = await known(stack, actor_id)
    assert (after.kyc_status, after.legal_name, after.risk_level, after.version) == (
        "suspended",
        "Comptoir Kivu",
        "high",
        6,
    )
    assert after.updated_at == before.updated_at  # not even rewritten with the same values


async def test_a_first_event_that_is_not_the_registration_creates_the_copy(stack):
    actor_id = uuid4()

    await deliver(stack, event(ActorApproved, actor_id, 7, kyc_status="approved", risk_level="medium"))

    row = await known(stack, actor_id)
    assert (row.kyc_status, row.risk_level, row.version, row.country, row.region) == (
        "approved",
        "medium",
        7,
        "CD",
        "CD-NK",
    )


LIFECYCLE = [
    (ActorRegistered, "draft"),
    (ActorSubmitted, "submitted"),
    (ActorReviewStarted, "under_review"),
    (ActorRejected, "rejected"),
    (ActorReopened, "draft"),
    (ActorSubmitted, "submitted"),
    (ActorReviewStarted, "under_review"),
    (ActorApproved, "approved"),
    (ActorSuspended, "suspended"),
    (ActorReinstated, "approved"),
]


async def test_each_status_event_is_followed_reopen_included(stack):
    actor_id = uuid4()
    followed = []
    for version, (event_class, status) in enumerate(LIFECYCLE, start=1):
        await deliver(stack, event(event_class, actor_id, version, kyc_status=status))
        row = await known(stack, actor_id)
        followed.append((event_class.__name__, row.kyc_status, row.version))

    assert followed == [(c.__name__, s, v) for v, (c, s) in enumerate(LIFECYCLE, start=1)]


@pytest.mark.parametrize(
    "change",
    [
        {"legal_name": "Comptoir Minier du Kivu SA"},
        {"actor_type": "trader"},
        {"country": "RW", "region": None},
        {"region": "CD-SK"},
    ],
)
async def test_a_change_of_name_type_or_place_is_followed(stack, change):
    actor_id = uuid4()
    await deliver(stack, event(ActorRegistered, actor_id, 1))

    await deliver(stack, event(ActorUpdated, actor_id, 2, **change))

    row = await known(stack, actor_id)
    expected = {**state(actor_id).model_dump(), **change}
    assert {f: getattr(row, f) for f in change} == {f: expected[f] for f in change}
    assert (row.version, row.kyc_status) == (2, "draft")


async def test_the_same_event_twice_is_applied_once(stack):
    actor_id = uuid4()
    renamed = event(ActorUpdated, actor_id, 2, legal_name="Comptoir Kivu SARL")
    await deliver(stack, event(ActorRegistered, actor_id, 1), renamed)
    first = await known(stack, actor_id)

    await deliver(stack, renamed)

    again = await known(stack, actor_id)
    assert (again.legal_name, again.version, again.updated_at) == ("Comptoir Kivu SARL", 2, first.updated_at)


async def test_a_batch_in_one_transaction_keeps_the_newest_copy_of_each_actor(stack):
    """As the consumer applies a partition's batch: many events, one transaction, one write of the copies at commit."""
    stored, fresh = uuid4(), uuid4()
    await deliver(stack, event(ActorSuspended, stored, 9, kyc_status="suspended"))
    batch = [
        event(ActorApproved, fresh, 4, kyc_status="approved"),
        event(ActorSuspended, fresh, 6, kyc_status="suspended"),
        event(ActorReinstated, fresh, 5, kyc_status="approved"),  # late: older than the one before it
        event(ActorReinstated, stored, 8, kyc_status="approved"),  # older than the stored copy
    ]
    async with stack.sessions("traceability")() as db, db.begin():
        for item in batch:
            await handlers.HANDLERS[type(item)](db, item)

    assert ((await known(stack, fresh)).kyc_status, (await known(stack, fresh)).version) == ("suspended", 6)
    assert ((await known(stack, stored)).kyc_status, (await known(stack, stored)).version) == ("suspended", 9)


async def test_a_batch_rolled_back_writes_no_copy(stack):
    actor_id = uuid4()
    with pytest.raises(RuntimeError):
        async with stack.sessions("traceability")() as db, db.begin():
            await handlers.HANDLERS[ActorApproved](db, event(ActorApproved, actor_id, 4, kyc_status="approved"))
            raise RuntimeError("a later handler of the batch failed")
    async with stack.sessions("traceability")() as db:
        assert await db.get(KnownActorRow, actor_id) is None
    await deliver(stack, event(ActorApproved, actor_id, 4, kyc_status="approved"))  # the one-by-one retry
    assert (await known(stack, actor_id)).kyc_status == "approved"


def score_changed(subject_id: UUID, version: int, score: float) -> ScoreChanged:
    return ScoreChanged(
        org_id="org-a", subject_type="actor", subject_id=subject_id, aggregate_version=version, score=score,
        band="medium", factors=[ScoreFactor(factor="kyc_status", value="approved", contribution=score)],
        weights_version="w1", computed_at=datetime(2026, 12, 1, tzinfo=UTC),
    )  # fmt: skip


async def test_a_batch_of_scores_keeps_the_newest_of_each_subject_and_a_rollback_none(stack):
    stored, fresh, lost = uuid4(), uuid4(), uuid4()
    await deliver(stack, score_changed(stored, 7, 70.0))
    batch = [
        score_changed(fresh, 1, 10.0),
        score_changed(fresh, 3, 30.0),
        score_changed(fresh, 2, 20.0),  # late: older than the one before it
        score_changed(stored, 6, 60.0),  # older than the stored copy
    ]
    async with stack.sessions("traceability")() as db, db.begin():
        for item in batch:
            await handlers.HANDLERS[type(item)](db, item)
    with pytest.raises(RuntimeError):
        async with stack.sessions("traceability")() as db, db.begin():
            await handlers.HANDLERS[ScoreChanged](db, score_changed(lost, 1, 5.0))
            raise RuntimeError("a later handler of the batch failed")

    async with stack.sessions("traceability")() as db:
        rows = {row.subject_id: row for row in (await db.execute(sa.select(KnownScoreRow))).scalars()}
    assert (rows[fresh].score, rows[fresh].version) == (30.0, 3)
    assert (rows[stored].score, rows[stored].version) == (70.0, 7)
    assert lost not in rows
