"""Screening end to end: lists imported through the API, actors and persons registered through the API, the
worker's job screening them; transliterated and re-ordered names found; new snapshots re-screen only what changed."""

from __future__ import annotations

from uuid import UUID

import pytest

from libs.common.worker import run_worker
from services.kyc.jobs import jobs
from services.kyc.repository import screening as screening_repository
from tests.kyc.register_support import edit, move
from tests.kyc.screening_steps import (
    add_person,
    events,
    hits,
    imported,
    register_actor,
    run_screening,
    upload,
)
from tests.kyc.watchlist_files import (
    FTM_LIST,
    GLMC,
    KAZANTSEV,
    MULUMBA,
    UN_LIST,
    ZUBAIDI,
    UnIndividual,
    un_xml,
)
from tests.support.bus import eventually, running

NEWCOMER = UnIndividual("CDi.904", "Bosco", "Ntabo", "Ruhigita", birth_date="1973-07-11", nationality="Rwanda")


def says(explanation: list[str], reason: str) -> bool:
    """The engine words its reasons; the tests look for the fact, not the whole line."""
    return any(reason in line for line in explanation)


async def pending_screenings(stack, actor_id: str) -> int:  # type: ignore[no-untyped-def]
    async with stack.sessions("kyc")() as db:
        return await screening_repository.count_pending_screenings(db, actor_id=UUID(actor_id))


async def blocking_hits(stack, actor_id: str) -> int:  # type: ignore[no-untyped-def]
    async with stack.sessions("kyc")() as db:
        return await screening_repository.count_blocking_hits(db, actor_id=UUID(actor_id))


async def test_transliterated_and_reordered_names_of_listed_people_are_found_in_a_un_list(stack):
    client = stack.client("kyc", stack.token())
    await imported(client, UN_LIST)
    actor = await register_actor(client, "Great Lakes Mining Co Ltd")
    cyrillic = await add_person(
        client,
        actor["id"],
        "Казанцев Виктор Андреевич",
        birth_date="1968-04-12",
        nationality="RU",
        identifiers=["P-7734521"],
    )
    arabic = await add_person(client, actor["id"], "خالد حسن الزبيدي")
    reordered = await add_person(client, actor["id"], "Kabeya Mulumba Jean Pierre", role="director")
    await add_person(client, actor["id"], "Marie Uwimana", role="manager")
    assert await pending_screenings(stack, actor["id"]) == 6  # the actor, four persons, the new list snapshot

    assert await run_screening(stack) == 6

    found = {(h["subject_id"], h["entry_id"]): h for h in await hits(client, status="pending")}
    assert set(found) == {
        (actor["id"], GLMC.reference),
        (cyrillic["id"], KAZANTSEV.reference),
        (arabic["id"], ZUBAIDI.reference),
        (reordered["id"], MULUMBA.reference),
    }
    kazantsev = found[(cyrillic["id"], KAZANTSEV.reference)]["explanation"]
    assert says(kazantsev, "transliterated from Cyrillic script") and says(kazantsev, "word order differs")
    assert says(found[(arabic["id"], ZUBAIDI.reference)]["explanation"], "transliterated from Arabic script")
    assert says(found[(reordered["id"], MULUMBA.reference)]["explanation"], "word order differs")
    assert await pending_screenings(stack, actor["id"]) == 0
    assert await blocking_hits(stack, actor["id"]) == 4


async def test_secondary_identifiers_show_in_the_explanation_and_raise_the_score(stack):
    client = stack.client("kyc", stack.token())
    await imported(client, UN_LIST)
    actor = await register_actor(client, "Comptoir Lumière")
    bare = await add_person(client, actor["id"], "Viktor Kazantsov")
    known = await add_person(
        client,
        actor["id"],
        "Viktor Kazantsov",
        birth_date="1968-04-12",
        nationality="RU",
        identifiers=["P 7734521"],
        role="director",
    )

    await run_screening(stack)

    found = {h["subject_id"]: h for h in await hits(client)}
    explanation = found[known["id"]]["explanation"]
    assert says(explanation, "birth date 1968-04-12 matches")
    assert says(explanation, "identifier P7734521 identical")
    assert says(explanation, "country RU matches")
    assert found[known["id"]]["score"] > found[bare["id"]]["score"]
    detail = (await client.get(f"/screening/hits/{found[known['id']]['id']}")).json()
    assert detail["explanation"] == explanation and detail["watchlist_name"] == "UN SC consolidated"


