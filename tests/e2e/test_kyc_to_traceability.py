"""Actors worked on through the KYC API reach traceability: KYC outbox → relay → broker → consumer → read model,
and the read model rebuilt from the topic by a new consumer group ends in the same state."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from libs.common import bus
from libs.common.events.base import new_event_id
from libs.common.relay import Relay
from libs.common.tables import OutboxMessageRow, ProcessedEventRow
from services.traceability.handlers import HANDLERS as TRACEABILITY_HANDLERS
from services.traceability.tables import KnownActorRow
from tests.kyc.register_support import actor_body, client, licence_body, move, person_body, run_jobs
from tests.support.bus import envelopes, eventually, read_topic, running

FOLLOWED = {event_class.event_type() for event_class in TRACEABILITY_HANDLERS}
COPIED = ("actor_id", "org_id", "legal_name", "actor_type", "country", "region", "kyc_status", "risk_level", "version")


async def known_actor(stack, actor_id: str) -> KnownActorRow | None:  # type: ignore[no-untyped-def]
    async with stack.sessions("traceability")() as db:
        return await db.get(KnownActorRow, UUID(actor_id))


def consumer(stack, name: str = "traceability") -> bus.Consumer:  # type: ignore[no-untyped-def]
    return bus.Consumer(
        stack.settings("traceability"), stack.sessions("traceability"), TRACEABILITY_HANDLERS, name=name
    )


async def test_an_actor_approved_in_kyc_is_known_as_approved_in_traceability(stack, broker):
    agent, reviewer = client(stack, "field_agent", user="fiona"), client(stack, "analyst", user="bob")
    actor = (await agent.post("/actors", json=actor_body())).json()
    await agent.post(f"/actors/{actor['id']}/persons", json=person_body())
    await agent.post(f"/actors/{actor['id']}/licences", json=licence_body())
    assert (await move(agent, actor["id"], "submit")).status_code == 200
    assert (await move(reviewer, actor["id"], "start-review")).status_code == 200
    await run_jobs(stack)  # the KYC worker's jobs: screening runs, so nothing is pending
    approved = await move(reviewer, actor["id"], "approve")
    assert approved.status_code == 200, approved.text

    async with running(Relay(stack.settings("kyc"), stack.sessions("kyc")).run, consumer(stack).run):
        row = await eventually(lambda: _approved(stack, actor["id"]))

    assert (row.legal_name, row.actor_type, row.risk_level, row.country, row.region) == (
        "Comptoir Minier de Goma SARL",
        "trader",
        "medium",
        "CD",
        "CD-NK",
    )
    records = await read_topic(broker.bootstrap, "kyc.events")
    of_actor = [e for e in envelopes(records) if e.key == actor["id"]]
    lifecycle = [
        e.event_type
        for e in of_actor
        if e.event_type in ("ActorRegistered.v1", "ActorSubmitted.v1", "ActorApproved.v1")
    ]
    assert lifecycle == ["ActorRegistered.v1", "ActorSubmitted.v1", "ActorApproved.v1"]
    assert row.version == max(e.payload["aggregate_version"] for e in of_actor if e.event_type in FOLLOWED)


async def _approved(stack, actor_id: str) -> KnownActorRow | None:  # type: ignore[no-untyped-def]
    row = await known_actor(stack, actor_id)
    return row if row is not None and row.kyc_status == "approved" else None


async def test_the_read_model_rebuilt_from_the_topic_by_a_new_consumer_group_is_the_same(stack, broker):
    actor_ids = await work_on_actors(stack)
    expected = await copies_kyc_expects(stack)
    assert set(expected) == set(actor_ids)

    async with running(Relay(stack.settings("kyc"), stack.sessions("kyc")).run, consumer(stack).run):
        first = await eventually(lambda: _once_equal(stack, expected))
    await resend_as_new(stack, broker, actor_ids[0], "ActorRegistered.v1")  # old news the inbox has never seen
    await forget_everything(stack)
    async with running(consumer(stack, "traceability-rebuild").run):
        rebuilt = await eventually(lambda: _once_equal(stack, expected))

    assert rebuilt == first == expected
    lifecycle = first[actor_ids[0]]
    assert (
        lifecycle["legal_name"],
        lifecycle["actor_type"],
        lifecycle["country"],
        lifecycle["region"],
        lifecycle["kyc_status"],
    ) == ("Comptoir Minier du Kivu SA", "exporter", "RW", None, "approved")
    read = await stack.client("traceability", stack.token(org="org-a")).get(f"/known-actors/{actor_ids[0]}")
    assert {k: read.json()[k] for k in ("country", "region", "kyc_status", "version")} == {
        "country": "RW",
        "region": None,
        "kyc_status": "approved",
        "version": lifecycle["version"],
    }


async def work_on_actors(stack) -> list[str]:  # type: ignore[no-untyped-def]
    """One actor through renames, a rejection, a reopening, a move abroad, approval, suspension and reinstatement;
    one left submitted; one of another organisation left as registered."""
    agent, editor = client(stack, "field_agent", user="fiona"), client(stack, "analyst", user="ana")
    reviewer, admin = client(stack, "analyst", user="bob"), client(stack, "admin", user="carol")
    actor = (await agent.post("/actors", json=actor_body())).json()
    path = f"/actors/{actor['id']}"
    renamed = await editor.patch(
        path, json={"version": 1, "legal_name": "Comptoir Minier du Kivu SA", "actor_type": "exporter"}
    )
    assert renamed.status_code == 200, renamed.text
    await agent.post(f"{path}/persons", json=person_body())
    await agent.post(f"{path}/licences", json=licence_body())
    await _submitted_and_screened(stack, agent, reviewer, path)
    assert (await move(reviewer, actor["id"], "reject", reason="tax number missing")).status_code == 200
    reopened = await move(agent, actor["id"], "reopen")
    assert reopened.status_code == 200, reopened.text
    moved = await editor.patch(path, json={"version": reopened.json()["version"], "country": "RW", "region": None})
    assert moved.status_code == 200, moved.text
    await _submitted_and_screened(stack, agent, reviewer, path)
    for step, body in (("approve", {}), ("suspend", {"reason": "audit"}), ("reinstate", {"reason": "cleared"})):
        response = await move(reviewer, actor["id"], step, **body)
        assert response.status_code == 200, response.text
    assert (await admin.post(f"{path}/shares", json={"org_id": "smelter-1"})).status_code == 200
    waiting = (
        await agent.post(
            "/actors", json=actor_body(legal_name="Coopérative Minière de Walikale", registration_number="CD/WAL/1")
        )
    ).json()
    assert (await move(agent, waiting["id"], "submit")).status_code == 200
    elsewhere = (await client(stack, "field_agent", org="org-b").post("/actors", json=actor_body())).json()
    return [actor["id"], waiting["id"], elsewhere["id"]]


async def _submitted_and_screened(stack, agent, reviewer, path: str) -> None:  # type: ignore[no-untyped-def]
    actor_id = path.rpartition("/")[2]
    assert (await move(agent, actor_id, "submit")).status_code == 200
    assert (await move(reviewer, actor_id, "start-review")).status_code == 200
    await run_jobs(stack)


async def copies_kyc_expects(stack) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Per actor, the state and version of the last event traceability follows, read from KYC's outbox."""
    async with stack.sessions("kyc")() as db:
        rows = (
            (
                await db.execute(
                    sa.select(OutboxMessageRow)
                    .where(OutboxMessageRow.event_type.in_(FOLLOWED))
                    .order_by(OutboxMessageRow.id)
                )
            )
            .scalars()
            .all()
        )
    expected: dict[str, dict[str, Any]] = {}
    for row in rows:
        payload = json.loads(row.payload)
        expected[row.key] = {**{f: payload["actor"].get(f) for f in COPIED}, "version": payload["aggregate_version"]}
    return expected


