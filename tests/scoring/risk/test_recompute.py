"""The full recompute: asked for by an admin, run by the worker's job, scoped to the organisation; and read
models fed in another order end in the same scores."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import sqlalchemy as sa

from services.scoring.risk import recompute
from services.scoring.risk.tables import risk_score, risk_score_history
from tests.scoring.risk.events import approved, deliver, incident, lot_created, score_changes, site_event, suspended


async def scores(stack) -> dict[tuple[str, str], tuple[float, str]]:  # type: ignore[no-untyped-def]
    async with stack.sessions("scoring")() as db:
        rows = await db.execute(sa.select(risk_score))
    return {(r.subject_type, str(r.subject_id)): (r.score, r.band) for r in rows}


async def test_an_admin_asks_for_a_recompute_and_the_job_rescores_the_organisations_subjects(stack):
    site_id = uuid4()
    await deliver(stack, site_event(site_id, 1, status="red"))
    async with stack.sessions("scoring")() as db, db.begin():
        await db.execute(sa.delete(risk_score_history))  # as if the scores were lost
        await db.execute(sa.delete(risk_score))
    client = stack.client("scoring", stack.token())

    asked = await client.post("/scores/recompute")
    assert asked.status_code == 202, asked.text
    async with stack.sessions("scoring")() as db, db.begin():
        changed = await recompute.run_recompute_request(db, datetime.now(UTC))
    done = await client.get(f"/scores/recompute/{asked.json()['request_id']}")

    assert asked.status_code == 202, asked.text
    assert changed == 1
    assert done.json()["finished_at"] is not None and done.json()["changed"] == {"actor": 0, "site": 1, "lot": 0}
    assert (await client.get(f"/scores/site/{site_id}")).json()["band"] == "high"


async def test_only_an_admin_asks_for_a_recompute_and_another_organisation_cannot_read_it(stack):
    admin, analyst = stack.client("scoring", stack.token()), stack.client("scoring", stack.token(roles=("analyst",)))
    asked = await admin.post("/scores/recompute")
    foreign = stack.client("scoring", stack.token(org="org-b"))

    assert (await analyst.post("/scores/recompute")).status_code == 403
    assert (await foreign.get(f"/scores/recompute/{asked.json()['request_id']}")).status_code == 404


async def test_events_in_another_order_end_in_the_same_scores(stack):
    actor_id, site_id, lot_id, incident_id = uuid4(), uuid4(), uuid4(), uuid4()
    events = [
        approved(actor_id, 1),
        suspended(actor_id, 2),
        site_event(site_id, 1, operator=actor_id),
        site_event(site_id, 2, status="yellow", operator=actor_id),
        lot_created(lot_id, sites=[site_id], producer=actor_id),
        incident(incident_id, 1, site_ids=[site_id]),
        incident(incident_id, 2, status="closed", site_ids=[site_id]),
    ]
    await deliver(stack, *events)
    in_order = await scores(stack)
    await stack.close()  # truncates, as a rebuild from the topics starts

    await deliver(stack, *reversed(events))
    await recompute.recompute_all(stack.sessions("scoring"))

    assert await scores(stack) == in_order
    assert await score_changes(stack)  # and the rebuild told the others
