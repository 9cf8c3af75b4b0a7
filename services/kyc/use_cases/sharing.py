"""Sharing: the owning operator lets another organisation read one actor and its licences."""
from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.db import utcnow
from libs.common.errors import Invalid, NotFound
from libs.common.events.kyc import ActorShared, ActorUnshared
from services.kyc.repository import actors as actor_repository
from services.kyc.repository import shares as repository
from services.kyc.tables.register import ActorShareRow
from services.kyc.use_cases import announce, history


async def share_actor(db: AsyncSession, actor_id: UUID, grantee_org_id: str, *,
                      principal: Principal) -> ActorShareRow:
    """Idempotent: sharing again with the same organisation returns the existing share."""
    actor = await actor_repository.get_actor(db, actor_id, org_id=principal.org_id)
    grantee = grantee_org_id.strip()
    if not grantee or grantee == principal.org_id:
        raise Invalid("share with another organisation's id", code="invalid_share_target")
    existing = await repository.find_share(db, actor_id=actor.id, grantee_org_id=grantee)
    if existing is not None:
        return existing
    row = ActorShareRow(actor_id=actor.id, grantee_org_id=grantee, org_id=actor.org_id,
                        granted_by=principal.user_id, granted_at=utcnow())
    await repository.save_share(db, row)
    history.record(db, org_id=actor.org_id, user_id=principal.user_id, entity_type="actor", entity_id=actor.id,
                   action="shared", actor_id=actor.id, changes={"shared_with": {"before": None, "after": grantee}})
    await announce.actor_event(db, actor, ActorShared, grantee_org_id=grantee, shared_by=principal.user_id)
    return row


async def unshare_actor(db: AsyncSession, actor_id: UUID, grantee_org_id: str, *, principal: Principal) -> None:
    actor = await actor_repository.get_actor(db, actor_id, org_id=principal.org_id)
    row = await repository.find_share(db, actor_id=actor.id, grantee_org_id=grantee_org_id)
    if row is None:
        raise NotFound(f"actor {actor_id} is not shared with {grantee_org_id}", code="share_not_found")
    await repository.delete_share(db, row)
    history.record(db, org_id=actor.org_id, user_id=principal.user_id, entity_type="actor", entity_id=actor.id,
                   action="unshared", actor_id=actor.id,
                   changes={"shared_with": {"before": grantee_org_id, "after": None}})
    await announce.actor_event(db, actor, ActorUnshared, grantee_org_id=grantee_org_id,
                               unshared_by=principal.user_id)


async def list_shares(db: AsyncSession, actor_id: UUID, *, org_id: str) -> list[ActorShareRow]:
    actor = await actor_repository.get_actor(db, actor_id, org_id=org_id)
    return await repository.list_shares(db, actor_id=actor.id)
