"""Searching actors by name: accents and case ignored, aliases and registration numbers matched, on PostgreSQL and
on SQLite alike (a folded copy the repository keeps, indexed)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import make_engine, utcnow
from libs.common.pagination import Pagination
from services.kyc.domain.actors import Actor
from services.kyc.repository import actors as repository
from services.kyc.repository.actors import ActorFilter
from services.kyc.tables import KycTable
from tests.kyc.register_support import client, create_actor, edit

QUERIES = {
    "cooperative miniere": ["Coopérative Minière de Kamituga"],
    "COOPÉRATIVE  minière": ["Coopérative Minière de Kamituga"],
    "kamituga": ["Coopérative Minière de Kamituga"],
    "societe aurifere": ["Coopérative Minière de Kamituga"],  # an alias
    "14-B-1234": ["Coopérative Minière de Kamituga"],
    "14b1234": ["Coopérative Minière de Kamituga"],
    "rccm/14": ["Coopérative Minière de Kamituga"],
    "goma": ["Comptoir de Goma"],
    "%": [],
    "de_": [],
}


async def register_two(http) -> list[dict]:  # type: ignore[no-untyped-def]
    return [
        await create_actor(
            http,
            legal_name="Coopérative Minière de Kamituga",
            aliases=["Société Aurifère du Sud-Kivu"],
            registration_number="CD/BKV/RCCM/14-B-1234",
        ),
        await create_actor(http, legal_name="Comptoir de Goma", aliases=[], registration_number="CD/GOM/9"),
    ]


async def test_name_search_ignores_accents_and_case_and_matches_aliases_and_registration_numbers(stack):
    http = client(stack)
    await register_two(http)

    for query, expected in QUERIES.items():
        found = (await http.get("/actors", params={"q": query})).json()["items"]

        assert [a["legal_name"] for a in found] == expected, query


async def test_a_query_of_only_spaces_is_refused_rather_than_matching_everyone(stack):
    http = client(stack)
    await register_two(http)

    for blank in ("   ", "\t", " \n "):
        response = await http.get("/actors", params={"q": blank})

        assert response.status_code == 422, blank
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (await http.get("/actors", params={"q": "  goma  "})).json()["total"] == 1


async def test_a_renamed_actor_is_found_by_its_new_name_only(stack):
    http = client(stack)
    actor, _ = await register_two(http)

    await edit(http, f"/actors/{actor['id']}", legal_name="Société Minière de Mwenga", aliases=[])

    assert (await http.get("/actors", params={"q": "kamituga"})).json()["total"] == 0
    assert (await http.get("/actors", params={"q": "MINIERE DE MWENGA"})).json()["total"] == 1


async def test_the_search_column_has_a_trigram_index_on_postgresql(stack):
    engine = stack.engine("kyc")
    if engine.dialect.name != "postgresql":
        return
    async with engine.connect() as connection:
        definition = (
            await connection.execute(
                sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_actor_search_text'")
            )
        ).scalar_one()

    assert "gin" in definition and "gin_trgm_ops" in definition


async def test_the_same_search_answers_alike_on_sqlite(tmp_path: Path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'kyc.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(KycTable.metadata.create_all)
    try:
        async with engine.begin() as connection:
            db = AsyncSession(bind=connection)
            for name, alias, number in (
                ("Coopérative Minière de Kamituga", "Société Aurifère du Sud-Kivu", "CD/BKV/RCCM/14-B-1234"),
                ("Comptoir de Goma", None, "CD/GOM/9"),
            ):
                values = {
                    "actor_type": "cooperative",
                    "legal_name": name,
                    "country": "CD",
                    "aliases": [alias] if alias else [],
                    "registration_number": number,
                }
                actor, _ = Actor.register(values, org_id="org-a", by="alice", now=utcnow())
                await repository.save_actor(db, actor, events=1)
            for query, expected in QUERIES.items():
                found, _ = await repository.list_actors(
                    db, org_id="org-a", where=ActorFilter(name=query), page=Pagination()
                )

                assert [a.legal_name for a in found] == expected, query
    finally:
        await engine.dispose()
