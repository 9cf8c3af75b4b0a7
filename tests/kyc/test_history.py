"""History: every change of an actor and its parts keeps who, when and what (field-level before/after)."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.kyc.register_support import PDF, client, create_actor, edit, licence_body, move, person_body, run_jobs


async def test_the_history_covers_the_actor_its_persons_licences_and_documents(stack):
    agent, analyst = client(stack, "field_agent", user="fiona"), client(stack, "analyst", user="ana")
    actor = await create_actor(agent)
    person = (await agent.post(f"/actors/{actor['id']}/persons", json=person_body())).json()
    licence = (await agent.post(f"/actors/{actor['id']}/licences", json=licence_body())).json()
    document = (
        await agent.post(
            "/documents",
            data={"doc_type": "licence", "licence_id": licence["id"]},
            files={"file": ("card.pdf", PDF, "application/pdf")},
        )
    ).json()
    await edit(analyst, f"/actors/{actor['id']}/persons/{person['id']}", ownership_pct=75)
    await edit(analyst, f"/licences/{licence['id']}", valid_to="2031-06-30")
    await analyst.patch(f"/actors/{actor['id']}", json={"version": 1, "legal_name": "CMG SARL"})
    await move(agent, actor["id"], "submit")

    response = await client(stack, "auditor", user="audrey").get(f"/actors/{actor['id']}/history")

    assert response.status_code == 200
    entries = response.json()["items"]
    assert [(e["entity_type"], e["action"], e["user_id"]) for e in entries] == [
        ("actor", "registered", "fiona"),
        ("person", "person_added", "fiona"),
        ("licence", "licence_added", "fiona"),
        ("document", "uploaded", "fiona"),
        ("person", "person_updated", "ana"),
        ("licence", "licence_updated", "ana"),
        ("actor", "updated", "ana"),
        ("actor", "submitted", "fiona"),
    ]
    assert entries[3]["entity_id"] == document["id"] and entries[3]["changes"]["sha256"]["after"] == document["sha256"]
    assert entries[4]["changes"] == {"ownership_pct": {"before": 60.0, "after": 75.0}}
    assert entries[5]["changes"] == {"valid_to": {"before": "2030-12-31", "after": "2031-06-30"}}
    assert entries[6]["changes"]["legal_name"] == {"before": "Comptoir Minier de Goma SARL", "after": "CMG SARL"}
    assert entries[7]["changes"]["kyc_status"] == {"before": "draft", "after": "submitted"}
    assert all(e["at"] for e in entries)


async def test_scheduled_changes_are_recorded_as_the_system(stack):
    http = client(stack)
    actor = await create_actor(http)
    await http.post(
        f"/actors/{actor['id']}/licences", json=licence_body(valid_from="2020-01-01", valid_to="2096-01-01")
    )
    await run_jobs(stack, now=datetime(2097, 1, 1, tzinfo=UTC))

    entries = (await http.get(f"/actors/{actor['id']}/history")).json()["items"]

    expired = [e for e in entries if e["action"] == "expired_announced"]
    assert len(expired) == 1 and expired[0]["user_id"] == "system"


async def test_history_pages(stack):
    http = client(stack)
    actor = await create_actor(http)
    for number in range(3):
        await http.post(f"/actors/{actor['id']}/licences", json=licence_body(number=f"N-{number}"))

    page = (await http.get(f"/actors/{actor['id']}/history", params={"limit": 2, "offset": 2})).json()

    assert page["total"] == 4 and [e["action"] for e in page["items"]] == ["licence_added", "licence_added"]
