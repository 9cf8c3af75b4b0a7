"""Beneficial owners and key persons over HTTP: shares, dates, nationality, screening, history."""

from __future__ import annotations

import asyncio
from uuid import UUID

from services.kyc.repository import screening as screening_repository
from services.kyc.tables.register import PersonRow
from tests.kyc.register_support import client, count, create_actor, edit, payloads, person_body, remove, run_jobs


async def pending_screenings(stack, actor_id: str) -> int:  # type: ignore[no-untyped-def]
    async with stack.sessions("kyc")() as db:
        return await screening_repository.count_pending_screenings(db, actor_id=UUID(actor_id))


async def test_adding_an_owner_requests_screening_and_announces_the_change(stack):
    http = client(stack, "field_agent")
    actor = await create_actor(http)

    response = await http.post(f"/actors/{actor['id']}/persons", json=person_body(aliases=["J.-P. Mukendi"]))

    assert response.status_code == 201
    person = response.json()
    assert (person["role"], person["ownership_pct"], person["nationality"]) == ("beneficial_owner", 60, "CD")
    assert await pending_screenings(stack, actor["id"]) == 2  # the actor's and the person's
    event = (await payloads(stack, "ActorUpdated"))[0]
    assert (event["part"], event["part_id"], event["action"]) == ("person", person["id"], "added")


async def test_owners_shares_cannot_pass_100(stack):
    http = client(stack)
    actor = await create_actor(http)
    await http.post(f"/actors/{actor['id']}/persons", json=person_body(ownership_pct=60))

    response = await http.post(
        f"/actors/{actor['id']}/persons", json=person_body(full_name="Marie Kahindo", ownership_pct=40.5)
    )

    assert response.status_code == 422 and response.json()["code"] == "ownership_exceeds_100"
    assert await count(stack, PersonRow) == 1
    holding = await http.post(
        f"/actors/{actor['id']}/persons",
        json=person_body(
            person_type="legal",
            full_name="Kivu Holdings Ltd",
            birth_date=None,
            role="shareholder",
            ownership_pct=100,
            nationality="MU",
        ),
    )
    assert holding.status_code == 201  # direct shareholders add up apart from ultimate owners


async def test_two_owners_added_at_once_cannot_both_pass_the_check(stack):
    actor = await create_actor(client(stack))
    adds = [
        client(stack).post(f"/actors/{actor['id']}/persons", json=person_body(full_name=n, ownership_pct=60))
        for n in ("Owner One", "Owner Two")
    ]

    responses = await asyncio.gather(*adds)

    assert sorted(r.status_code for r in responses) == [201, 422]
    assert await count(stack, PersonRow) == 1


async def test_a_correction_past_100_is_refused(stack):
    http = client(stack)
    actor = await create_actor(http)
    await http.post(f"/actors/{actor['id']}/persons", json=person_body(ownership_pct=50))
    other = (
        await http.post(f"/actors/{actor['id']}/persons", json=person_body(full_name="Marie Kahindo", ownership_pct=30))
    ).json()

    response = await edit(http, f"/actors/{actor['id']}/persons/{other['id']}", ownership_pct=51)

    assert response.status_code == 422 and response.json()["code"] == "ownership_exceeds_100"


async def test_person_bad_input(stack):
    http = client(stack)
    actor = await create_actor(http)
    cases = [
        ({"birth_date": "2999-01-01"}, "birth_date_in_future"),
        ({"nationality": "QQ"}, "unknown_country"),
        ({"ownership_pct": 101}, "validation_error"),
        ({"ownership_pct": -1}, "validation_error"),
        ({"person_type": "legal"}, "birth_date_not_applicable"),
        ({"full_name": " "}, "empty_name"),
    ]
    for overrides, code in cases:
        response = await http.post(f"/actors/{actor['id']}/persons", json=person_body(**overrides))
        assert response.status_code == 422 and response.json()["code"] == code, overrides
    assert await count(stack, PersonRow) == 0


async def test_a_removed_person_stays_in_the_history(stack):
    http = client(stack)
    actor = await create_actor(http)
    person = (await http.post(f"/actors/{actor['id']}/persons", json=person_body())).json()

    response = await remove(http, f"/actors/{actor['id']}/persons/{person['id']}")

    assert response.status_code == 204
    assert (await http.get(f"/actors/{actor['id']}/persons")).json() == []
    history = (await http.get(f"/actors/{actor['id']}/history")).json()["items"]
    removal = [e for e in history if e["action"] == "person_removed"][0]
    assert removal["entity_id"] == person["id"]
    assert removal["changes"]["full_name"] == {"before": "Jean-Pierre Mukendi", "after": None}


async def test_changing_an_owners_name_screens_it_again_but_a_role_change_does_not(stack):
    http = client(stack)
    actor = await create_actor(http)
    person = (await http.post(f"/actors/{actor['id']}/persons", json=person_body())).json()
    await run_jobs(stack)
    await edit(http, f"/actors/{actor['id']}/persons/{person['id']}", role="director")
    assert await pending_screenings(stack, actor["id"]) == 0
    await edit(http, f"/actors/{actor['id']}/persons/{person['id']}", full_name="Jean Pierre Mukendi Kasongo")
    assert await pending_screenings(stack, actor["id"]) == 1


async def test_a_person_of_another_actor_is_not_found_under_this_one(stack):
    http = client(stack)
    first = await create_actor(http, registration_number="1")
    second = await create_actor(http, registration_number="2")
    person = (await http.post(f"/actors/{first['id']}/persons", json=person_body())).json()

    assert (await http.get(f"/actors/{second['id']}/persons/{person['id']}")).status_code == 404
    assert (
        await http.patch(f"/actors/{second['id']}/persons/{person['id']}", json={"role": "manager", "version": 1})
    ).status_code == 404
