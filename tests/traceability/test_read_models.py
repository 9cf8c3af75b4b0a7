"""KYC sites and incidents land in traceability's copies: delivered twice or out of order, the newest wins."""

from __future__ import annotations

from services.traceability.tables import KnownIncidentRow, KnownSiteRow
from tests.traceability.support import deliver, incident_verified, site, site_turned


async def test_a_site_event_delivered_twice_and_late_leaves_the_newest_status(stack):
    site_id = await site(stack)
    red, green = site_turned(site_id, "red", version=3), site_turned(site_id, "green", version=2)

    await deliver(stack, red, red, green)

    async with stack.sessions("traceability")() as db:
        row = await db.get(KnownSiteRow, site_id)
    assert row is not None and (row.status, row.version) == ("red", 3)


async def test_an_older_incident_event_does_not_reopen_a_closed_incident(stack):
    verified = incident_verified(site_ids=[], version=3)
    closed = verified.model_copy(
        update={"aggregate_version": 5, "incident": verified.incident.model_copy(update={"status": "closed"})}
    )

    await deliver(stack, closed, verified, closed)

    async with stack.sessions("traceability")() as db:
        row = await db.get(KnownIncidentRow, verified.incident_id)
    assert row is not None and (row.status, row.version) == ("closed", 5)
