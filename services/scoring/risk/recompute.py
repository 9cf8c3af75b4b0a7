"""The full recompute: every actor, then every site, then every lot, in batches, one transaction per batch."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.db import utcnow
from services.scoring.risk import repository, use_cases
from services.scoring.risk import weights as weights_file
from services.scoring.risk.tables import risk_actor, risk_lot, risk_site

BATCH = 5_000


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off while one batch is scored: a batch keeps ~100k objects alive (rows, facts,
    factors, events), and the collections their allocations set off walked all of them again and again, 40 % of a
    full recompute. Reference counting still frees what a batch drops; cycles wait for the next collection after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


STEPS = (
    ("actor", risk_actor, use_cases.rescore_actors),
    ("site", risk_site, use_cases.rescore_sites),
    ("lot", risk_lot, use_cases.rescore_lots),
)


async def recompute_all(
    sessions: async_sessionmaker[AsyncSession],
    *,
    batch: int = BATCH,
    now: datetime | None = None,
    org_id: str | None = None,
) -> dict[str, int]:
    """How many scores changed per subject type (of one organisation, or all), one transaction per batch. Lots
    last: they read the actors' and sites' new scores."""
    now, weights = now or utcnow(), weights_file.load()
    changed: dict[str, int] = {}
    for name, table, rescore in STEPS:
        changed[name], after = 0, None
        while True:
            async with sessions() as db, db.begin():
                ids = await repository.all_ids(db, table, after=after, limit=batch, org_id=org_id)
                if not ids:
                    break
                await repository.lock_scores(db)
                with collector_paused():
                    changed[name] += await rescore(db, ids, weights=weights, now=now)
            after = ids[-1]
    return changed


async def recompute_in(db: AsyncSession, *, org_id: str, now: datetime, batch: int = BATCH) -> dict[str, int]:
    """The same within the caller's transaction (the job's), for one organisation."""
    weights, changed = weights_file.load(), {}
    await repository.lock_scores(db)
    for name, table, rescore in STEPS:
        changed[name], after = 0, None
        while ids := await repository.all_ids(db, table, after=after, limit=batch, org_id=org_id):
            with collector_paused():
                changed[name] += await rescore(db, ids, weights=weights, now=now)
            after = ids[-1]
    return changed


async def run_recompute_request(db: AsyncSession, now: datetime) -> int:
    """One pending request: rescore its organisation's subjects; returns how many scores changed."""
    request = await repository.claim_recompute_request(db)
    if request is None:
        return 0
    changed = await recompute_in(db, org_id=request.org_id, now=now)
    await repository.finish_recompute_request(db, request.request_id, at=utcnow(), changed=changed)
    return sum(changed.values())
