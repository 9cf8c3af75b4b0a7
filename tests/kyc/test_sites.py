"""Mine sites over HTTP: registration, edits, inspections, status lapses by the job, events and org scoping."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa

from libs.common import scheduler
from libs.common.db import utcnow
from libs.common.events import Envelope
from libs.common.relay import Relay
from libs.common.tables import OutboxMessageRow
from services.kyc.domain.sites import SiteStatus, add_years, effective_status
from services.kyc.jobs import jobs
from services.kyc.repository import sites as site_repository
from services.kyc.tables.sites import MineSiteRow, SiteStatusChangeRow
from tests.support.bus import eventually, read_topic, running

KIVU_POLYGON = {
    "type": "Polygon",
    "coordinates": [[[28.0, -3.0], [28.1, -3.0], [28.1, -2.9], [28.0, -2.9], [28.0, -3.0]]],
}
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def broker(fresh_broker):  # type: ignore[no-untyped-def]
    """Each test gets a broker of its own, so the topic holds only that test's records."""
    return fresh_broker


def new_site(**fields: Any) -> dict[str, Any]:
    return {
        "name": "Kamituga Mwenga",
        "location": {"type": "Point", "coordinates": [28.18, -3.06]},
        "country": "CD",
        "region": "CD-SK",
        "minerals": ["7108"],
        "capacity_kg_per_month": 12.5,
        **fields,
    }


def inspection(**fields: Any) -> dict[str, Any]:
    return {
        "inspection_date": utcnow().date().isoformat(),
        "inspector": "J. Mukendi",
        "agency": "SAEMAPE",
        "result": "green",
        **fields,
    }


def client(stack, *, org: str = "org-a", roles: tuple[str, ...] = ("admin",), kind: str = "operator", **settings: Any):  # type: ignore[no-untyped-def]
    return stack.client("kyc", stack.token(org=org, roles=roles, kind=kind, user=f"user-{roles[0]}"), **settings)


