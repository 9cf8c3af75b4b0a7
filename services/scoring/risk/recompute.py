"""The full recompute: every actor, then every site, then every lot, in batches, one transaction per batch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.db import utcnow
from services.scoring.risk import repository, use_cases
from services.scoring.risk import weights as weights_file
from services.scoring.risk.tables import risk_actor, risk_lot, risk_site

BATCH = 5_000


async def recompute_all(
    sessions: async_sessionmaker[AsyncSession], *, batch: int = BATCH, now: datetime | None = None
) -> dict[str, int]:
    """How many scores changed per subject type. Lots last: they read the actors' and sites' new scores."""
    now = now or utcnow()
    weights = weights_file.load()
    steps = (
        ("actor", risk_actor, use_cases.rescore_actors),
        ("site", risk_site, use_cases.rescore_sites),
        ("lot", risk_lot, use_cases.rescore_lots),
    )
    changed: dict[str, int] = {}
    for name, table, rescore in steps:
        changed[name], after = 0, None
        while True:
            async with sessions() as db, db.begin():
                ids = await repository.all_ids(db, table, after=after, limit=batch)
                if not ids:
                    break
                changed[name] += await rescore(db, ids, weights=weights, now=now)
            after = ids[-1]
    return changed
