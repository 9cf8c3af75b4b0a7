"""Tag blocks go to a mine site or an actor the organisation has: an unknown or another organisation's id is refused
alike, and nothing is issued."""

from __future__ import annotations

from uuid import uuid4

import sqlalchemy as sa

from services.traceability.tables import TagRow
from tests.traceability.support import ORG, approved_actor, site


async def test_a_block_for_an_unknown_site_or_actor_is_refused_and_issues_nothing(stack):
    staff = stack.client("traceability", stack.token(org=ORG))
    known_site, known_actor = await site(stack), await approved_actor(stack)

    unknown_site = await staff.post(
        "/tag-blocks", json={"prefix": "N-", "first": 1, "count": 5, "site_id": str(uuid4())}
    )
    unknown_actor = await staff.post(
        "/tag-blocks", json={"prefix": "N-", "first": 1, "count": 5, "actor_id": str(uuid4())}
    )
    to_site = await staff.post("/tag-blocks", json={"prefix": "K-", "first": 1, "count": 2, "site_id": str(known_site)})
    to_actor = await staff.post(
        "/tag-blocks", json={"prefix": "A-", "first": 1, "count": 3, "actor_id": str(known_actor)}
    )

    assert (unknown_site.status_code, unknown_site.json()["code"]) == (422, "unknown_site")
    assert (unknown_actor.status_code, unknown_actor.json()["code"]) == (422, "unknown_actor")
    assert unknown_site.headers["content-type"] == "application/problem+json"
    assert [to_site.status_code, to_actor.status_code] == [201, 201]
    assert [to_site.json()["issued"], to_actor.json()["issued"]] == [2, 3]
    async with stack.sessions("traceability")() as db:
        tags = (await db.execute(sa.select(TagRow.tag))).scalars().all()
    assert not [tag for tag in tags if tag.startswith("N-")]


async def test_another_organisations_site_is_refused_as_an_unknown_one(stack):
    theirs = await site(stack)
    stranger = stack.client("traceability", stack.token(org="org-b"))

    foreign = await stranger.post("/tag-blocks", json={"prefix": "F-", "first": 1, "count": 1, "site_id": str(theirs)})
    unknown = await stranger.post("/tag-blocks", json={"prefix": "F-", "first": 1, "count": 1, "site_id": str(uuid4())})

    assert foreign.status_code == unknown.status_code == 422
    assert foreign.json()["code"] == unknown.json()["code"] == "unknown_site"
    assert str(theirs) in foreign.json()["detail"]  # the id it sent, nothing more of the other organisation
