"""Steps the watchlist and screening tests share: lists imported, actors and persons registered through the API,
the screening job run as the worker runs it, and what landed in the outbox."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from libs.common.scheduler import Job, run_due
from libs.common.tables import OutboxMessageRow
from services.kyc.jobs import jobs
from tests.support.outbox import outbox_types  # noqa: F401 (re-exported for the KYC tests)


async def new_watchlist(client, name: str = "UN SC consolidated", fmt: str = "un_xml") -> dict:  # type: ignore[no-untyped-def]
    response = await client.post("/watchlists", json={"name": name, "format": fmt, "source": "https://example.org"})
    assert response.status_code == 201, response.text
    return response.json()


async def upload(client, watchlist_id: str, data: bytes, filename: str = "list.xml"):  # type: ignore[no-untyped-def]
    return await client.post(f"/watchlists/{watchlist_id}/imports", files={"file": (filename, data, "application/xml")})


async def imported(client, data: bytes, *, name: str = "UN SC consolidated", fmt: str = "un_xml") -> dict:  # type: ignore[no-untyped-def]
    watchlist = await new_watchlist(client, name, fmt)
    response = await upload(client, watchlist["id"], data)
    assert response.status_code == 201, response.text
    return watchlist


async def register_actor(client, legal_name: str, **fields: Any) -> dict:  # type: ignore[no-untyped-def]
    body = {"actor_type": "trader", "legal_name": legal_name, "country": "CD", **fields}
    response = await client.post("/actors", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def add_person(client, actor_id: str, full_name: str, **fields: Any) -> dict:  # type: ignore[no-untyped-def]
    body = {"person_type": "natural", "full_name": full_name, "role": "beneficial_owner", **fields}
    response = await client.post(f"/actors/{actor_id}/persons", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def run_screening(stack, scheduled: Sequence[Job] | None = None, **overrides: Any) -> int:  # type: ignore[no-untyped-def]
    """One forced pass of the KYC jobs (a fresh job list = a freshly started worker); returns requests handled."""
    scheduled = scheduled if scheduled is not None else jobs(stack.settings("kyc", **overrides))
    ran = await run_due(stack.sessions("kyc"), scheduled, force=True)
    return ran.get("kyc.screening", 0)


async def hits(client, **params: Any) -> list[dict]:  # type: ignore[no-untyped-def]
    response = await client.get("/screening/hits", params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def events(stack, event_type: str) -> list[dict]:  # type: ignore[no-untyped-def]
    async with stack.sessions("kyc")() as db:
        query = (
            sa.select(OutboxMessageRow.payload)
            .where(OutboxMessageRow.event_type == event_type)
            .order_by(OutboxMessageRow.id)
        )
        return [json.loads(p) for p in (await db.execute(query)).scalars()]


async def rows(stack, table, **where: Any) -> list:  # type: ignore[no-untyped-def]
    async with stack.sessions("kyc")() as db:
        query = sa.select(table).where(*(getattr(table, k) == v for k, v in where.items()))
        return list((await db.execute(query)).scalars())
