"""Actors over HTTP: registered, read, listed, corrected; rows, history and outbox messages out."""

from __future__ import annotations

import asyncio
import json
from uuid import UUID

from libs.common.auth import OrgKind, Principal
from services.kyc.repository import screening as screening_repository
from services.kyc.tables.register import ActorRow, AuditEntryRow
from services.kyc.use_cases import actors
from tests.kyc.register_support import (
    actor_body,
    client,
    count,
    create_actor,
    licence_body,
    move,
    outbox_rows,
    outbox_types,
    payloads,
    run_jobs,
    stored,
)


async def pending_screenings(stack, actor_id: str) -> int:  # type: ignore[no-untyped-def]
    async with stack.sessions("kyc")() as db:
        return await screening_repository.count_pending_screenings(db, actor_id=UUID(actor_id))


async def test_registering_an_actor_keeps_it_as_draft_announces_it_and_requests_screening(stack):
    http = client(stack, "field_agent", user="fiona")

    response = await http.post("/actors", json=actor_body())

    assert response.status_code == 201
    actor = response.json()
    assert (actor["kyc_status"], actor["version"], actor["created_by"]) == ("draft", 1, "fiona")
    row = await stored(stack, ActorRow, actor["id"])
    assert row.org_id == "org-a" and row.minerals == ["7108", "2616"] and row.region == "CD-NK"
    assert await outbox_types(stack) == ["ActorRegistered.v1"]
    registered = (await payloads(stack, "ActorRegistered"))[0]
    assert registered["aggregate_version"] == 1
    assert registered["actor"] == {
        "actor_id": actor["id"],
        "org_id": "org-a",
        "actor_type": "trader",
        "legal_name": "Comptoir Minier de Goma SARL",
        "registration_number": "CD/GOM/RCCM/14-B-1234",
        "country": "CD",
        "region": "CD-NK",
        "minerals": ["7108", "2616"],
        "smelter_facility_id": None,
        "kyc_status": "draft",
        "risk_level": None,
        "risk_factors": [],
        "next_review_date": None,
        "review_reason": None,
        "shared_with": [],
    }
    assert await count(stack, AuditEntryRow, entity_id=actor["id"], action="registered") == 1
    assert await pending_screenings(stack, actor["id"]) == 1


async def test_a_smelter_keeps_its_facility_id(stack):
    actor = await create_actor(
        client(stack),
        actor_type="smelter_refiner",
        smelter_facility_id="cid002345",
        country="CN",
        region=None,
        addresses=[],
        registration_number=None,
    )
    assert actor["smelter_facility_id"] == "CID002345"


async def test_bad_input_is_a_problem_with_a_code_and_writes_nothing(stack):
    http = client(stack)
    cases = [
        ({"country": "ZZ"}, "unknown_country"),
        ({"region": "RW-02"}, "region_country_mismatch"),
        ({"region": "CD-XX"}, "unknown_region"),
        ({"minerals": ["71"]}, "invalid_hs_code"),
        ({"smelter_facility_id": "CID001234"}, "facility_id_not_allowed"),
        ({"actor_type": "smelter_refiner", "smelter_facility_id": "X1"}, "invalid_facility_id"),
        ({"addresses": [{"street": "x", "country": "XX"}]}, "unknown_country"),
        ({"legal_name": "   "}, "empty_legal_name"),
        ({"actor_type": "wizard"}, "validation_error"),
        ({"contacts": [{"name": "no way to reach"}]}, "validation_error"),
    ]
    for overrides, code in cases:
        response = await http.post("/actors", json=actor_body(**overrides))
        assert response.status_code == 422, (overrides, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == code, overrides
    assert await count(stack, ActorRow) == 0
    assert await outbox_types(stack) == []


async def test_a_registration_number_is_unique_per_country_within_the_organisation(stack):
    http = client(stack)
    await create_actor(http, registration_number="RCCM 14-B-1234")

    duplicate = await http.post("/actors", json=actor_body(registration_number="rccm  14-b-1234"))

    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "duplicate_registration"
    await create_actor(http, registration_number="RCCM 14-B-1234", country="RW", region=None, addresses=[])
    await create_actor(client(stack, org="org-b"), registration_number="RCCM 14-B-1234")
    assert await count(stack, ActorRow, org_id="org-a") == 2


async def test_concurrent_registrations_of_one_number_leave_one_actor(stack):
    responses = await asyncio.gather(*[client(stack).post("/actors", json=actor_body()) for _ in range(4)])

    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"duplicate_registration"}
    assert await count(stack, ActorRow) == 1