async def test_an_ftm_export_is_matched_by_name_and_registration_number(stack):
    client = stack.client("kyc", stack.token())
    await imported(client, FTM_LIST, name="OpenSanctions", fmt="ftm_jsonl")
    actor = await register_actor(client, "Kivu Or Comptoir Minier SARL", registration_number="CD/GOM/RCCM/14-B-0231")
    owner = await add_person(client, actor["id"], "Mwamba Amani", birth_date="1980-02-14", nationality="CD")

    await run_screening(stack)

    found = {h["subject_id"]: h for h in await hits(client, actor_id=actor["id"])}
    assert found[actor["id"]]["entry_id"] == "NK-ex-001"
    assert says(found[actor["id"]]["explanation"], "identifier CDGOMRCCM14B0231 identical")
    assert found[owner["id"]]["entry_id"] == "NK-ex-002"
    assert says(found[owner["id"]]["explanation"], "word order differs")


async def test_screening_completed_tells_the_hit_count_keyed_by_the_actor(stack):
    client = stack.client("kyc", stack.token())
    await imported(client, UN_LIST)
    clean = await register_actor(client, "Coopérative Minière Tujenge")
    listed = await register_actor(client, "Great Lakes Mining Company")

    await run_screening(stack)

    completed = {e["subject_id"]: e for e in await events(stack, "ScreeningCompleted.v1")}
    assert completed[clean["id"]]["hit_count"] == 0
    assert completed[listed["id"]]["hit_count"] == 1 and completed[listed["id"]]["actor_id"] == listed["id"]
    assert len(completed[clean["id"]]["list_snapshot_ids"]) == 1


@pytest.mark.parametrize("delta_index_max", [20_000, 0], ids=["own index of the delta", "whole index, filtered"])
async def test_a_new_snapshot_rescreens_every_subject_against_only_the_entries_it_added_or_changed(
    stack, delta_index_max
):
    client = stack.client("kyc", stack.token())
    watchlist = await imported(client, UN_LIST)
    actor = await register_actor(client, "Comptoir Lumière")
    namesake = await add_person(client, actor["id"], "Viktor Kazantsov")  # scores 0.97 against CDi.901
    newcomer = await add_person(client, actor["id"], "Bosco Ntabo", role="director")
    await run_screening(stack, kyc_screening_threshold=0.99)
    assert await hits(client) == []

    response = await upload(client, watchlist["id"], un_xml([KAZANTSEV, ZUBAIDI, MULUMBA, NEWCOMER], [GLMC]))
    assert response.json()["added_count"] == 1 and response.json()["changed_count"] == 0
    assert await run_screening(stack, kyc_screening_delta_index_max=delta_index_max) == 1

    assert [(h["subject_id"], h["entry_id"]) for h in await hits(client)] == [(newcomer["id"], NEWCOMER.reference)]
    rescreened = [e for e in await events(stack, "ScreeningCompleted.v1") if e["new_hit_count"]]
    assert [e["subject_id"] for e in rescreened] == [newcomer["id"]]
    # The namesake meets CDi.901 again only when it is screened as a whole (here: its aliases change).
    await edit(client, f"/actors/{actor['id']}/persons/{namesake['id']}", aliases=["V. Kazantsev"])
    await run_screening(stack)
    assert {h["entry_id"] for h in await hits(client, actor_id=actor["id"])} == {"CDi.901", "CDi.904"}


