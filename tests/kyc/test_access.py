"""Who may do what: roles, operator-only writes, organisation scoping and sharing an actor."""

from __future__ import annotations

from uuid import uuid4

from services.kyc.tables.register import ActorRow, ActorShareRow
from tests.kyc.register_support import (
    actor_body,
    client,
    count,
    create_actor,
    licence_body,
    move,
    outbox_types,
    person_body,
    token,
)


async def test_every_route_needs_a_token(stack):
    anonymous = stack.client("kyc")
    for path in ("/actors", f"/actors/{uuid4()}", "/actors/reviews/overdue", "/licences", "/documents"):
        response = await anonymous.get(path)
        assert response.status_code == 401, path


async def test_an_auditor_reads_but_never_writes(stack):
    actor = await create_actor(client(stack))
    auditor = client(stack, "auditor", user="audrey")

    assert (await auditor.get(f"/actors/{actor['id']}")).status_code == 200
    assert (await auditor.get(f"/actors/{actor['id']}/history")).status_code == 200
    writes = [
        auditor.post("/actors", json=actor_body(registration_number="9")),
        auditor.patch(f"/actors/{actor['id']}", json={"version": 1, "tax_number": "x"}),
        auditor.post(f"/actors/{actor['id']}/persons", json=person_body()),
        auditor.post(f"/actors/{actor['id']}/licences", json=licence_body()),
        move(auditor, actor["id"], "submit"),
        auditor.post(f"/actors/{actor['id']}/shares", json={"org_id": "smelter-1"}),
    ]
    for write in writes:
        response = await write
        assert response.status_code == 403 and response.json()["code"] == "missing_role"
    assert await count(stack, ActorRow) == 1 and await outbox_types(stack) == ["ActorRegistered.v1"]


async def test_a_field_agent_creates_and_submits_only(stack):
    agent = client(stack, "field_agent", user="fiona")
    actor = await create_actor(agent)
    person = await agent.post(f"/actors/{actor['id']}/persons", json=person_body())
    assert person.status_code == 201
    assert (await agent.post(f"/actors/{actor['id']}/licences", json=licence_body())).status_code == 201

    for response in [
        await agent.patch(f"/actors/{actor['id']}", json={"version": 1, "tax_number": "x"}),
        await agent.delete(f"/actors/{actor['id']}/persons/{person.json()['id']}"),
        await agent.post(f"/actors/{actor['id']}/shares", json={"org_id": "smelter-1"}),
    ]:
        assert response.status_code == 403 and response.json()["code"] == "missing_role"
    assert (await move(agent, actor["id"], "submit")).status_code == 200


async def test_only_operator_organisations_write(stack):
    smelter_admin = client(stack, "admin", org="smelter-1", kind="smelter")

    response = await smelter_admin.post("/actors", json=actor_body())

    assert response.status_code == 403 and response.json()["code"] == "operator_only"
    assert await count(stack, ActorRow) == 0


async def test_another_organisation_sees_nothing(stack):
    http = client(stack)
    actor = await create_actor(http)
    person = (await http.post(f"/actors/{actor['id']}/persons", json=person_body())).json()
    licence = (await http.post(f"/actors/{actor['id']}/licences", json=licence_body())).json()
    other = client(stack, "admin", org="org-b", user="mallory")

    for path in (
        f"/actors/{actor['id']}",
        f"/actors/{actor['id']}/history",
        f"/actors/{actor['id']}/persons",
        f"/actors/{actor['id']}/persons/{person['id']}",
        f"/actors/{actor['id']}/licences",
        f"/licences/{licence['id']}",
        f"/actors/{actor['id']}/shares",
    ):
        assert (await other.get(path)).status_code == 404, path
    for response in [
        await other.patch(f"/actors/{actor['id']}", json={"version": 1, "tax_number": "x"}),
        await move(other, actor["id"], "submit"),
        await other.post(f"/actors/{actor['id']}/persons", json=person_body()),
        await other.patch(f"/licences/{licence['id']}", json={"issuer": "x", "version": 1}),
        await other.post(f"/actors/{actor['id']}/shares", json={"org_id": "org-b"}),
    ]:
        assert response.status_code == 404
    assert (await other.get("/actors")).json()["total"] == 0
    assert (await other.get("/licences")).json()["total"] == 0


async def test_a_shared_actor_and_its_licences_are_readable_by_the_grantee_only(stack):
    owner = client(stack, "admin", user="alice")
    actor = await create_actor(owner)
    hidden = await create_actor(owner, registration_number="other")
    licence = (await owner.post(f"/actors/{actor['id']}/licences", json=licence_body())).json()
    await owner.post(f"/actors/{actor['id']}/persons", json=person_body())
    smelter = stack.client("kyc", token(stack, "analyst", org="smelter-1", kind="smelter", user="sam"))

    shared = await owner.post(f"/actors/{actor['id']}/shares", json={"org_id": "smelter-1"})

    assert shared.status_code == 200 and shared.json()["org_id"] == "smelter-1"
    assert (await smelter.get(f"/actors/{actor['id']}")).json()["legal_name"] == actor["legal_name"]
    assert [item["id"] for item in (await smelter.get(f"/actors/{actor['id']}/licences")).json()] == [licence["id"]]
    assert (await smelter.get(f"/licences/{licence['id']}")).json()["document_ids"] == []
    assert [a["id"] for a in (await smelter.get("/actors")).json()["items"]] == [actor["id"]]
    assert [item["id"] for item in (await smelter.get("/licences")).json()["items"]] == [licence["id"]]
    assert (await smelter.get(f"/actors/{hidden['id']}")).status_code == 404
    for path in (
        f"/actors/{actor['id']}/persons",
        f"/actors/{actor['id']}/history",
        f"/actors/{actor['id']}/shares",
        f"/actors/{actor['id']}/screening",
    ):
        response = await smelter.get(path)
        assert response.status_code == 403 and response.json()["code"] == "not_shared", path
    write = await smelter.patch(f"/actors/{actor['id']}", json={"version": 1, "tax_number": "x"})
    assert write.status_code == 403 and write.json()["code"] == "operator_only"
    assert (await client(stack, org="org-c").get(f"/actors/{actor['id']}")).status_code == 404

    again = await owner.post(f"/actors/{actor['id']}/shares", json={"org_id": "smelter-1"})
    assert again.status_code == 200 and await count(stack, ActorShareRow) == 1  # idempotent
    assert (await owner.delete(f"/actors/{actor['id']}/shares/smelter-1")).status_code == 204
    assert (await smelter.get(f"/actors/{actor['id']}")).status_code == 404
    assert (await owner.delete(f"/actors/{actor['id']}/shares/smelter-1")).status_code == 404
    types = await outbox_types(stack, key=actor["id"])
    assert types.count("ActorShared.v1") == 1 and types.count("ActorUnshared.v1") == 1


async def test_sharing_is_for_admins_and_never_with_oneself(stack):
    actor = await create_actor(client(stack))
    analyst = await client(stack, "analyst").post(f"/actors/{actor['id']}/shares", json={"org_id": "smelter-1"})
    assert analyst.status_code == 403
    own = await client(stack).post(f"/actors/{actor['id']}/shares", json={"org_id": "org-a"})
    assert own.status_code == 422 and own.json()["code"] == "invalid_share_target"


async def test_an_unknown_actor_id_is_not_found(stack):
    response = await client(stack).get(f"/actors/{uuid4()}")
    assert response.status_code == 404 and response.json()["code"] == "actor_not_found"
    assert (await client(stack).get("/actors/not-a-uuid")).status_code == 422
