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
