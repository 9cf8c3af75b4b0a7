"""The dead-letter commands an operator runs: `python -m services.<name> deadletters` and `replay-deadletters`."""

from __future__ import annotations

import asyncio
import os
import sys
from uuid import uuid4

from libs.common import deadletters
from libs.common.bus import Delivery
from libs.common.db import utcnow
from libs.common.events import Envelope
from libs.common.events.kyc import ActorRegistered, ActorState
from services.traceability.tables import KnownActorRow


async def run_command(stack, command: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    env = {**os.environ, "TRACEABILITY_DATABASE_URL": stack.database_urls["traceability"], "LOG_LEVEL": "WARNING"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.traceability",
        command,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, output.decode()


async def test_an_operator_lists_the_dead_letters_and_replays_them_once_after_the_fix(stack):
    actor_id = uuid4()
    state = ActorState(
        actor_id=actor_id,
        org_id="org-a",
        actor_type="trader",
        legal_name="Comptoir du Lac",
        country="CD",
        kyc_status="draft",
    )
    event = ActorRegistered(org_id="org-a", actor_id=actor_id, actor=state, aggregate_version=1)
    message = Envelope(
        event_id=str(uuid4()),
        event_type=event.event_type(),
        source="/assay/kyc",
        key=str(actor_id),
        time=utcnow(),
        payload=event.model_dump_json().encode(),
    ).to_kafka()
    delivery = Delivery("kyc.events", 0, 7, str(actor_id).encode(), message.value, tuple(message.headers.items()))
    async with stack.sessions("traceability")() as db, db.begin():  # as the consumer left it after a bug
        await deadletters.record(
            db,
            consumer="traceability",
            delivery=delivery,
            envelope=None,
            error="RuntimeError: a bug since fixed",
            attempts=5,
        )

    listed, listing = await run_command(stack, "deadletters")
    replayed, replay = await run_command(stack, "replay-deadletters")
    again, second = await run_command(stack, "replay-deadletters")

    assert listed == 0 and "1 pending dead letter(s) for consumer traceability" in listing
    assert "kyc.events[0]@7" in listing and "a bug since fixed" in listing
    assert replayed == 0 and "replayed 1, still failing 0" in replay, replay
    assert again == 0 and "replayed 0, still failing 0" in second
    async with stack.sessions("traceability")() as db:
        row = await db.get(KnownActorRow, actor_id)
    assert row is not None and (row.legal_name, row.kyc_status, row.version) == ("Comptoir du Lac", "draft", 1)