async def register(stack, org: str = "org-a", **fields: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = await client(stack, org=org).post("/sites", json=new_site(**fields))
    assert response.status_code == 201, response.text
    return response.json()


async def outbox(stack, *types: str) -> list[tuple[str, str, dict[str, Any]]]:  # type: ignore[no-untyped-def]
    async with stack.sessions("kyc")() as db:
        rows = (await db.execute(sa.select(OutboxMessageRow).order_by(OutboxMessageRow.id))).scalars().all()
    return [(r.event_type, r.key, json.loads(r.payload)) for r in rows if not types or r.event_type in types]


async def count(stack, table) -> int:  # type: ignore[no-untyped-def]
    async with stack.sessions("kyc")() as db:
        return (await db.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()


async def test_a_registered_site_starts_blue_and_publishes_mine_site_registered(stack):
    site = await register(stack)

    today = utcnow().date()
    assert site["status"] == "blue" and site["status_since"] == today.isoformat()
    assert site["next_transition"] == {
        "date": add_years(today, 3).isoformat(),
        "status": "red",
        "reason": "blue_expired",
    }
    assert site["capacity_kg_per_month"] == 12.5 and site["minerals"] == ["7108"]
    [(event_type, key, payload)] = await outbox(stack)
    assert (event_type, key) == ("MineSiteRegistered.v1", site["id"])
    assert payload["aggregate_version"] == 1
    state = payload["site"]
    assert state["status"] == "blue" and state["capacity_kg_per_month"] == 12.5 and state["region"] == "CD-SK"
    assert state["status_since_date"] == today.isoformat() and state["name"] == site["name"]
    assert (state["latitude"], state["longitude"]) == tuple(reversed(site["location"]["coordinates"]))
    history = (await client(stack).get(f"/sites/{site['id']}/status-history")).json()
    assert [(h["previous_status"], h["status"], h["reason"]) for h in history] == [(None, "blue", "registered")]
    audit = (await client(stack).get(f"/sites/{site['id']}/history")).json()
    assert [(e["action"], e["user_id"]) for e in audit["items"]] == [("registered", "user-admin")]


async def test_a_polygon_location_is_kept_normalised(stack):
    site = await register(stack, location={**KIVU_POLYGON, "bbox": [28, -3, 28.1, -2.9]})

    assert site["location"] == KIVU_POLYGON
    [(_, _, payload)] = await outbox(stack)  # the point the mine list shows: inside the boundary
    assert 28.0 < payload["site"]["longitude"] < 28.1 and -3.0 < payload["site"]["latitude"] < -2.9


@pytest.mark.parametrize(
    "location, reason",
    [
        ({"type": "Point", "coordinates": [200, 0]}, "longitude"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "not closed"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}, "Self-intersection"),
        ({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, "type must be one of"),
        ({"type": "MultiPolygon", "coordinates": []}, "empty"),
        ("28.1,-3.0", "geometry object"),
    ],
)
async def test_invalid_geojson_is_a_problem_and_writes_nothing(stack, location, reason):  # type: ignore[no-untyped-def]
    response = await client(stack).post("/sites", json=new_site(location=location))

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "invalid_geojson" and reason in response.json()["reason"]
    assert await count(stack, MineSiteRow) == 0 and await outbox(stack) == []


@pytest.mark.parametrize(
    "fields, code",
    [
        ({"country": "XX"}, "unknown_country"),
        ({"country": "CD", "region": "CD-ZZ"}, "unknown_region"),
        ({"country": "RW", "region": "CD-SK"}, "region_country_mismatch"),
        ({"minerals": ["gold"]}, "invalid_hs_code"),
        ({"operator_actor_id": str(uuid4())}, "unknown_actor"),
    ],
)
async def test_bad_site_fields_are_clear_problems(stack, fields, code):  # type: ignore[no-untyped-def]
    response = await client(stack).post("/sites", json=new_site(**fields))

    assert (response.status_code, response.json()["code"]) == (422, code)
    assert await count(stack, MineSiteRow) == 0


async def test_a_capacity_of_zero_is_refused(stack):
    response = await client(stack).post("/sites", json=new_site(capacity_kg_per_month=0))

    assert response.status_code == 422


async def test_the_operator_must_be_an_actor_of_the_callers_organisation(stack):
    actor = await client(stack, org="org-b").post(
        "/actors", json={"actor_type": "cooperative", "legal_name": "Coopérative Minière de Kamituga", "country": "CD"}
    )
    assert actor.status_code == 201, actor.text
    own = await client(stack).post(
        "/actors", json={"actor_type": "cooperative", "legal_name": "COMIKA", "country": "CD"}
    )

    foreign = await client(stack).post("/sites", json=new_site(operator_actor_id=actor.json()["id"]))
    mine = await client(stack).post("/sites", json=new_site(operator_actor_id=own.json()["id"]))

    assert (foreign.status_code, foreign.json()["code"]) == (422, "unknown_actor")
    assert mine.status_code == 201 and mine.json()["operator_actor_id"] == own.json()["id"]


async def test_another_organisations_site_is_not_found(stack):
    site = await register(stack, org="org-b")
    other = client(stack)

    for response in (
        await other.get(f"/sites/{site['id']}"),
        await other.patch(f"/sites/{site['id']}", json={"name": "taken", "version": 1}),
        await other.post(f"/sites/{site['id']}/inspections", json=inspection()),
        await other.get(f"/sites/{site['id']}/inspections"),
        await other.get(f"/sites/{site['id']}/status-history"),
        await other.get(f"/sites/{site['id']}/history"),
    ):
        assert response.status_code == 404, response.text
    assert (await other.get("/sites")).json()["total"] == 0


async def test_roles_and_organisation_kinds(stack):
    site = await register(stack)

    assert (await client(stack, roles=("auditor",)).get(f"/sites/{site['id']}")).status_code == 200
    assert (await client(stack, roles=("auditor",)).post("/sites", json=new_site())).status_code == 403
    assert (await client(stack, roles=("field_agent",)).post("/sites", json=new_site())).status_code == 201
    assert (
        await client(stack, roles=("field_agent",)).post(f"/sites/{site['id']}/inspections", json=inspection())
    ).status_code == 403
    partner = await client(stack, kind="partner").post("/sites", json=new_site())
    assert (partner.status_code, partner.json()["code"]) == (403, "operator_only")


async def test_sites_are_listed_with_filters_and_pages(stack):
    a = await register(stack, name="A site", minerals=["7108.12"])
    b = await register(
        stack,
        name="B site",
        country="RW",
        region=None,
        minerals=["2615.90"],
        location={"type": "Point", "coordinates": [29.74, -1.99]},  # Rutongo, Rwanda
    )
    c = await register(stack, name="C site", minerals=["8001", "7108"])
    await register(stack, org="org-b", name="Foreign site")
    await client(stack).post(f"/sites/{c['id']}/inspections", json=inspection(result="yellow"))
    sites = client(stack)

    async def names(**params: Any) -> list[str]:
        page = (await sites.get("/sites", params=params)).json()
        return [s["name"] for s in page["items"]]

    assert await names() == ["A site", "B site", "C site"]
    assert await names(status="blue") == ["A site", "B site"]
    assert await names(status="yellow") == ["C site"]
    assert await names(country="rw") == ["B site"]
    assert await names(mineral="7108") == ["A site", "C site"]  # a heading finds its subheadings
    assert await names(mineral="710812") == ["A site"]
    assert await names(limit=1, offset=1) == ["B site"]
    assert (await sites.get("/sites", params={"limit": 1})).json()["total"] == 3
    assert (await sites.get("/sites", params={"country": "XX"})).json()["code"] == "unknown_country"
    assert (await sites.get("/sites", params={"mineral": "71081"})).json()["code"] == "invalid_hs_code"
    assert a["id"] != b["id"]


async def test_editing_a_site_publishes_mine_site_updated_once(stack):
    site = await register(stack)
    sites = client(stack)

    edited = await sites.patch(
        f"/sites/{site['id']}", json={"name": "Kamituga II", "capacity_kg_per_month": 30, "region": None, "version": 1}
    )
    unchanged = await sites.patch(f"/sites/{site['id']}", json={"name": "Kamituga II", "version": 2})
    stale = await sites.patch(f"/sites/{site['id']}", json={"name": "Kamituga III", "version": 1})
    cleared = await sites.patch(f"/sites/{site['id']}", json={"name": None, "version": 2})

    assert edited.status_code == 200 and edited.json()["version"] == 2 and edited.json()["region"] is None
    assert unchanged.json()["version"] == 2
    assert (stale.status_code, stale.json()["code"]) == (409, "stale_version")
    assert cleared.status_code == 422
    [(_, key, payload)] = await outbox(stack, "MineSiteUpdated.v1")
    assert key == site["id"]
    assert payload["changed_fields"] == ["capacity_kg_per_month", "name", "region"]
    assert (payload["site"]["name"], payload["site"]["capacity_kg_per_month"], payload["site"]["region"]) == (
        "Kamituga II",
        30,
        None,
    )
    assert payload["aggregate_version"] == 2
    audit = (await sites.get(f"/sites/{site['id']}/history")).json()["items"]
    assert [e["action"] for e in audit] == ["registered", "updated"]
    assert audit[1]["changes"]["name"] == {"before": "Kamituga Mwenga", "after": "Kamituga II"}


async def test_a_patch_cannot_set_the_status(stack):
    site = await register(stack)

    response = await client(stack).patch(f"/sites/{site['id']}", json={"status": "green"})

    assert response.status_code == 422


async def test_an_inspection_sets_the_status_and_publishes_both_events(stack):
    site = await register(stack)
    today = utcnow().date()

    response = await client(stack).post(f"/sites/{site['id']}/inspections", json=inspection(notes="all good"))

    assert response.status_code == 201, response.text
    inspection_id = response.json()["id"]
    read = (await client(stack).get(f"/sites/{site['id']}")).json()
    assert read["status"] == "green" and read["last_inspection_date"] == today.isoformat()
    assert read["next_transition"]["date"] == add_years(today, 1).isoformat()
    events = await outbox(stack, "InspectionRecorded.v1", "MineSiteStatusChanged.v1")
    assert [(t, k) for t, k, _ in events] == [
        ("InspectionRecorded.v1", site["id"]),
        ("MineSiteStatusChanged.v1", site["id"]),
    ]
    changed = events[1][2]
    assert (changed["previous_status"], changed["status"], changed["reason"]) == ("blue", "green", "inspection")
    assert changed["inspection_id"] == inspection_id
    history = (await client(stack).get(f"/sites/{site['id']}/status-history")).json()
    assert [(h["status"], h["inspection_id"]) for h in history] == [("blue", None), ("green", inspection_id)]


async def test_each_site_event_carries_the_next_version_and_the_status_its_step_made(stack):
    site = await register(stack)
    inspected_on = utcnow().date() - timedelta(days=400)  # green then, lapsed to blue a year later

    await client(stack).post(
        f"/sites/{site['id']}/inspections", json=inspection(inspection_date=inspected_on.isoformat())
    )

    events = await outbox(stack)
    assert [(t, p["aggregate_version"]) for t, _, p in events] == [
        ("MineSiteRegistered.v1", 1),
        ("InspectionRecorded.v1", 2),
        ("MineSiteStatusChanged.v1", 3),
        ("MineSiteStatusChanged.v1", 4),
    ]
    assert [(p["site"]["status"], p["site"]["status_since_date"]) for _, _, p in events[1:]] == [
        ("blue", site["status_since"]),
        ("green", inspected_on.isoformat()),
        ("blue", add_years(inspected_on, 1).isoformat()),
    ]


async def test_an_older_inspection_is_history_only(stack):
    site = await register(stack)
    today = utcnow().date()
    inspections = client(stack)
    await inspections.post(f"/sites/{site['id']}/inspections", json=inspection(result="red"))

    older = await inspections.post(
        f"/sites/{site['id']}/inspections",
        json=inspection(inspection_date=(today - timedelta(days=30)).isoformat(), result="green"),
    )

    assert older.status_code == 201
    assert (await inspections.get(f"/sites/{site['id']}")).json()["status"] == "red"
    listed = (await inspections.get(f"/sites/{site['id']}/inspections")).json()
    assert [i["result"] for i in listed] == ["red", "green"]  # latest first
    assert len(await outbox(stack, "InspectionRecorded.v1")) == 2
    assert len(await outbox(stack, "MineSiteStatusChanged.v1")) == 1


async def test_an_inspection_dated_in_the_future_is_refused_and_writes_nothing(stack):
    site = await register(stack)
    tomorrow = utcnow().date() + timedelta(days=1)

    response = await client(stack).post(
        f"/sites/{site['id']}/inspections", json=inspection(inspection_date=tomorrow.isoformat())
    )

    assert (response.status_code, response.json()["code"]) == (422, "date_in_future")
    assert [t for t, _, _ in await outbox(stack)] == ["MineSiteRegistered.v1"]


async def test_the_report_must_be_a_document_of_the_organisation(stack):
    site = await register(stack)
    foreign = await client(stack, org="org-b").post(
        "/documents", data={"doc_type": "inspection_report"}, files={"file": ("report.pdf", PDF, "application/pdf")}
    )
    assert foreign.status_code == 201, foreign.text
    own = await client(stack).post(
        "/documents", data={"doc_type": "inspection_report"}, files={"file": ("report.pdf", PDF, "application/pdf")}
    )
    reviewer = client(stack)

    refused = await reviewer.post(
        f"/sites/{site['id']}/inspections", json=inspection(report_document_id=foreign.json()["id"])
    )
    accepted = await reviewer.post(
        f"/sites/{site['id']}/inspections", json=inspection(report_document_id=own.json()["id"])
    )

    assert (refused.status_code, refused.json()["code"]) == (422, "unknown_document")
    assert accepted.status_code == 201 and accepted.json()["report_document_id"] == own.json()["id"]


async def test_the_risk_table_version_in_force_is_recorded_on_the_site_and_its_decisions(stack):
    table = [{"area": "CD-SK", "level": "conflict_affected", "reason": "armed groups", "source": "EU CAHRA list"}]
    assert (await client(stack).put("/risk-areas", json=table)).status_code == 200
    site = await register(stack)
    await client(stack).put("/risk-areas", json=[{**table[0], "source": "EU CAHRA list 2025"}])

    await client(stack).post(f"/sites/{site['id']}/inspections", json=inspection())

    assert (site["area_risk"], site["risk_table_version"]) == ("high", 1)
    history = (await client(stack).get(f"/sites/{site['id']}/status-history")).json()
    assert [(h["area_risk"], h["risk_table_version"]) for h in history] == [("high", 1), ("high", 2)]
    [(_, _, changed)] = await outbox(stack, "MineSiteStatusChanged.v1")
    assert changed["risk_table_version"] == 2


def run_at(day) -> datetime:  # type: ignore[no-untyped-def]
    return datetime.combine(day, time(6, 0), tzinfo=UTC)


async def run_site_job(stack, now: datetime) -> dict[str, int]:  # type: ignore[no-untyped-def]
    [job] = [j for j in jobs(stack.settings("kyc")) if j.name == "kyc.site_status_lapses"]
    return await scheduler.run_due(stack.sessions("kyc"), [job], now=now, force=True)


async def test_the_job_lapses_green_to_blue_then_red_once_each(stack):
    site = await register(stack)
    await client(stack).post(f"/sites/{site['id']}/inspections", json=inspection())
    today = utcnow().date()
    a_year_later, four_years_later = add_years(today, 1), add_years(today, 4)

    first = [await run_site_job(stack, run_at(a_year_later)) for _ in range(2)]
    blue = await outbox(stack, "MineSiteStatusChanged.v1")
    second = [await run_site_job(stack, run_at(four_years_later)) for _ in range(2)]
    red = await outbox(stack, "MineSiteStatusChanged.v1")

    assert first == [{"kyc.site_status_lapses": 1}, {"kyc.site_status_lapses": 0}]
    assert second == [{"kyc.site_status_lapses": 1}, {"kyc.site_status_lapses": 0}]
    assert [(p["previous_status"], p["status"], p["reason"], p["effective_at"][:10]) for _, _, p in blue[1:]] == [
        ("green", "blue", "green_lapsed", a_year_later.isoformat())
    ]
    assert [(p["previous_status"], p["status"], p["reason"], p["effective_at"][:10]) for _, _, p in red[2:]] == [
        ("blue", "red", "blue_expired", add_years(a_year_later, 3).isoformat())
    ]
    assert all(key == site["id"] for _, key, _ in red)
    async with stack.sessions("kyc")() as db:
        row = await db.get(MineSiteRow, UUID(site["id"]))
        changes = (
            await db.execute(
                sa.select(SiteStatusChangeRow.changed_by, SiteStatusChangeRow.reason).order_by(SiteStatusChangeRow.id)
            )
        ).all()
    assert row.status == "red" and (row.turns_blue_date, row.turns_red_date) == (None, None)
    assert [tuple(c) for c in changes] == [
        ("user-admin", "registered"),
        ("user-admin", "inspection"),
        ("system", "green_lapsed"),
        ("system", "blue_expired"),
    ]


async def test_the_job_leaves_sites_without_a_due_lapse_alone(stack):
    site = await register(stack)
    await client(stack).post(f"/sites/{site['id']}/inspections", json=inspection(result="yellow"))

    ran = await run_site_job(stack, run_at(add_years(utcnow().date(), 10)))

    assert ran == {"kyc.site_status_lapses": 0}
    assert [p["status"] for _, _, p in await outbox(stack, "MineSiteStatusChanged.v1")] == ["yellow"]


async def test_two_workers_running_the_job_at_once_change_a_site_once(stack):
    site = await register(stack)
    await client(stack).post(f"/sites/{site['id']}/inspections", json=inspection())
    now = run_at(add_years(utcnow().date(), 1))

    await asyncio.gather(run_site_job(stack, now), run_site_job(stack, now), run_site_job(stack, now))

    lapses = [p for _, _, p in await outbox(stack, "MineSiteStatusChanged.v1") if p["reason"] == "green_lapsed"]
    assert len(lapses) == 1


async def test_the_status_filter_applies_the_lapses_due_by_the_day_asked(stack):
    green = await register(stack, name="Green")
    await client(stack).post(f"/sites/{green['id']}/inspections", json=inspection())
    await register(stack, name="Blue")
    today = utcnow().date()

    async def names(day, status: str) -> list[str]:  # type: ignore[no-untyped-def]
        async with stack.sessions("kyc")() as db:
            sites, total = await site_repository.list_sites(db, org_id="org-a", today=day, status=SiteStatus(status))
        assert all(effective_status(s, day)[0] == status for s in sites) and total == len(sites)
        return [s.name for s in sites]

    assert await names(today, "green") == ["Green"]
    assert await names(add_years(today, 1), "green") == []
    assert await names(add_years(today, 1), "blue") == ["Blue", "Green"]
    assert await names(add_years(today, 3), "red") == ["Blue"]  # blue since registration
    assert await names(add_years(today, 3), "blue") == ["Green"]  # blue only since its lapse
    assert await names(add_years(today, 4), "red") == ["Blue", "Green"]


async def test_site_events_reach_the_topic_through_the_relay(stack, broker):
    site = await register(stack)
    await client(stack).post(f"/sites/{site['id']}/inspections", json=inspection(result="red"))

    async with running(Relay(stack.settings("kyc"), stack.sessions("kyc")).run):
        await eventually(lambda: _all_published(stack))
    records = await read_topic(broker.bootstrap, "kyc.events", expect=3)

    envelopes = [Envelope.from_kafka(r.headers, r.key, r.value) for r in records]
    assert [e.event_type for e in envelopes] == [
        "MineSiteRegistered.v1",
        "InspectionRecorded.v1",
        "MineSiteStatusChanged.v1",
    ]
    assert {r.key.decode() for r in records} == {site["id"]}
    assert envelopes[2].payload["status"] == "red"


async def _all_published(stack) -> bool:  # type: ignore[no-untyped-def]
    async with stack.sessions("kyc")() as db:
        pending = await db.execute(
            sa.select(sa.func.count()).select_from(OutboxMessageRow).where(OutboxMessageRow.published_at.is_(None))
        )
        return pending.scalar_one() == 0


async def test_a_site_clearly_outside_its_declared_country_is_refused(stack):
    http = client(stack)
    brasilia = {"type": "Point", "coordinates": [-47.88, -15.79]}

    response = await http.post("/sites", json=new_site(location=brasilia))

    assert response.status_code == 422
    problem = response.json()
    assert (problem["code"], problem["country"], problem["tolerance_km"]) == ("location_outside_country", "CD", 10.0)
    assert problem["distance_km"] > 6000
    assert await count_rows(stack, OutboxMessageRow) == 0


async def test_a_polygon_in_the_neighbouring_country_is_refused_and_an_edit_is_checked_too(stack):
    http = client(stack)
    kigali = {
        "type": "Polygon",
        "coordinates": [[[30.05, -1.96], [30.07, -1.96], [30.07, -1.94], [30.05, -1.94], [30.05, -1.96]]],
    }
    assert (await http.post("/sites", json=new_site(location=kigali))).json()["code"] == "location_outside_country"
    site = (await http.post("/sites", json=new_site(location=KIVU_POLYGON))).json()
    assert site["location_check"]["country"] == "inside" and site["location_check"]["region"] == "not_checked"

    moved = await http.patch(f"/sites/{site['id']}", json={"location": kigali, "version": site["version"]})
    recountried = await http.patch(f"/sites/{site['id']}", json={"country": "RW", "region": None, "version": 1})

    assert (moved.status_code, moved.json()["code"]) == (422, "location_outside_country")
    assert (recountried.status_code, recountried.json()["code"]) == (422, "location_outside_country")
    assert (await http.get(f"/sites/{site['id']}")).json()["version"] == 1


async def test_a_border_site_within_the_tolerance_is_accepted_and_flagged_near_border(stack):
    goma_gisenyi = {"type": "Point", "coordinates": [29.24, -1.69]}  # 2 km into Rwanda by the 1:10m outline

    accepted = await client(stack).post("/sites", json=new_site(location=goma_gisenyi, region="CD-NK"))
    strict = await client(stack, kyc_site_border_tolerance_km=1).post(
        "/sites", json=new_site(location=goma_gisenyi, region="CD-NK")
    )

    assert accepted.status_code == 201, accepted.text
    check = accepted.json()["location_check"]
    assert (check["country"], check["tolerance_km"]) == ("near_border", 10.0) and 0 < check["distance_km"] < 10
    assert strict.json()["code"] == "location_outside_country"


async def count_rows(stack, table: type) -> int:  # type: ignore[no-untyped-def]
    async with stack.sessions("kyc")() as db:
        return (await db.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
