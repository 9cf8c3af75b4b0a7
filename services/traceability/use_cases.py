"""One async function per thing a user or another service can ask of traceability."""
from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.traceability import repository


async def record_actor_status(db: AsyncSession, actor_id: UUID, *, org_id: str, kyc_status: str,
                              legal_name: str | None = None, actor_type: str | None = None,
                              risk_level: str | None = None) -> None:
    """Keep our copy of KYC's decision; later facts overwrite earlier ones (events arrive in order per actor).
    Fields an event does not carry keep the value an earlier event gave."""
    await repository.upsert_known_actor(db, actor_id, org_id=org_id, kyc_status=kyc_status, legal_name=legal_name,
                                        actor_type=actor_type, risk_level=risk_level)
