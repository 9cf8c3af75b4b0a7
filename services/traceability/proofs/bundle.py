"""A lot's proof bundle: every custody event of the lot and its upstream lineage, each with its inclusion proof."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import Executor, utcnow
from libs.common.errors import NotFound
from services.traceability.proofs import checkpoints, merkle, signing
from services.traceability.tables.custody import CustodyEventLotRow, CustodyEventRow

Events: sa.Table = CustodyEventRow.__table__  # type: ignore[attr-defined]
EventLots: sa.Table = CustodyEventLotRow.__table__  # type: ignore[attr-defined]
FORMAT = "assay.traceability.proof/v1"
MAX_DEPTH = 256  # custody hops upstream; a chain longer than this is cut (and would be a data error)


async def upstream_lots(db: Executor, lot_id: UUID, *, org_id: str) -> list[UUID]:
    """The lot and every lot upstream of it: the inputs of the events that output it, recursively (UNION, bounded)."""
    own = EventLots.join(Events, Events.c.event_id == EventLots.c.event_id)
    seed = sa.select(EventLots.c.lot_id, sa.literal(0).label("depth")).select_from(own)
    seed = seed.where(EventLots.c.lot_id == lot_id, Events.c.org_id == org_id).distinct()
    lineage = seed.cte("lineage", recursive=True)
    outputs, inputs = EventLots.alias("outputs"), EventLots.alias("inputs")
    step = (
        sa.select(inputs.c.lot_id, (lineage.c.depth + 1).label("depth"))
        .select_from(lineage.join(outputs, outputs.c.lot_id == lineage.c.lot_id))
        .join(inputs, sa.and_(inputs.c.event_id == outputs.c.event_id, inputs.c.role == "input"))
        .where(outputs.c.role == "output", lineage.c.depth < MAX_DEPTH)
    )
    lineage = lineage.union(step)
    return list((await db.execute(sa.select(lineage.c.lot_id).distinct())).scalars().all())


async def proof_bundle(
    db: AsyncSession, key: Ed25519PrivateKey, lot_id: UUID, *, org_id: str, since: int | None = None
) -> dict[str, Any]:
    lots = await upstream_lots(db, lot_id, org_id=org_id)
    if not lots:
        raise NotFound(f"lot {lot_id} has no custody events here", code="lot_not_found")
    head = await checkpoints.sign_if_grown(db, key, org_id=org_id, now=utcnow())
    tree = merkle.Tree(await checkpoints.leaf_hashes(db, org_id=org_id, size=head.tree_size))
    touching = sa.select(EventLots.c.event_id).where(EventLots.c.lot_id.in_(lots))
    query = sa.select(Events.c.seq, Events.c.body, Events.c.hash, Events.c.event_id).where(
        Events.c.org_id == org_id, Events.c.event_id.in_(touching), Events.c.seq < head.tree_size
    )
    rows = (await db.execute(query.order_by(Events.c.seq))).all()
    events = [
        {
            "event_id": str(r.event_id),
            "seq": r.seq,
            "body": r.body,
            "hash": r.hash,
            "inclusion_proof": [p.hex() for p in _inclusion(tree, r.seq, head.tree_size)],
        }
        for r in rows
    ]
    bundle: dict[str, Any] = {
        "format": FORMAT,
        "lot_id": str(lot_id),
        "org_id": org_id,
        "lots": sorted(str(lot) for lot in lots),
        "events": events,
        "checkpoint": checkpoints.as_document(head),
        "public_key": signing.public_pem(key.public_key()),
    }
    if since is not None:
        bundle["consistency"] = [{"first_size": since, "proof": consistency_proof(tree, since, head.tree_size)}]
    return bundle


def _inclusion(tree: merkle.Tree, seq: int, size: int) -> list[bytes]:
    # A row whose seq no longer fits the tree (rows deleted or renumbered) gets an empty proof, which fails.
    return tree.inclusion_proof(seq, size) if 0 <= seq < size <= tree.size else []


def consistency_proof(tree: merkle.Tree, first: int, second: int) -> list[str]:
    try:
        return [p.hex() for p in tree.consistency_proof(first, second)]
    except merkle.ProofError as exc:
        raise NotFound(str(exc), code="checkpoint_not_found") from exc
