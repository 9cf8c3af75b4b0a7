"""The public tag check: no login, rate-limited, and it tells whether a tag is real and its lot's status only."""

from __future__ import annotations

import logging

from tests.traceability.support import ORG, approved_actor, deliver, site, site_turned
from tests.traceability.test_custody import issue, move, new_lot

PUBLIC_FIELDS = {"issued", "lot_status"}


async def test_a_tag_answers_issued_and_its_lot_status_without_a_token(stack, caplog):
    staff = stack.client("traceability", stack.token(org=ORG))
    public = stack.client("traceability")  # no Authorization header
    sites = [await site(stack), await site(stack)]
    miner, trader, exporter = [await approved_actor(stack, kind) for kind in ("miner", "trader", "exporter")]
    await issue(staff, sites[0], "P-", count=5)
    await issue(staff, sites[1], "Q-", count=2)
    lots = [(await new_lot(staff, sites[0], miner, f"P-{n}")).json()["lot_id"] for n in (1, 2, 3)]
    await move(staff, lots[0], miner, trader, 100.0)
    await move(staff, lots[1], miner, trader, 100.0)
    merged = await staff.post("/transformations", json={"kind": "merge", "actor_id": str(trader),
        "input_lot_ids": lots[:2], "outputs": [{"mass": 200, "unit": "KGM"}]})  # fmt: skip
    assert merged.status_code == 201, merged.text
    sent = await staff.post(
        f"/lots/{lots[2]}/transfers", json={"from_actor_id": str(miner), "to_actor_id": str(exporter)}
    )
    assert sent.status_code == 201
    await new_lot(staff, sites[1], miner, "Q-1")
    await deliver(stack, site_turned(sites[1], "red", version=2))

    with caplog.at_level(logging.DEBUG):
        answers = {tag: await public.get(f"/public/tags/{tag}") for tag in ("P-1", "P-3", "P-4", "Q-1", "Q-2")}

    assert {tag: (r.status_code, r.json()) for tag, r in answers.items()} == {
        "P-1": (200, {"issued": True, "lot_status": "consumed"}),
        "P-3": (200, {"issued": True, "lot_status": "in_transit"}),
        "P-4": (200, {"issued": True, "lot_status": "unused"}),
        "Q-1": (200, {"issued": True, "lot_status": "blocked"}),
        "Q-2": (200, {"issued": True, "lot_status": "unused"}),  # a red site's unused tag is still a real tag
    }
    assert all(set(r.json()) == PUBLIC_FIELDS for r in answers.values())
    new = await new_lot(staff, sites[0], miner, "P-5")
    assert (await public.get("/public/tags/P-5")).json() == {"issued": True, "lot_status": "active"}
    assert new.json()["lot_id"] not in (await public.get("/public/tags/P-5")).text
    assert all("127.0.0.1" not in record.getMessage() for record in caplog.records)


async def test_an_unknown_or_other_organisations_tag_is_one_404(stack):
    other = stack.client("traceability", stack.token(org="org-b"))
    public = stack.client("traceability")
    staff = stack.client("traceability", stack.token(org=ORG))
    await issue(staff, await site(stack), "U-", count=1)
    # org-b asking for a block over the same numbers gets none of them: tags are unique across organisations
    theirs = await approved_actor(stack, org="org-b")
    taken = await other.post("/tag-blocks", json={"prefix": "U-", "first": 1, "count": 1, "actor_id": str(theirs)})
    assert taken.json()["issued"] == 0

    never = await public.get("/public/tags/NEVER-1")
    foreign = await other.get("/public/tags/NEVER-1")  # a token changes nothing either

    for response in (never, foreign):
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "tag_unknown"
    assert never.json() == foreign.json()
    assert (await other.get("/public/tags/U-1")).json() == {"issued": True, "lot_status": "unused"}


async def test_the_check_is_rate_limited_per_client_with_a_problem(stack):
    public = stack.client("traceability", public_tag_rate_per_minute=3)

    answers = [await public.get("/public/tags/NOPE") for _ in range(4)]

    assert [r.status_code for r in answers] == [404, 404, 404, 429]
    assert answers[-1].headers["content-type"].startswith("application/problem+json")
    assert answers[-1].json()["code"] == "too_many_requests"
