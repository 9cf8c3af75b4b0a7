"""Database errors a route lets through: a unique violation is the caller's conflict, anything else our bug."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
import sqlalchemy as sa
from fastapi import APIRouter

from libs.common.db import DbTransaction, make_engine
from libs.common.errors import unique_violation
from libs.common.service import Service, create_app
from libs.common.tables import DeadLetterRow, PlatformTable
from services.traceability.settings import TraceabilitySettings
from services.traceability.tables import KnownActorRow, TraceabilityTable

KNOWN_ACTORS = KnownActorRow.__table__
# A route that writes whatever row it is sent, so a test can make the database refuse it.
router = APIRouter()


@router.post("/known-actors/raw")
async def insert_known_actor(body: dict, db: DbTransaction) -> dict:
    await db.execute(sa.insert(KNOWN_ACTORS).values(**known_actor(body)))
    return {"ok": True}


def known_actor(values: dict) -> dict:
    return {
        "org_id": "org-a",
        "legal_name": "Coopérative Minière de Kamituga",
        "actor_type": "cooperative",
        "country": "CD",
        "kyc_status": "approved",
        "version": 1,
        "updated_at": datetime.now(UTC),
        **values,
    }


def client(stack) -> httpx.AsyncClient:
    service = Service(
        name="traceability",
        settings=TraceabilitySettings,
        title="Assay Traceability",
        description="",
        metadata=TraceabilityTable.metadata,
        routers=[router],
        unique_codes={"known_actor_pkey": "actor_already_known"},
    )
    app = create_app(service, stack.settings("traceability"), engine=stack.engine("traceability"))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://test")


async def test_a_unique_violation_answers_409_with_the_code_the_service_declares(stack):
    actor_id = str(uuid4())
    async with client(stack) as http:
        first = await http.post("/known-actors/raw", json={"actor_id": actor_id})
        second = await http.post("/known-actors/raw", json={"actor_id": actor_id})

    assert first.status_code == 200
    assert second.status_code == 409
    assert second.headers["content-type"] == "application/problem+json"
    assert second.json()["code"] == "actor_already_known"


async def test_any_other_integrity_error_is_a_logged_500_that_tells_nothing_of_the_cause(stack, caplog):
    caplog.set_level(logging.ERROR, logger="assay.http")
    async with client(stack) as http:
        response = await http.post("/known-actors/raw", json={"actor_id": str(uuid4()), "legal_name": None})

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "internal_error"
    assert "legal_name" not in response.text and "null" not in body["detail"].lower()
    logged = [r for r in caplog.records if r.name == "assay.http"]
    assert logged and logged[0].exc_info is not None, "the cause is logged with the exception"


async def dead_letter_twice(engine) -> sa.exc.IntegrityError:
    row = {
        "consumer": "traceability",
        "event_id": str(uuid4()),
        "event_type": "ActorApproved.v1",
        "topic": "kyc.events",
        "partition": 0,
        "offset": 1,
        "headers": "[]",
        "value": "{}",
        "error": "boom",
        "attempts": 1,
        "failed_at": datetime.now(UTC),
    }
    async with engine.begin() as conn:
        await conn.execute(sa.insert(DeadLetterRow.__table__).values(**row))
    with pytest.raises(sa.exc.IntegrityError) as caught:
        async with engine.begin() as conn:
            await conn.execute(sa.insert(DeadLetterRow.__table__).values(**{**row, "offset": 2}))
    return caught.value


async def test_unique_violation_names_the_constraint_on_the_suites_database(stack):
    error = await dead_letter_twice(stack.engine("traceability"))

    assert unique_violation(error, metadata=[PlatformTable.metadata]) == "uq_dead_letter_consumer_event"


async def test_unique_violation_names_sqlite_constraints_as_postgresql_does(tmp_path: Path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'names.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(PlatformTable.metadata.create_all)
        await conn.run_sync(TraceabilityTable.metadata.create_all)
    try:
        named = await dead_letter_twice(engine)
        async with engine.begin() as conn:
            await conn.execute(sa.insert(KNOWN_ACTORS).values(**known_actor({"actor_id": uuid4()})))
        actor_id = uuid4()
        with pytest.raises(sa.exc.IntegrityError) as primary_key:
            async with engine.begin() as conn:
                await conn.execute(sa.insert(KNOWN_ACTORS), [known_actor({"actor_id": actor_id})] * 2)
        with pytest.raises(sa.exc.IntegrityError) as not_null:
            async with engine.begin() as conn:
                await conn.execute(sa.insert(KNOWN_ACTORS).values(**known_actor({"actor_id": uuid4(), "org_id": None})))
    finally:
        await engine.dispose()

    assert unique_violation(named, metadata=[PlatformTable.metadata]) == "uq_dead_letter_consumer_event"
    assert unique_violation(named) == "dead_letter_consumer_event_id_key"  # PostgreSQL's name for an unnamed one
    assert unique_violation(primary_key.value) == "known_actor_pkey"
    assert unique_violation(not_null.value) is None


@pytest.mark.parametrize("service", ["kyc", "traceability"])
async def test_a_body_that_is_not_json_answers_400_malformed_json_in_every_service(stack, service):
    http = client(stack) if service == "traceability" else stack.client("kyc", stack.token())
    path = "/known-actors/raw" if service == "traceability" else "/actors"

    response = await http.post(
        path, content=b'{"actor_type": "trader", oops}', headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "malformed_json" and "character 25" in problem["detail"]
    assert "errors" not in problem
