"""The score endpoints: now, at a time, history, and another organisation's subject as 404."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from tests.scoring.risk.events import deliver, site_event


async def test_a_sites_score_at_a_time_is_the_one_in_force_then(stack):
    site_id = uuid4()
    await deliver(stack, site_event(site_id, 1, status="green"))
    between = datetime.now(UTC)
    await deliver(stack, site_event(site_id, 2, status="red"))
    client = stack.client("scoring", stack.token())

    then = await client.get(f"/scores/site/{site_id}", params={"at": between.isoformat()})
    now = await client.get(f"/scores/site/{site_id}")
    history = await client.get(f"/scores/site/{site_id}/history")
    before = await client.get(f"/scores/site/{site_id}", params={"at": "2000-01-01T00:00:00Z"})

    assert then.status_code == 200 and then.json()["version"] == 1 and then.json()["band"] == "low"
    assert now.json()["version"] == 2 and now.json()["band"] == "high"
    assert [item["version"] for item in history.json()["items"]] == [2, 1]
    assert before.status_code == 404 and before.json()["code"] == "score_not_found"


async def test_another_organisations_score_is_not_found(stack):
    site_id = uuid4()
    await deliver(stack, site_event(site_id, 1, status="red"))
    client = stack.client("scoring", stack.token(org="org-b"))

    for path in (f"/scores/site/{site_id}", f"/scores/site/{site_id}/history"):
        response = await client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_scores_need_a_token_and_a_known_subject_type(stack):
    anonymous = stack.client("scoring")
    client = stack.client("scoring", stack.token())

    assert (await anonymous.get(f"/scores/site/{uuid4()}")).status_code == 401
    assert (await client.get(f"/scores/planet/{uuid4()}")).status_code == 422
