"""The shipped default CAHRA table: loaded once at first start, followed by organisations without a table of their
own, and every change of the table in force re-evaluates the sites and actors it affects."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from services.kyc.domain.risk import DEFAULT_ORG, default_table
from services.kyc.tables.sites import RiskTableRow
from tests.kyc.register_support import (
    client,
    create_actor,
    history_actions,
    licence_body,
    move,
    payloads,
    person_body,
    run_jobs,
)

SOUTH_KIVU = {"area": "CD-SK", "level": "conflict_affected", "reason": "armed groups", "source": "operator, 2026"}
NORTH_KIVU = {"area": "CD-NK", "level": "conflict_affected", "reason": "armed groups", "source": "operator, 2026"}


def site_body(**fields: Any) -> dict[str, Any]:
    return {
        "name": "Kamituga Mwenga",
        "location": {"type": "Point", "coordinates": [28.18, -3.06]},
        "country": "CD",
        "region": "CD-SK",
        "minerals": ["7108"],
        **fields,
    }


async def approved_actor(stack) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A processor in CD-NK with an owner and a valid licence: low risk outside listed areas."""
    creator, approver = client(stack, "analyst", user="alice"), client(stack, "analyst", user="bob")
    actor = await create_actor(creator, actor_type="processor")
    await creator.post(f"/actors/{actor['id']}/persons", json=person_body())
    await creator.post(f"/actors/{actor['id']}/licences", json=licence_body())
    await move(creator, actor["id"], "submit")
    await move(approver, actor["id"], "start-review")
    await run_jobs(stack)
    response = await move(approver, actor["id"], "approve")
    assert response.status_code == 200, response.text
    return response.json()


async def load_default(stack) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return await run_jobs(stack, kyc_default_risk_table=True)


async def default_versions(stack) -> int:  # type: ignore[no-untyped-def]
    query = sa.select(sa.func.count()).select_from(RiskTableRow).where(RiskTableRow.org_id == DEFAULT_ORG)
    async with stack.sessions("kyc")() as db:
        return (await db.execute(query)).scalar_one()


def test_the_shipped_default_is_a_valid_table_that_says_what_it_is_derived_from():
    shipped = default_table()

    assert shipped.version >= 1 and date.fromisoformat(shipped.edition)
    assert {"CD", "CD-NK", "CD-SK"} <= {a.area for a in shipped.areas}
    assert all(a.reason and a.source for a in shipped.areas)
    assert shipped.as_table(now=__import__("datetime").datetime.now()).areas  # codes check (risk_table rules)


async def test_the_default_is_loaded_once_at_first_start_and_followed_by_an_organisation_without_a_table(stack):
    http = client(stack, "auditor")

    await load_default(stack)
    await load_default(stack)

    assert await default_versions(stack) == 1
    table = (await http.get("/risk-areas")).json()
    assert (table["version"], table["origin"]) == (default_table().version, "default")
    assert table["created_by"].startswith("assay default ")
    assert [(v["version"], v["origin"]) for v in (await http.get("/risk-areas/versions")).json()] == [(1, "default")]
    site = (await client(stack).post("/sites", json=site_body())).json()
    assert (site["area_risk"], site["risk_table_version"]) == ("high", 1)


async def test_sites_and_actors_registered_before_the_default_are_reassessed_when_it_loads(stack):
    actor = await approved_actor(stack)  # in CD-NK, assessed against no table: low
    site = (await client(stack).post("/sites", json=site_body())).json()
    assert (actor["risk_level"], site["area_risk"], site["risk_table_version"]) == ("low", "standard", None)

    ran = await load_default(stack)

    assert ran["kyc.default_risk_table"] == 2
    site_now = (await client(stack).get(f"/sites/{site['id']}")).json()
    actor_now = (await client(stack).get(f"/actors/{actor['id']}")).json()
    assert (site_now["area_risk"], site_now["risk_table_version"]) == ("high", 1)
    assert (actor_now["risk_level"], actor_now["risk_factors"], actor_now["risk_table_version"]) == (
        "high",
        ["high_risk_area"],
        1,
    )
    assert (actor_now["review_reason"], actor_now["next_review_date"]) == ("risk_raised", date.today().isoformat())
    [site_event] = [p for p in await payloads(stack, "MineSiteUpdated") if p["site_id"] == site["id"]]
    assert (
        site_event["changed_fields"] == ["area_risk", "risk_table_version"]
        and site_event["site"]["area_risk"] == "high"
    )
    updated = [
        p
        for p in await payloads(stack, "ActorUpdated")
        if p["changed_fields"] == ["risk_factors", "risk_level", "risk_table_version"]
    ]
    assert [p["actor"]["risk_level"] for p in updated] == ["high"]
    assert [p["reason"] for p in await payloads(stack, "ActorReviewRequested")] == ["risk_raised"]
    assert "area_risk_reassessed" in await history_actions(stack, actor["id"])


async def test_replacing_the_table_reassesses_the_sites_and_actors_whose_area_changed(stack):
    actor = await approved_actor(stack)  # CD-NK
    site = (await client(stack).post("/sites", json=site_body())).json()  # CD-SK
    reviewer = client(stack, "analyst", user="bob")

    assert (await reviewer.put("/risk-areas", json=[NORTH_KIVU])).status_code == 200
    site_v1 = (await reviewer.get(f"/sites/{site['id']}")).json()
    actor_v1 = (await reviewer.get(f"/actors/{actor['id']}")).json()
    assert (site_v1["area_risk"], site_v1["version"]) == ("standard", site["version"])  # South Kivu not listed
    assert (actor_v1["risk_level"], actor_v1["risk_table_version"], actor_v1["review_reason"]) == (
        "high",
        1,
        "risk_raised",
    )

    assert (await reviewer.put("/risk-areas", json=[SOUTH_KIVU])).status_code == 200
    site_v2 = (await reviewer.get(f"/sites/{site['id']}")).json()
    actor_v2 = (await reviewer.get(f"/actors/{actor['id']}")).json()
    assert (site_v2["area_risk"], site_v2["risk_table_version"]) == ("high", 2)
    assert (actor_v2["risk_level"], actor_v2["risk_factors"], actor_v2["risk_table_version"]) == ("low", [], 2)
    assert actor_v2["next_review_date"] == date.today().isoformat()  # a lower level keeps the review date
    history = (await reviewer.get(f"/sites/{site['id']}/history")).json()["items"]
    assert history[-1]["action"] == "area_risk_reassessed" and history[-1]["user_id"] == "bob"
    assert history[-1]["changes"]["area_risk"] == {"before": "standard", "after": "high"}


async def test_an_organisation_replacing_the_default_continues_its_versions_and_stops_following_it(stack):
    await load_default(stack)
    analyst = client(stack, "analyst")

    own = (await analyst.put("/risk-areas", json=[SOUTH_KIVU])).json()

    assert (own["version"], own["origin"]) == (2, "organisation")
    versions = (await analyst.get("/risk-areas/versions")).json()
    assert [(v["version"], v["origin"]) for v in versions] == [(2, "organisation"), (1, "default")]
    assert (await analyst.get("/risk-areas/versions/1")).json()["origin"] == "default"
    other = (await client(stack, "auditor", org="org-b").get("/risk-areas")).json()
    assert (other["version"], other["origin"]) == (1, "default")
