"""The country/region risk table: versions, no-op replacements, validation, org scoping, and area_risk."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from libs.common.tables import OutboxMessageRow
from services.kyc.repository import risk
from services.kyc.tables.register import AuditEntryRow
from services.kyc.tables.sites import RiskTableRow

NORTH_KIVU = {
    "area": "CD-NK",
    "level": "conflict_affected",
    "reason": "armed groups control mining areas",
    "source": "EU indicative CAHRA list, 2025",
}
CAR = {"area": "CF", "level": "high_risk", "reason": "sanctions regime", "source": "UN SC 2127"}


def client(stack, *, org: str = "org-a", roles: tuple[str, ...] = ("analyst",)):  # type: ignore[no-untyped-def]
    return stack.client("kyc", stack.token(org=org, roles=roles, user="ana"))


async def risk_events(stack) -> list[tuple[str, dict[str, Any]]]:  # type: ignore[no-untyped-def]
    async with stack.sessions("kyc")() as db:
        rows = (
            (
                await db.execute(
                    sa.select(OutboxMessageRow)
                    .where(OutboxMessageRow.event_type == "RiskTableChanged.v1")
                    .order_by(OutboxMessageRow.id)
                )
            )
            .scalars()
            .all()
        )
    return [(r.key, json.loads(r.payload)) for r in rows]


async def test_before_any_table_nothing_is_listed(stack):
    response = await client(stack, roles=("auditor",)).get("/risk-areas")

    assert response.status_code == 200
    assert response.json() == {"version": None, "origin": None, "created_at": None, "created_by": None, "areas": []}
    assert (await client(stack).get("/risk-areas/versions")).json() == []


async def test_replacing_the_table_creates_the_next_version_and_publishes_risk_table_changed(stack):
    analyst = client(stack)

    first = await analyst.put("/risk-areas", json=[NORTH_KIVU, CAR])
    second = await analyst.put("/risk-areas", json=[CAR])

    assert first.status_code == 200 and first.headers["X-Risk-Table-Changed"] == "true"
    assert first.json()["version"] == 1 and [a["area"] for a in first.json()["areas"]] == ["CD-NK", "CF"]
    assert second.json()["version"] == 2
    assert await risk_events(stack) == [
        ("org-a", {"org_id": "org-a", "aggregate_version": 1, "table_version": 1, "areas": ["CD-NK", "CF"]}),
        ("org-a", {"org_id": "org-a", "aggregate_version": 2, "table_version": 2, "areas": ["CF"]}),
    ]
    in_force = (await analyst.get("/risk-areas")).json()
    assert in_force["version"] == 2 and in_force["created_by"] == "ana" and in_force["areas"] == [CAR]
    assert [v["version"] for v in (await analyst.get("/risk-areas/versions")).json()] == [2, 1]
    assert (await analyst.get("/risk-areas/versions/1")).json()["areas"] == [NORTH_KIVU, CAR]
    async with stack.sessions("kyc")() as db:
        audit = (
            (
                await db.execute(
                    sa.select(AuditEntryRow.changes)
                    .where(AuditEntryRow.entity_type == "risk_table")
                    .order_by(AuditEntryRow.at)
                )
            )
            .scalars()
            .all()
        )
    assert audit[-1] == {"added": [], "removed": ["CD-NK"], "changed": []}


async def test_an_unchanged_table_does_not_create_a_version(stack):
    analyst = client(stack)
    await analyst.put("/risk-areas", json=[NORTH_KIVU, CAR])

    again = await analyst.put("/risk-areas", json=[{**CAR, "area": "cf", "reason": f"  {CAR['reason']} "}, NORTH_KIVU])

    assert again.status_code == 200 and again.headers["X-Risk-Table-Changed"] == "false"
    assert again.json()["version"] == 1
    assert len(await risk_events(stack)) == 1
    assert [v["version"] for v in (await analyst.get("/risk-areas/versions")).json()] == [1]


async def test_a_changed_reason_is_a_new_version(stack):
    analyst = client(stack)
    await analyst.put("/risk-areas", json=[NORTH_KIVU])

    changed = await analyst.put("/risk-areas", json=[{**NORTH_KIVU, "level": "high_risk"}])

    assert changed.json()["version"] == 2


@pytest.mark.parametrize(
    "entry, code",
    [
        ({**CAR, "area": "XX"}, "unknown_country"),
        ({**CAR, "area": "CD-XX"}, "unknown_region"),
        ({**CAR, "area": "RW-NK"}, "unknown_region"),
        ({**CAR, "level": "medium"}, "validation_error"),
        ({**CAR, "reason": "  "}, "validation_error"),
        ({**CAR, "source": "bad\x00byte"}, "validation_error"),
    ],
)
async def test_bad_entries_are_problems_and_keep_the_version_in_force(stack, entry, code):  # type: ignore[no-untyped-def]
    analyst = client(stack)
    await analyst.put("/risk-areas", json=[NORTH_KIVU])

    response = await analyst.put("/risk-areas", json=[NORTH_KIVU, entry])

    assert (response.status_code, response.json()["code"]) == (422, code)
    assert (await analyst.get("/risk-areas")).json()["version"] == 1


async def test_an_area_listed_twice_is_refused(stack):
    response = await client(stack).put("/risk-areas", json=[NORTH_KIVU, {**NORTH_KIVU, "area": "cd-nk"}])

    assert (response.status_code, response.json()["code"]) == (422, "duplicate_area")
    async with stack.sessions("kyc")() as db:
        assert (await db.execute(sa.select(sa.func.count()).select_from(RiskTableRow))).scalar_one() == 0


async def test_only_reviewers_of_an_operator_replace_the_table(stack):
    for roles in (("field_agent",), ("auditor",)):
        assert (await client(stack, roles=roles).put("/risk-areas", json=[CAR])).status_code == 403
    partner = stack.client("kyc", stack.token(org="org-p", kind="partner", roles=("admin",)))
    assert (await partner.put("/risk-areas", json=[CAR])).status_code == 403


async def test_each_organisation_has_its_own_table(stack):
    await client(stack, org="org-b").put("/risk-areas", json=[CAR])

    assert (await client(stack).get("/risk-areas")).json()["version"] is None
    assert (await client(stack).get("/risk-areas/versions/1")).status_code == 404
    assert (await client(stack, org="org-b").get("/risk-areas/versions/1")).status_code == 200


async def test_area_risk_reads_the_version_in_force(stack):
    analyst = client(stack)
    async with stack.sessions("kyc")() as db:
        assert await risk.area_risk(db, org_id="org-a", country="CD", region="CD-NK") == ("standard", None)
    await analyst.put("/risk-areas", json=[NORTH_KIVU])
    await analyst.put("/risk-areas", json=[NORTH_KIVU, {**CAR, "area": "CF"}])

    async with stack.sessions("kyc")() as db:
        assert await risk.area_risk(db, org_id="org-a", country="CD", region="CD-NK") == ("high", 2)
        assert await risk.area_risk(db, org_id="org-a", country="CD", region="CD-SK") == ("standard", 2)
        assert await risk.area_risk(db, org_id="org-a", country="CD", region=None) == ("standard", 2)
        assert await risk.area_risk(db, org_id="org-a", country="CF", region="CF-BGF") == ("high", 2)
        assert await risk.area_risk(db, org_id="org-b", country="CF", region=None) == ("standard", None)
