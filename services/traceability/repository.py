"""Every query of the traceability service; every read is scoped to the caller's organisation."""
from __future__ import annotations

from functools import lru_cache
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import utcnow

from libs.common.errors import NotFound
from services.traceability.tables import KnownActorRow


async def get_known_actor(db: AsyncSession, actor_id: UUID, *, org_id: str) -> KnownActorRow:
    row = await db.get(KnownActorRow, actor_id)
    if row is None or row.org_id != org_id:
        raise NotFound(f"actor {actor_id} is not known here")
    return row


async def list_known_actors(db: AsyncSession, *, org_id: str, status: str | None = None,
                            limit: int = 100, offset: int = 0) -> list[KnownActorRow]:
    query = sa.select(KnownActorRow).where(KnownActorRow.org_id == org_id)
    if status:
        query = query.where(KnownActorRow.kyc_status == status)
    query = query.order_by(KnownActorRow.legal_name, KnownActorRow.actor_id).limit(limit).offset(offset)
    return list((await db.execute(query)).scalars())


async def upsert_known_actor(db: AsyncSession, actor_id: UUID, *, org_id: str, kyc_status: str,
                             legal_name: str | None, actor_type: str | None, risk_level: str | None) -> None:
    """One statement, built once per dialect: read models are fed at event rate. A field given as None keeps what
    an earlier event set (COALESCE with the stored value)."""
    await db.execute(_upsert_statement(db.bind.dialect.name), {
        "actor_id": actor_id, "org_id": org_id, "kyc_status": kyc_status, "updated_at": utcnow(),
        "legal_name": legal_name, "actor_type": actor_type, "risk_level": risk_level})


@lru_cache(maxsize=2)
def _upsert_statement(dialect: str) -> sa.Executable:
    table = KnownActorRow.__table__
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    optional = ("legal_name", "actor_type", "risk_level")
    statement = insert(table).values(
        actor_id=sa.bindparam("actor_id"), org_id=sa.bindparam("org_id"), kyc_status=sa.bindparam("kyc_status"),
        updated_at=sa.bindparam("updated_at"), risk_level=sa.bindparam("risk_level"),
        legal_name=sa.func.coalesce(sa.bindparam("legal_name", type_=sa.String), ""),
        actor_type=sa.func.coalesce(sa.bindparam("actor_type", type_=sa.String), ""))
    keep = {name: sa.func.coalesce(sa.bindparam(name, type_=sa.String), table.c[name]) for name in optional}
    return statement.on_conflict_do_update(index_elements=["actor_id"], set_={
        "kyc_status": statement.excluded.kyc_status, "updated_at": statement.excluded.updated_at, **keep})
