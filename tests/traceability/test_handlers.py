"""KYC's decisions land in traceability's read model: an event in (twice), state out (once)."""
from __future__ import annotations

from datetime import date
from uuid import uuid4

from libs.common.events.kyc import ActorApproved, ActorSuspended
from services.traceability import handlers
from services.traceability.tables import KnownActorRow


async def test_a_later_event_without_names_keeps_what_an_earlier_one_set(stack):
    actor_id = uuid4()
    approved = ActorApproved(org_id="org-a", actor_id=actor_id, actor_type="exporter", legal_name="Comptoir Kivu",
                             country="CD", risk_level="high", approved_by="bob", next_review_date=date(2027, 6, 1))
    suspended = ActorSuspended(org_id="org-a", actor_id=actor_id, suspended_by="bob", reason="sanctions hit")

    for event, handle in ((approved, handlers.on_actor_approved), (suspended, handlers.on_actor_suspended),
                          (suspended, handlers.on_actor_suspended)):
        async with stack.sessions("traceability")() as db, db.begin():
            await handle(db, event)

    async with stack.sessions("traceability")() as db:
        row = await db.get(KnownActorRow, actor_id)
    assert (row.kyc_status, row.legal_name, row.actor_type, row.risk_level) == (
        "suspended", "Comptoir Kivu", "exporter", "high")
