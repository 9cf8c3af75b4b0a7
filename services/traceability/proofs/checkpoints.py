"""Signed checkpoints of each organisation's custody log: the key from settings, signing when the log grew, the job."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import Executor, dialect_of, insert, utcnow
from libs.common.errors import NotFound
from libs.common.scheduler import Job
from libs.common.settings import VAR_DIR
from services.traceability.proofs import merkle, signing
from services.traceability.proofs.tables import CheckpointRow
from services.traceability.settings import TraceabilitySettings
from services.traceability.tables.custody import CustodyEventRow

Checkpoints: sa.Table = CheckpointRow.__table__  # type: ignore[attr-defined]
Events: sa.Table = CustodyEventRow.__table__  # type: ignore[attr-defined]
KEY_FILE = "traceability-proof-key"


@cache
def _key_from(secret: str) -> Ed25519PrivateKey:
    if secret:
        return signing.load_private_key(secret)
    path = VAR_DIR / KEY_FILE
    if not path.exists():  # dev and local runs: made once per checkout, never shipped
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(Ed25519PrivateKey.generate().private_bytes_raw().hex())
        path.chmod(0o600)
    return signing.load_private_key(path.read_text())


def signing_key(settings: TraceabilitySettings) -> Ed25519PrivateKey:
    return _key_from(settings.proof_signing_key.get_secret_value())


def as_document(row: Any, *, public_key: str | None = None) -> dict[str, Any]:
    """A checkpoint as the API returns it and the verifier reads it: the signed statement and its signature."""
    facts = json.loads(row.statement)
    document = {**facts, "statement": row.statement, "signature": row.signature}
    if public_key is not None:
        document["public_key"] = public_key
    return document


async def leaf_hashes(db: Executor, *, org_id: str, size: int | None = None) -> list[bytes]:
    """The org's log as Merkle leaf hashes in seq order: each leaf is the 32 bytes of the event's hash."""
    query = sa.select(Events.c.hash).where(Events.c.org_id == org_id).order_by(Events.c.seq)
    if size is not None:
        query = query.limit(size)
    return [merkle.leaf_hash(bytes.fromhex(h)) for (h,) in (await db.execute(query)).all()]


async def find_latest(db: Executor, *, org_id: str) -> Any:
    query = sa.select(Checkpoints).where(Checkpoints.c.org_id == org_id).order_by(Checkpoints.c.tree_size.desc())
    return (await db.execute(query.limit(1))).first()


async def get_checkpoint(db: Executor, *, org_id: str, tree_size: int) -> Any:
    query = sa.select(Checkpoints).where(Checkpoints.c.org_id == org_id, Checkpoints.c.tree_size == tree_size)
    row = (await db.execute(query)).first()
    if row is None:
        raise NotFound(f"no checkpoint of size {tree_size}", code="checkpoint_not_found")
    return row


async def list_checkpoints(db: Executor, *, org_id: str, limit: int, offset: int) -> Sequence[Any]:
    query = sa.select(Checkpoints).where(Checkpoints.c.org_id == org_id).order_by(Checkpoints.c.tree_size.desc())
    return (await db.execute(query.limit(limit).offset(offset))).all()


async def sign_if_grown(db: AsyncSession, key: Ed25519PrivateKey, *, org_id: str, now: datetime) -> Any:
    """The org's latest checkpoint, after signing a new one if the log has grown past it (None: empty log)."""
    hashes = await leaf_hashes(db, org_id=org_id)
    latest = await find_latest(db, org_id=org_id)
    if not hashes or (latest is not None and latest.tree_size >= len(hashes)):
        return latest
    root = merkle.Tree(hashes).root().hex()
    kid = signing.key_id(key.public_key())
    text = signing.statement(org_id=org_id, tree_size=len(hashes), root_hash=root, timestamp=now.isoformat(), key=kid)
    values = dict(
        org_id=org_id,
        tree_size=len(hashes),
        root_hash=root,
        key_id=kid,
        statement=text,
        signature=key.sign(text.encode()).hex(),
        signed_at=now,
    )
    # Two signers at once (the job and a proof request) sign the same tree; the first one's row stays.
    await db.execute(insert(dialect_of(db), Checkpoints).values(**values).on_conflict_do_nothing())
    return await get_checkpoint(db, org_id=org_id, tree_size=len(hashes))


def checkpoint_job(settings: TraceabilitySettings) -> Job:
    key = signing_key(settings)

    async def run(db: AsyncSession, now: datetime) -> int:
        orgs = (await db.execute(sa.select(Events.c.org_id).distinct())).scalars().all()
        signed = 0
        for org_id in orgs:
            before = await find_latest(db, org_id=org_id)
            after = await sign_if_grown(db, key, org_id=org_id, now=now or utcnow())
            signed += int(after is not None and (before is None or after.tree_size != before.tree_size))
        return signed

    return Job(name="traceability.checkpoint", every=timedelta(seconds=settings.checkpoint_every_seconds), run=run)