async def test_the_index_follows_new_snapshots_in_a_running_worker_and_after_a_restart(stack):
    client = stack.client("kyc", stack.token())
    watchlist = await imported(client, UN_LIST)
    worker = jobs(stack.settings("kyc"))
    actor = await register_actor(client, "Comptoir Lumière")
    await run_screening(stack, worker)  # the running worker builds its index from version 1
    await upload(client, watchlist["id"], un_xml([ZUBAIDI, MULUMBA, NEWCOMER], [GLMC]))  # CDi.901 delisted
    await run_screening(stack, worker)

    gone = await add_person(client, actor["id"], "Viktor Andreyevich Kazantsev")
    new = await add_person(client, actor["id"], "Bosco Ntabo Ruhigita", role="director")
    await run_screening(stack, worker)
    in_step = {h["subject_id"]: h["entry_id"] for h in await hits(client)}
    await add_person(client, actor["id"], "Ruhigita Bosco", role="manager")
    await run_screening(stack)  # a fresh process: rebuilt from the database

    assert in_step == {new["id"]: NEWCOMER.reference} and gone["id"] not in in_step
    assert len(await hits(client, status="pending")) == 2


async def test_a_delisted_entry_flags_its_hits_which_stay_for_a_decision(stack):
    client = stack.client("kyc", stack.token())
    watchlist = await imported(client, UN_LIST)
    actor = await register_actor(client, "Comptoir Lumière")
    await add_person(client, actor["id"], "Viktor Andreyevich Kazantsev")
    await run_screening(stack)

    await upload(client, watchlist["id"], un_xml([ZUBAIDI, MULUMBA], [GLMC]))

    [hit] = await hits(client)
    assert hit["entry_removed"] is True and hit["status"] == "pending"
    assert await blocking_hits(stack, actor["id"]) == 1


async def test_approval_waits_for_screening_and_then_for_the_hits_to_be_cleared(stack):
    client = stack.client("kyc", stack.token())
    reviewer = stack.client("kyc", stack.token(roles=("analyst",), user="bob"))
    await imported(client, UN_LIST)
    actor = await register_actor(client, "Great Lakes Mining Company")
    await move(client, actor["id"], "submit")
    await move(reviewer, actor["id"], "start-review")

    before = await move(reviewer, actor["id"], "approve")
    await run_screening(stack)
    blocked = await move(reviewer, actor["id"], "approve")
    [hit] = await hits(client)
    await reviewer.post(f"/screening/hits/{hit['id']}/dismiss", json={"reason": "a different company, other RCCM"})
    approved = await move(reviewer, actor["id"], "approve")

    assert before.status_code == 409 and before.json()["code"] == "screening_pending"
    assert blocked.status_code == 409 and blocked.json()["code"] == "open_hits"
    assert approved.status_code == 200, approved.text


async def test_the_running_worker_screens_new_subjects_by_itself(stack):
    client = stack.client("kyc", stack.token())
    await imported(client, UN_LIST)
    settings = stack.settings("kyc", scheduler_interval_seconds=0.1, kyc_screening_interval_seconds=0.1)

    async def worker(stop):  # type: ignore[no-untyped-def]
        await run_worker(settings, stack.sessions("kyc"), handlers={}, jobs=jobs(settings), stop=stop)

    async with running(worker):
        actor = await register_actor(client, "Great Lakes Mining Company")
        [hit] = await eventually(lambda: hits(client, actor_id=actor["id"]))

    assert hit["entry_id"] == GLMC.reference
    assert await pending_screenings(stack, actor["id"]) == 0


async def test_a_legal_person_is_screened_as_an_organisation(stack):
    client = stack.client("kyc", stack.token())
    await imported(client, UN_LIST)
    actor = await register_actor(client, "Comptoir Lumière")
    holding = await add_person(
        client,
        actor["id"],
        "Great Lakes Mining Co",
        person_type="legal",
        role="shareholder",
        ownership_pct=60,
        nationality="CD",
    )

    await run_screening(stack)

    [hit] = await hits(client)
    assert (hit["subject_id"], hit["entry_id"]) == (holding["id"], GLMC.reference)
    assert not any(line.startswith("kind differs") for line in hit["explanation"])
