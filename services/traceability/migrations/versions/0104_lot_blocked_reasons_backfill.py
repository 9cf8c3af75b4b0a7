"""lot.blocked_reasons for the lots that existed before 0103: recomputed from the site and incident copies

0103 added the column as [] for every existing lot, while blocking was still derived at read time: a lot blocked
then (a red origin site, a verified level-1 incident on it, its sites or its holder) showed unblocked until its
site or incident changed again. This sets the reasons those copies give now, as use_cases/checks.Blockers.reasons
derives them (the rule is repeated here: a migration does not import the service's code). No LotBlocked event:
the lot was blocked before the migration too, and its next event carries the reasons.

Revision ID: 0104
Revises: 0103
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0104"
down_revision = "0103"
branch_labels = None
depends_on = None

BLOCKING_SITE_STATUSES = ("red",)
BLOCKING_INCIDENT_STATUSES = ("verified", "mitigation")


def _ids(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(x) for x in (json.loads(value) if isinstance(value, str) else value)]


def reasons_of(lot: Any, red_sites: set[str], incidents: list[tuple[str, set[str]]]) -> list[str]:
    origins = _ids(lot.origin_site_ids)
    reasons = [f"site_red:{site}" for site in origins if site in red_sites]
    touching = {str(lot.lot_id), *origins}
    if lot.custodian_actor_id is not None:
        touching.add(str(lot.custodian_actor_id))
    reasons += [f"incident:{incident_id}" for incident_id, named in incidents if touching & named]
    return sorted(set(reasons))


def backfill(connection: sa.Connection) -> int:
    """Set the derived reasons of every non-consumed lot whose stored reasons are empty; returns how many changed."""
    meta = sa.MetaData()
    lots = sa.Table("lot", meta, autoload_with=connection)
    sites = sa.Table("known_site", meta, autoload_with=connection)
    incidents = sa.Table("known_incident", meta, autoload_with=connection)
    red: dict[str, set[str]] = {}
    for org_id, site_id in connection.execute(
        sa.select(sites.c.org_id, sites.c.site_id).where(sites.c.status.in_(BLOCKING_SITE_STATUSES))
    ):
        red.setdefault(org_id, set()).add(str(site_id))
    blocking: dict[str, list[tuple[str, set[str]]]] = {}
    query = sa.select(incidents).where(incidents.c.level == 1, incidents.c.status.in_(BLOCKING_INCIDENT_STATUSES))
    for row in connection.execute(query):
        named = {*_ids(row.lot_ids), *_ids(row.site_ids), *_ids(row.actor_ids)}
        blocking.setdefault(row.org_id, []).append((str(row.incident_id), named))
    orgs = set(red) | set(blocking)
    if not orgs:
        return 0
    candidates = sa.select(
        lots.c.lot_id, lots.c.org_id, lots.c.origin_site_ids, lots.c.custodian_actor_id, lots.c.blocked_reasons
    ).where(lots.c.status != "consumed", lots.c.org_id.in_(sorted(orgs)))
    updates = []
    for lot in connection.execute(candidates):
        if _ids(lot.blocked_reasons):
            continue  # set by the code since 0103: already derived
        reasons = reasons_of(lot, red.get(lot.org_id, set()), blocking.get(lot.org_id, []))
        if reasons:
            updates.append({"key": lot.lot_id, "reasons": reasons})
    if updates:
        statement = (
            lots.update()
            .where(lots.c.lot_id == sa.bindparam("key"))
            .values(blocked_reasons=sa.bindparam("reasons", type_=sa.JSON()))
        )
        connection.execute(statement, updates)
    return len(updates)


def upgrade() -> None:
    backfill(op.get_bind())


def downgrade() -> None:
    pass  # the reasons stay: they are what the copies say
