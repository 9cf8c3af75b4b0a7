"""The review queue: analysts confirm or dismiss hits with a reason, once; a false positive is not raised again
unless the list entry or the subject changes; other organisations see nothing."""

from __future__ import annotations

from uuid import UUID

import pytest

from libs.common.relay import Relay
from libs.common.tables import OutboxMessageRow
from services.kyc.repository import screening as repository
from services.kyc.tables.register import AuditEntryRow
from services.kyc.use_cases import screening
from tests.kyc.register_support import edit, remove
from tests.kyc.screening_steps import (
    add_person,
    events,
    hits,
    imported,
    register_actor,
    rows,
    run_screening,
    upload,
)
from tests.kyc.watchlist_files import (
    GLMC,
    KAZANTSEV,
    MULUMBA,
    UN_LIST,
    ZUBAIDI,
    UnIndividual,
    un_xml,
)
from tests.support.bus import envelopes, eventually, read_topic, running


async def screened_namesake(stack, client):  # type: ignore[no-untyped-def]
    """A list, an actor with a namesake of a listed person, screened: one pending hit."""
    watchlist = await imported(client, UN_LIST)
    actor = await register_actor(client, "Comptoir Lumière")
    person = await add_person(client, actor["id"], "Jean-Pierre Mulumba", birth_date="1972-03-03")
    await run_screening(stack)
    [hit] = await hits(client, status="pending")
    return watchlist, actor, person, hit


async def screen_again(stack, actor: dict, person: dict) -> None:  # type: ignore[no-untyped-def]
    """What part A does when a subject is saved again: queue it (here with nothing changed)."""
    async with stack.sessions("kyc")() as db, db.begin():
        await screening.request_screening(
            db, org_id="org-a", actor_id=UUID(actor["id"]), subject_type="person", subject_id=UUID(person["id"])
        )
    await run_screening(stack)


async def test_the_queue_lists_pending_hits_of_the_callers_organisation_page_by_page(stack):
    client = stack.client("kyc", stack.token(roles=("analyst",)))
    await imported(stack.client("kyc", stack.token()), UN_LIST)
    actor = await register_actor(client, "Great Lakes Mining Company")
    for name in ("Viktor Kazantsev", "Khalid Hassan Al-Zubaidi", "Jean-Pierre Mulumba"):
        await add_person(client, actor["id"], name)
    await run_screening(stack)

    first = (await client.get("/screening/hits", params={"status": "pending", "limit": 3})).json()
    second = (await client.get("/screening/hits", params={"status": "pending", "limit": 3, "offset": 3})).json()
    auditor = stack.client("kyc", stack.token(roles=("auditor",)))
    stranger = stack.client("kyc", stack.token(org="org-b", roles=("analyst",)))

    assert first["total"] == 4 and len(first["items"]) == 3 and len(second["items"]) == 1
    scores = [h["score"] for h in first["items"] + second["items"]]
    assert scores == sorted(scores, reverse=True)
    assert (await auditor.get("/screening/hits")).json()["total"] == 4
    assert (await stranger.get("/screening/hits")).json() == {"items": [], "total": 0, "limit": 100, "offset": 0}
    assert (await stranger.get(f"/screening/hits/{first['items'][0]['id']}")).status_code == 404


