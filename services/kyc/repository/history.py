"""The audit trail as stored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.pagination import Pagination, fetch_page
from services.kyc.domain.history import AuditEntry
from services.kyc.repository.rows import from_row
from services.kyc.tables.register import AuditEntryRow

Entries = AuditEntryRow.__table__


def save_entry(db: AsyncSession, entry: AuditEntry) -> None:
    """Staged in the caller's transaction and written with its commit (an entry is never read before)."""
    db.add(AuditEntryRow(**vars(entry)))


def entry_row(entry: AuditEntry) -> tuple[sa.Table, dict[str, Any]]:
    """The entry as a row to insert beside another write (repository.actors.insert_actor)."""
    return Entries, dict(vars(entry))


async def list_actor_entries(
    db: AsyncSession, *, org_id: str, actor_id: UUID, entity_ids: Sequence[str], page: Pagination
) -> tuple[list[AuditEntry], int]:
    """Entries filed under the actor, plus those of its parts recorded without an actor id."""
    query = sa.select(Entries).where(
        Entries.c.org_id == org_id, sa.or_(Entries.c.actor_id == actor_id, Entries.c.entity_id.in_(list(entity_ids)))
    )
    return await _page(db, query, page)


async def list_entity_entries(
    db: AsyncSession, *, org_id: str, entity_type: str, entity_id: UUID, page: Pagination
) -> tuple[list[AuditEntry], int]:
    query = sa.select(Entries).where(
        Entries.c.org_id == org_id, Entries.c.entity_type == entity_type, Entries.c.entity_id == str(entity_id)
    )
    return await _page(db, query, page)


async def _page(db: AsyncSession, query: sa.Select, page: Pagination) -> tuple[list[AuditEntry], int]:
    rows, total = await fetch_page(db, query.order_by(Entries.c.at, Entries.c.id), page)
    return [from_row(AuditEntry, r) for r in rows], total