async def test_a_correction_needs_the_current_version_and_keeps_before_and_after(stack):
    http = client(stack, "analyst", user="ana")
    actor = await create_actor(http)

    response = await http.patch(
        f"/actors/{actor['id']}", json={"version": 1, "legal_name": "CMG Goma SARL", "minerals": ["7108"]}
    )

    assert response.status_code == 200
    assert response.json()["version"] == 2
    stale = await http.patch(f"/actors/{actor['id']}", json={"version": 1, "tax_number": "B-1"})
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    assert (await stored(stack, ActorRow, actor["id"])).tax_number == "A1234567X"
    update = (await payloads(stack, "ActorUpdated"))[0]
    assert update["changed_fields"] == ["legal_name", "minerals"] and update["updated_by"] == "ana"
    assert (update["actor"]["legal_name"], update["actor"]["minerals"], update["aggregate_version"]) == (
        "CMG Goma SARL",
        ["7108"],
        2,
    )  # the state after the change, one version after the registration
    history = (await http.get(f"/actors/{actor['id']}/history")).json()["items"]
    assert history[-1]["changes"]["legal_name"] == {"before": "Comptoir Minier de Goma SARL", "after": "CMG Goma SARL"}
    assert history[-1]["user_id"] == "ana"


async def test_two_writers_with_the_same_version_one_wins(stack):
    actor = await create_actor(client(stack))
    writes = [
        client(stack, user=u).patch(f"/actors/{actor['id']}", json={"version": 1, "tax_number": u})
        for u in ("alice", "bob")
    ]

    responses = await asyncio.gather(*writes)

    assert sorted(r.status_code for r in responses) == [200, 409]
    assert (await stored(stack, ActorRow, actor["id"])).version == 2


async def test_concurrent_changes_of_one_actor_each_announce_the_next_version_in_commit_order(stack):
    admin = client(stack)
    actor = await create_actor(admin)
    shares = [admin.post(f"/actors/{actor['id']}/shares", json={"org_id": f"smelter-{n}"}) for n in range(4)]
    parts = [admin.post(f"/actors/{actor['id']}/licences", json=licence_body(number=f"NK-TC-{n}")) for n in range(2)]

    responses = await asyncio.gather(*shares, *parts)

    assert all(r.status_code in (200, 201) for r in responses), [r.text for r in responses]
    events = [json.loads(r.payload) for r in await outbox_rows(stack) if r.key == actor["id"]]  # in outbox order
    assert [e["aggregate_version"] for e in events] == list(range(1, 8))
    assert events[-1]["actor"]["shared_with"] == [f"smelter-{n}" for n in range(4)]
    assert (await stored(stack, ActorRow, actor["id"])).version == 1  # the edit token clients hold stays valid


async def test_a_change_waiting_for_another_writer_tells_the_state_that_writer_committed(stack):
    http = client(stack)
    actor = await create_actor(http)
    renamer = Principal(user_id="ana", org_id="org-a", org_kind=OrgKind.OPERATOR, roles=frozenset({"analyst"}))
    async with stack.sessions("kyc")() as db, db.begin():
        await actors.update_actor(db, renamer, UUID(actor["id"]), changes={"legal_name": "CMG Goma SARL"}, version=1)
        sharing = asyncio.create_task(http.post(f"/actors/{actor['id']}/shares", json={"org_id": "smelter-1"}))
        await asyncio.sleep(0.3)

        assert not sharing.done()  # the share reads the actor locked, so it waits for the rename to commit

    assert (await sharing).status_code == 200
    [told] = await payloads(stack, "ActorShared")
    assert (told["aggregate_version"], told["actor"]["legal_name"]) == (3, "CMG Goma SARL")


