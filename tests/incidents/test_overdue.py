"""The overdue job: IncidentOverdue once per missed deadline, however often it runs; the list shows them."""

from __future__ import annotations

from datetime import timedelta

from libs.common import scheduler
from libs.common.db import utcnow
from services.incidents.jobs import overdue_job
from tests.incidents.steps import outbox_types, report_body


async def test_a_missed_verification_deadline_is_published_once(stack):
    settings = stack.settings("incidents")
    client = stack.client("incidents", stack.token(roles=("analyst",)))
    await client.post("/incidents", json=report_body())
    job = overdue_job(settings)
    later = utcnow() + timedelta(days=5)

    first = await scheduler.run_due(stack.sessions("incidents"), [job], now=later, force=True)
    second = await scheduler.run_due(stack.sessions("incidents"), [job], now=later, force=True)

    assert first == {"incidents.overdue": 1} and second == {"incidents.overdue": 0}
    assert await outbox_types(stack) == ["IncidentReported.v1", "IncidentOverdue.v1"]


async def test_nothing_is_overdue_before_its_deadline(stack):
    client = stack.client("incidents", stack.token(roles=("analyst",)))
    await client.post("/incidents", json=report_body())

    assert (await client.get("/deadlines/overdue")).json() == []
