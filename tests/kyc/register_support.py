"""Helpers for the register and workflow tests: tokens by role, request bodies, outbox and table reads, jobs."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from libs.common.scheduler import run_due
from services.kyc.jobs import jobs
from services.kyc.tables.register import AuditEntryRow
from tests.support.outbox import outbox_rows, outbox_types  # noqa: F401 (re-exported for the KYC tests)

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17


def token(
    stack,
    role: str = "admin",
    *,
    user: str = "alice",
    org: str = "org-a",  # type: ignore[no-untyped-def]
    kind: str = "operator",
) -> str:
    return stack.token(org=org, kind=kind, roles=(role,), user=user)


def client(
    stack,
    role: str = "admin",
    *,
    user: str = "alice",
    org: str = "org-a",  # type: ignore[no-untyped-def]
    kind: str = "operator",
    **settings: Any,
):
    return stack.client("kyc", token(stack, role, user=user, org=org, kind=kind), **settings)


def actor_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "actor_type": "trader",
        "legal_name": "Comptoir Minier de Goma SARL",
        "aliases": ["CMG"],
        "registration_number": "CD/GOM/RCCM/14-B-1234",
        "tax_number": "A1234567X",
        "country": "CD",
        "region": "CD-NK",
        "minerals": ["7108", "2616"],
        "addresses": [
            {"kind": "registered", "street": "Avenue du Lac 12", "city": "Goma", "country": "CD", "region": "CD-NK"}
        ],
        "contacts": [{"name": "Jean Mukendi", "role": "manager", "email": "jean@cmg.example", "phone": "+243 81 000"}],
    }
    body.update(overrides)
    return body


def person_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "person_type": "natural",
        "full_name": "Jean-Pierre Mukendi",
        "role": "beneficial_owner",
        "birth_date": "1975-04-02",
        "nationality": "CD",
        "ownership_pct": 60,
    }
    body.update(overrides)
    return body


def licence_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "licence_type": "trader_card",
        "issuer": "Division des Mines Nord-Kivu",
        "number": "NK-TC-2024-001",
        "valid_from": "2024-01-01",
        "valid_to": "2030-12-31",
    }
    body.update(overrides)
    return body


async def create_actor(http, **overrides: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = await http.post("/actors", json=actor_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


async def read_version(http, path: str) -> int:  # type: ignore[no-untyped-def]
    """The version a client reads before it changes a resource (1 when it cannot read it: another's)."""
    response = await http.get(path)
    return int(response.json()["version"]) if response.status_code == 200 else 1


async def move(http, actor_id: str, action: str, **body: Any):  # type: ignore[no-untyped-def]
    """A workflow move as a client makes it: read the actor, send the move with the version read."""
    version = await read_version(http, f"/actors/{actor_id}")
    return await http.post(f"/actors/{actor_id}/{action}", json={"version": version, **body})


async def edit(http, path: str, **fields: Any):  # type: ignore[no-untyped-def]
    """A PATCH as a client makes it: read the resource, send the change with the version read."""
    return await http.patch(path, json={"version": await read_version(http, path), **fields})


async def remove(http, path: str):  # type: ignore[no-untyped-def]
    """A DELETE as a client makes it: read the resource, name the version read in If-Match."""
    return await http.delete(path, headers={"If-Match": f'"{await read_version(http, path)}"'})


async def payloads(stack, event_type: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return [json.loads(r.payload) for r in await outbox_rows(stack, event_type)]


async def count(stack, table: type, **where: Any) -> int:  # type: ignore[no-untyped-def]
    query = sa.select(sa.func.count()).select_from(table)
    for name, value in where.items():
        query = query.where(getattr(table, name) == value)
    async with stack.sessions("kyc")() as db:
        return (await db.execute(query)).scalar_one()


async def stored(stack, table: type, row_id: UUID | str):  # type: ignore[no-untyped-def]
    async with stack.sessions("kyc")() as db:
        return await db.get(table, UUID(str(row_id)))


async def history_actions(stack, actor_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    query = sa.select(AuditEntryRow.action).where(AuditEntryRow.actor_id == UUID(actor_id)).order_by(AuditEntryRow.at)
    async with stack.sessions("kyc")() as db:
        return list((await db.execute(query)).scalars())


async def run_jobs(
    stack,
    now: datetime | None = None,  # type: ignore[no-untyped-def]
    **settings: Any,
) -> dict[str, int]:
    """Every KYC job once (screening included), as the worker would run them."""
    return await run_due(stack.sessions("kyc"), jobs(stack.settings("kyc", **settings)), now=now, force=True)


async def approved_actor(
    stack,
    *,
    submitter: str = "alice",
    reviewer: str = "bob",  # type: ignore[no-untyped-def]
    **overrides: Any,
) -> dict[str, Any]:
    """An actor taken through the whole workflow: registered, submitted, screened, reviewed, approved."""
    creator = client(stack, "analyst", user=submitter)
    approver = client(stack, "analyst", user=reviewer)
    actor = await create_actor(creator, **overrides)
    assert (await move(creator, actor["id"], "submit")).status_code == 200
    assert (await move(approver, actor["id"], "start-review")).status_code == 200
    await run_jobs(stack)
    response = await move(approver, actor["id"], "approve")
    assert response.status_code == 200, response.text
    return response.json()
