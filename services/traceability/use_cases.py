"""One async function per thing a user or another service can ask of traceability."""
from __future__ import annotations

from uuid import UUID

from libs.common.db import utcnow
from sqlalchemy.ext.asyncio import AsyncSession

from services.traceability import repository
from services.traceability.tables import KnownActorRow


async def record_actor_status(db: AsyncSession, actor_id: UUID, *, org_id: str, kyc_status: str,
                              legal_name: str | None = None, actor_type: str | None = None,
                              risk_level: str | None = None) -> KnownActorRow:
    """Keep our copy of KYC's decision; later facts overwrite earlier ones (events arrive in order per actor)."""
    row = await repository.find_known_actor(db, actor_id)
    if row is None:
        row = KnownActorRow(actor_id=actor_id, org_id=org_id, legal_name=legal_name or "", actor_type=actor_type or "",
                            kyc_status=kyc_status, risk_level=risk_level, updated_at=utcnow())
    else:
        row.kyc_status = kyc_status
        row.legal_name = legal_name or row.legal_name
        row.actor_type = actor_type or row.actor_type
        row.risk_level = risk_level or row.risk_level
        row.updated_at = utcnow()
    repository.save_known_actor(db, row)
    return row
