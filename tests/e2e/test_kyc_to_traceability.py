"""An actor approved through the KYC API reaches traceability: KYC outbox → relay → broker → consumer → read model."""
from __future__ import annotations

from uuid import UUID

from libs.common import bus
from libs.common.relay import Relay
from services.traceability.handlers import HANDLERS as TRACEABILITY_HANDLERS
from services.traceability.tables import KnownActorRow
from tests.kyc.register_support import actor_body, client, licence_body, person_body, run_jobs
from tests.support.bus import envelopes, eventually, read_topic, running


async def known_actor(stack, actor_id: str) -> KnownActorRow | None:  # type: ignore[no-untyped-def]
    async with stack.sessions("traceability")() as db:
        return await db.get(KnownActorRow, UUID(actor_id))


async def test_an_actor_approved_in_kyc_is_known_as_approved_in_traceability(stack, broker):
    agent, reviewer = client(stack, "field_agent", user="fiona"), client(stack, "analyst", user="bob")
    actor = (await agent.post("/actors", json=actor_body())).json()
    await agent.post(f"/actors/{actor['id']}/persons", json=person_body())
    await agent.post(f"/actors/{actor['id']}/licences", json=licence_body())
    assert (await agent.post(f"/actors/{actor['id']}/submit")).status_code == 200
    assert (await reviewer.post(f"/actors/{actor['id']}/start-review")).status_code == 200
    await run_jobs(stack)  # the KYC worker's jobs: screening runs, so nothing is pending
    approved = await reviewer.post(f"/actors/{actor['id']}/approve")
    assert approved.status_code == 200, approved.text

    consumer = bus.Consumer(stack.settings("traceability"), stack.sessions("traceability"), TRACEABILITY_HANDLERS)
    async with running(Relay(stack.settings("kyc"), stack.sessions("kyc")).run, consumer.run):
        row = await eventually(lambda: _approved(stack, actor["id"]))

    assert (row.legal_name, row.actor_type, row.risk_level) == ("Comptoir Minier de Goma SARL", "trader", "medium")
    records = await read_topic(broker.bootstrap, "kyc.events")
    of_actor = [e.event_type for e in envelopes(records) if e.key == actor["id"]]
    lifecycle = [t for t in of_actor if t in ("ActorRegistered.v1", "ActorSubmitted.v1", "ActorApproved.v1")]
    assert lifecycle == ["ActorRegistered.v1", "ActorSubmitted.v1", "ActorApproved.v1"]


async def _approved(stack, actor_id: str) -> KnownActorRow | None:  # type: ignore[no-untyped-def]
    row = await known_actor(stack, actor_id)
    return row if row is not None and row.kyc_status == "approved" else None
