"""Sharing: the owning operator lets another organisation read one actor and its licences."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.db import utcnow
from services.kyc.domain.actors import Share
from services.kyc.repository import actors as actor_repository
from services.kyc.repository import shares as repository
from services.kyc.use_cases import announce
from services.kyc.use_cases.actors import actor_for_change, record_change


async def share_actor(db: AsyncSession, principal: Principal, actor_id: UUID, *, grantee_org_id: str) -> Share:
    """Idempotent: sharing again with the same organisation returns the existing share."""
    actor = await actor_for_change(db, principal, actor_id)
    shared = actor.share_with(grantee_org_id, by=principal.user_id, now=utcnow())
    if shared is None:
        existing = await repository.find_share(db, actor_id=actor.id, grantee_org_id=grantee_org_id.strip())
        assert existing is not None  # the actor, read locked, lists it
        return existing
    share, event = shared
    await repository.save_share(db, share)
    record_change(
        db, principal, actor, action="shared", changes={"shared_with": {"before": None, "after": share.grantee_org_id}}
    )
    await announce.save_actor(db, actor, event)
    return share


async def unshare_actor(db: AsyncSession, principal: Principal, actor_id: UUID, grantee_org_id: str) -> None:
    actor = await actor_for_change(db, principal, actor_id)
    event = actor.unshare(grantee_org_id, by=principal.user_id)
    await repository.delete_share(db, actor_id=actor.id, grantee_org_id=grantee_org_id)
    record_change(
        db, principal, actor, action="unshared", changes={"shared_with": {"before": grantee_org_id, "after": None}}
    )
    await announce.save_actor(db, actor, event)


async def list_shares(db: AsyncSession, principal: Principal, actor_id: UUID) -> list[Share]:
    actor = await actor_repository.get_actor(
        db, actor_id, org_id=principal.org_id, if_shared=actor_repository.NOT_SHARED
    )
    return await repository.list_shares(db, actor_id=actor.id)