async def read_model(stack) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    async with stack.sessions("traceability")() as db:
        rows = (await db.execute(sa.select(KnownActorRow))).scalars().all()
    return {
        str(r.actor_id): {f: str(r.actor_id) if f == "actor_id" else getattr(r, f) for f in COPIED} for r in rows
    }  # updated_at is when our copy changed: a rebuild has its own


async def _once_equal(stack, expected: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]] | None:  # type: ignore[no-untyped-def]
    state = await read_model(stack)
    return state if state == expected else None


async def resend_as_new(stack, broker, key: str, event_type: str) -> None:  # type: ignore[no-untyped-def]
    """Publish the first `event_type` of `key` again at the end of the topic, under a new event id."""
    old = next(
        e
        for e in envelopes(await read_topic(broker.bootstrap, "kyc.events"))
        if e.key == key and e.event_type == event_type
    )
    message = replace(old, event_id=new_event_id()).to_kafka()
    producer = bus.make_producer(stack.settings("kyc"))
    await producer.start()
    try:
        await producer.send_and_wait(
            "kyc.events", value=message.value, key=key.encode(), headers=list(message.headers.items())
        )
    finally:
        await producer.stop()


async def forget_everything(stack) -> None:  # type: ignore[no-untyped-def]
    async with stack.sessions("traceability")() as db, db.begin():
        await db.execute(sa.delete(KnownActorRow))
        await db.execute(sa.delete(ProcessedEventRow))
    assert await read_model(stack) == {}
