"""Lineage of a lot, up (what it was made from, back to the mines) and down (what was made from it: recall)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa

from libs.common.db import Executor
from services.traceability.repository import lots as repository


async def lineage(db: Executor, lot_id: UUID, *, org_id: str, direction: str) -> tuple[sa.Row[Any], list[sa.Row[Any]]]:
    lot = await repository.get_lot(db, lot_id, org_id=org_id)
    return lot, await repository.lineage(db, lot_id, org_id=org_id, direction=direction)


def origin_sites(lot: sa.Row[Any], upstream: list[sa.Row[Any]]) -> list[UUID]:
    return sorted({UUID(s) for row in [lot, *upstream] for s in row.origin_site_ids}, key=str)


async def visible_downstream(
    db: Executor, lot_id: UUID, downstream: list[sa.Row[Any]], *, actor_id: UUID
) -> list[sa.Row[Any]]:
    """The downstream lots a smelter may see: those it held, and those upstream of one it held (walking up from its
    lots along the edges inside this lineage); the rest of a recall (other buyers' lots) stays hidden. Two queries."""
    ids = {row.lot_id for row in downstream}
    reached = await repository.held_among(db, ids, actor_id=actor_id)
    inputs: dict[UUID, list[UUID]] = {}
    for made, source in await repository.edges_into(db, ids):
        inputs.setdefault(made, []).append(source)
    todo = list(reached)
    while todo:
        for source in inputs.get(todo.pop(), []):
            if source in ids and source not in reached:
                reached.add(source)
                todo.append(source)
    return [row for row in downstream if row.lot_id in reached]