async def test_confirming_a_hit_records_who_why_and_publishes_hit_confirmed(stack):
    client = stack.client("kyc", stack.token())
    _, actor, person, hit = await screened_namesake(stack, client)
    reviewer = stack.client("kyc", stack.token(roles=("analyst",), user="bob"))

    response = await reviewer.post(f"/screening/hits/{hit['id']}/confirm", json={"reason": "same passport photo"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["decided_by"], body["reason"]) == ("confirmed", "bob", "same passport photo")
    [event] = await events(stack, "HitConfirmed.v1")
    assert event["hit_id"] == hit["id"] and event["actor_id"] == actor["id"] and event["subject_id"] == person["id"]
    assert event["list_name"] == "UN SC consolidated" and event["entry_id"] == MULUMBA.reference
    [audit] = await rows(stack, AuditEntryRow, entity_type="screening_hit")
    assert (audit.action, audit.user_id, audit.actor_id) == ("confirmed", "bob", UUID(actor["id"]))
    assert (await client.get("/screening/hits", params={"status": "confirmed"})).json()["total"] == 1
    assert (await client.get(f"/actors/{actor['id']}/screening")).json()["confirmed_hits"] == 1


async def test_a_hit_is_decided_once(stack):
    client = stack.client("kyc", stack.token())
    *_, hit = await screened_namesake(stack, client)
    await client.post(f"/screening/hits/{hit['id']}/dismiss", json={"reason": "born 1972, listed 1971: another man"})

    again = await client.post(f"/screening/hits/{hit['id']}/dismiss", json={"reason": "again"})
    other = await client.post(f"/screening/hits/{hit['id']}/confirm", json={"reason": "changed my mind"})

    assert again.status_code == 409 and again.json()["code"] == "hit_already_decided"
    assert other.status_code == 409
    assert len(await events(stack, "HitDismissed.v1")) == 1


async def test_a_decision_needs_a_reason_a_reviewer_role_and_the_hits_organisation(stack):
    client = stack.client("kyc", stack.token())
    *_, hit = await screened_namesake(stack, client)
    url = f"/screening/hits/{hit['id']}/dismiss"

    assert (await client.post(url, json={})).status_code == 422
    assert (await client.post(url, json={"reason": ""})).status_code == 422
    field_agent = stack.client("kyc", stack.token(roles=("field_agent",)))
    assert (await field_agent.post(url, json={"reason": "no"})).status_code == 403
    smelter = stack.client("kyc", stack.token(kind="smelter", roles=("analyst",)))
    assert (await smelter.post(url, json={"reason": "no"})).status_code == 403
    stranger = stack.client("kyc", stack.token(org="org-b", roles=("analyst",)))
    assert (await stranger.post(url, json={"reason": "no"})).status_code == 404
    assert (await client.get(f"/screening/hits/{hit['id']}")).json()["status"] == "pending"


async def test_a_dismissed_false_positive_is_not_raised_again_while_nothing_changed(stack):
    client = stack.client("kyc", stack.token())
    _, actor, person, hit = await screened_namesake(stack, client)
    await client.post(f"/screening/hits/{hit['id']}/dismiss", json={"reason": "born 1972, listed 1971: another man"})

    await screen_again(stack, actor, person)

    assert await hits(client, status="pending") == []
    assert len(await hits(client)) == 1
    last = (await events(stack, "ScreeningCompleted.v1"))[-1]
    assert (last["subject_id"], last["hit_count"], last["new_hit_count"]) == (person["id"], 0, 0)


async def test_a_dismissed_false_positive_is_raised_again_when_the_list_entry_changes(stack):
    client = stack.client("kyc", stack.token())
    watchlist, _, _, hit = await screened_namesake(stack, client)
    await client.post(f"/screening/hits/{hit['id']}/dismiss", json={"reason": "born 1972, listed 1971: another man"})
    relisted = UnIndividual(**{**MULUMBA.__dict__, "aliases": ["Jean-Pierre Mulumba"]})

    await upload(client, watchlist["id"], un_xml([KAZANTSEV, ZUBAIDI, relisted], [GLMC]))
    await run_screening(stack)

    [raised] = await hits(client, status="pending")
    assert raised["id"] != hit["id"] and raised["entry_id"] == MULUMBA.reference
    assert raised["matched_name"] == "Jean-Pierre Mulumba"
    because = raised["reraised_because"]
    assert (because["previous_hit_id"], because["dismissal_reason"]) == (
        hit["id"],
        "born 1972, listed 1971: another man",
    )
    assert because["changes"] == [
        {
            "kind": "entry_changed",
            "field": None,
            "before": None,
            "after": None,
            "list_version_before": 1,
            "list_version_after": 2,
        }
    ]
    assert because["summary"] == "list entry changed in list version 2 (dismissed against version 1)"
    assert hit["reraised_because"] is None


async def test_a_dismissed_false_positive_is_raised_again_when_the_subject_changes(stack):
    client = stack.client("kyc", stack.token())
    _, actor, person, hit = await screened_namesake(stack, client)
    await client.post(f"/screening/hits/{hit['id']}/dismiss", json={"reason": "born 1972, listed 1971: another man"})

    await edit(client, f"/actors/{actor['id']}/persons/{person['id']}", nationality="CD")
    await run_screening(stack)

    [raised] = await hits(client, status="pending")
    assert raised["subject_id"] == person["id"] and any("country CD matches" in line for line in raised["explanation"])
    because = raised["reraised_because"]
    assert (because["previous_hit_id"], because["dismissed_by"]) == (hit["id"], "alice")
    assert [(c["kind"], c["field"], c["before"], c["after"]) for c in because["changes"]] == [
        ("subject_changed", "countries", [], ["CD"])
    ]


async def test_a_dismissed_hit_raised_again_after_a_rename_says_from_what_to_what(stack):
    client = stack.client("kyc", stack.token())
    _, actor, person, hit = await screened_namesake(stack, client)
    await client.post(f"/screening/hits/{hit['id']}/dismiss", json={"reason": "born 1972, listed 1971: another man"})

    await edit(client, f"/actors/{actor['id']}/persons/{person['id']}", full_name="Jean Pierre Mulumba")
    await run_screening(stack)

    [raised] = await hits(client, status="pending")
    because = raised["reraised_because"]
    assert because["previous_hit_id"] == hit["id"]
    assert because["summary"] == "subject name changed from 'Jean-Pierre Mulumba' to 'Jean Pierre Mulumba'"


async def test_a_removed_persons_hits_no_longer_block_its_actor(stack):
    client = stack.client("kyc", stack.token())
    _, actor, person, _ = await screened_namesake(stack, client)

    await remove(client, f"/actors/{actor['id']}/persons/{person['id']}")

    summary = (await client.get(f"/actors/{actor['id']}/screening")).json()
    assert summary["pending_hits"] == 1  # kept for the record
    async with stack.sessions("kyc")() as db:
        assert await repository.count_blocking_hits(db, actor_id=UUID(actor["id"])) == 0


async def test_screening_and_decisions_reach_the_kyc_topic(stack, broker):
    client = stack.client("kyc", stack.token())
    _, actor, _, hit = await screened_namesake(stack, client)
    await client.post(f"/screening/hits/{hit['id']}/dismiss", json={"reason": "born 1972, listed 1971: another man"})

    async with running(Relay(stack.settings("kyc"), stack.sessions("kyc")).run):
        await eventually(lambda: _all_published(stack))
    published = [
        e for e in envelopes(await read_topic(broker.bootstrap, "kyc.events", expect=1)) if e.key == actor["id"]
    ]

    types = [e.event_type for e in published]
    assert "ScreeningCompleted.v1" in types and types[-1] == "HitDismissed.v1"
    assert published[-1].payload["hit_id"] == hit["id"]


async def _all_published(stack) -> bool:  # type: ignore[no-untyped-def]
    return all(row.published_at is not None for row in await rows(stack, OutboxMessageRow))


async def test_two_workers_never_take_the_same_screening_request(stack):
    if stack.engine("kyc").dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers (a second transaction waits for the first); SKIP LOCKED is PostgreSQL's")
    client = stack.client("kyc", stack.token())
    actor = await register_actor(client, "Comptoir Lumière")
    for n in range(3):
        await add_person(client, actor["id"], f"Person {n}")
    sessions = stack.sessions("kyc")

    async with sessions() as first, first.begin(), sessions() as second, second.begin():
        mine = await repository.claim_pending_requests(first, limit=2)
        theirs = await repository.claim_pending_requests(second, limit=10)

    assert len(mine) == 2 and len(theirs) == 2
    assert not {r.id for r in mine} & {r.id for r in theirs}