async def test_a_correction_that_changes_nothing_is_not_an_update(stack):
    http = client(stack)
    actor = await create_actor(http)

    response = await http.patch(f"/actors/{actor['id']}", json={"version": 1, "legal_name": actor["legal_name"]})

    assert response.json()["version"] == 1
    assert await outbox_types(stack) == ["ActorRegistered.v1"]


async def test_a_changed_name_is_screened_again_and_a_contact_change_is_not(stack):
    http = client(stack)
    actor = await create_actor(http)
    await run_jobs(stack)
    await http.patch(f"/actors/{actor['id']}", json={"version": 1, "contacts": []})
    assert await pending_screenings(stack, actor["id"]) == 0
    await http.patch(f"/actors/{actor['id']}", json={"version": 2, "aliases": ["Goma Minerals"]})
    assert await pending_screenings(stack, actor["id"]) == 1


async def test_a_duplicate_number_by_correction_is_refused(stack):
    http = client(stack)
    await create_actor(http, registration_number="R-1")
    other = await create_actor(http, registration_number="R-2")

    response = await http.patch(f"/actors/{other['id']}", json={"version": 1, "registration_number": "r-1"})

    assert response.status_code == 409 and response.json()["code"] == "duplicate_registration"


async def test_a_required_field_cannot_be_nulled(stack):
    http = client(stack)
    actor = await create_actor(http)
    response = await http.patch(f"/actors/{actor['id']}", json={"version": 1, "legal_name": None})
    assert response.status_code == 422


async def test_listing_filters_and_pages(stack):
    http = client(stack)
    await create_actor(http, legal_name="Alpha Gold", aliases=["Société Aurifère"], registration_number="1")
    await create_actor(http, legal_name="Beta Tin", minerals=["2609"], registration_number="2")
    await create_actor(
        http,
        legal_name="Gamma Cobalt",
        country="ZM",
        region=None,
        addresses=[],
        minerals=["2605"],
        registration_number="3",
    )
    await create_actor(client(stack, org="org-b"), legal_name="Other Org Gold")

    everything = (await http.get("/actors", params={"limit": 2})).json()
    assert everything["total"] == 3 and [a["legal_name"] for a in everything["items"]] == ["Alpha Gold", "Beta Tin"]
    second = (await http.get("/actors", params={"limit": 2, "offset": 2})).json()
    assert [a["legal_name"] for a in second["items"]] == ["Gamma Cobalt"]
    assert [a["legal_name"] for a in (await http.get("/actors", params={"country": "zm"})).json()["items"]] == [
        "Gamma Cobalt"
    ]
    assert [a["legal_name"] for a in (await http.get("/actors", params={"mineral": "2609"})).json()["items"]] == [
        "Beta Tin"
    ]
    assert [a["legal_name"] for a in (await http.get("/actors", params={"q": "aurif"})).json()["items"]] == [
        "Alpha Gold"
    ]
    assert (await http.get("/actors", params={"kyc_status": "approved"})).json()["total"] == 0
    assert (await http.get("/actors", params={"mineral": "gold"})).status_code == 422


async def test_an_actor_under_review_is_locked(stack):
    http = client(stack)
    actor = await create_actor(http)
    await move(http, actor["id"], "submit")

    response = await http.patch(f"/actors/{actor['id']}", json={"version": 2, "tax_number": "X"})

    assert response.status_code == 409 and response.json()["code"] == "actor_locked"
