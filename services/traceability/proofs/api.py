"""Routes of the custody log's proofs: a lot's proof bundle, the signed checkpoints, consistency, the public key."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request

from libs.common.db import DbRead, DbTransaction
from libs.common.errors import NotFound
from services.traceability import access
from services.traceability.access import Caller
from services.traceability.proofs import bundle, checkpoints, merkle, signing

router = APIRouter(tags=["proofs"])
MAX_SIZE = 2**62  # tree sizes are BIGINT: a larger query value is refused with 422, never sent to the database
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "unknown here, or another organisation's"}}


def _key(request: Request) -> Any:
    return checkpoints.signing_key(request.app.state.settings)


@router.get("/lots/{lot_id}/proof", summary="A lot's custody events with inclusion proofs, for offline checks")
async def get_lot_proof(
    lot_id: UUID,
    request: Request,
    principal: Caller,
    db: DbTransaction,
    since: Annotated[
        int | None, Query(ge=1, le=MAX_SIZE, description="also prove the log extends this checkpoint size")
    ] = None,
) -> dict[str, Any]:
    await access.require_visible(db, lot_id, principal)
    # A transaction: when the log grew past the latest checkpoint, this request signs the new one.
    return await bundle.proof_bundle(db, _key(request), lot_id, org_id=principal.org_id, since=since)


@router.get("/checkpoints", summary="The signed checkpoints of the caller's custody log, newest first")
async def list_checkpoints(
    principal: Caller,
    db: DbRead,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_SIZE)] = 0,
) -> list[dict[str, Any]]:
    rows = await checkpoints.list_checkpoints(db, org_id=principal.org_id, limit=limit, offset=offset)
    return [checkpoints.as_document(r) for r in rows]


@router.get("/checkpoints/latest", summary="The newest signed checkpoint", responses=NOT_FOUND)
async def latest_checkpoint(principal: Caller, db: DbRead) -> dict[str, Any]:
    row = await checkpoints.find_latest(db, org_id=principal.org_id)
    if row is None:
        raise NotFound("no checkpoint yet", code="checkpoint_not_found")
    return checkpoints.as_document(row)


@router.get("/checkpoints/consistency", summary="Proof that checkpoint `second` extends `first`", responses=NOT_FOUND)
async def checkpoint_consistency(
    principal: Caller,
    db: DbRead,
    first: Annotated[int, Query(ge=1, le=MAX_SIZE, description="tree size of the older checkpoint")],
    second: Annotated[int, Query(ge=1, le=MAX_SIZE, description="tree size of the newer checkpoint")],
) -> dict[str, Any]:
    older = await checkpoints.get_checkpoint(db, org_id=principal.org_id, tree_size=first)
    newer = await checkpoints.get_checkpoint(db, org_id=principal.org_id, tree_size=second)
    if first > second:
        raise NotFound("the first checkpoint must not be newer than the second", code="checkpoint_not_found")
    tree = merkle.Tree(await checkpoints.leaf_hashes(db, org_id=principal.org_id, size=second))
    return {
        "first": checkpoints.as_document(older),
        "second": checkpoints.as_document(newer),
        "proof": bundle.consistency_proof(tree, first, second),
    }


@router.get("/proof-key", summary="The Ed25519 public key that signs the checkpoints (PEM)")
async def proof_key(request: Request, principal: Caller) -> dict[str, str]:
    public = _key(request).public_key()
    return {"algorithm": "Ed25519", "key_id": signing.key_id(public), "public_key": signing.public_pem(public)}
