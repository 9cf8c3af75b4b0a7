"""Tags and lot creation at the mine: tag registry checks, producer and site checks, capacity anomaly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.db import utcnow
from libs.common.errors import Conflict, Invalid
from libs.common.events.traceability import LotCreated, LotEvent, LotState
from services.traceability.domain.rules import Anomaly
from services.traceability.domain.units import to_kg
from services.traceability.repository import custody_log, read_models
from services.traceability.repository import lots as repository
from services.traceability.use_cases import anomalies, checks, outbox_rows


@dataclass(frozen=True)
class NewLot:
    tag: str
    mineral: str
    form: str
    mass: float
    unit: str
    site_id: UUID
    producer_actor_id: UUID
    hs_code: str | None = None
    grade_pct: float | None = None
    produced_at: datetime | None = None
    place: str | None = None


def state_of(row: Any, *, input_lot_ids: list[UUID] | None = None) -> LotState:
    return LotState(
        lot_id=row.lot_id,
        org_id=row.org_id,
        tag=row.tag,
        mineral=row.mineral,
        hs_code=row.hs_code,
        form=row.form,
        mass=row.mass,
        unit=row.unit,
        mass_kg=row.mass_kg,
        grade_pct=row.grade_pct,
        origin_site_ids=[UUID(s) for s in row.origin_site_ids],
        producer_actor_id=row.producer_actor_id,
        custodian_actor_id=row.custodian_actor_id,
        status=repository.public_status(row.status, row.blocked_reasons),
        blocked_reasons=list(row.blocked_reasons or []),
        input_lot_ids=input_lot_ids or [],
        created_at=row.created_at,
    )


async def publish(
    db: AsyncSession,
    event_class: type[LotEvent],
    lot_id: UUID,
    *,
    org_id: str,
    row: Any = None,
    inputs: list[UUID] | None = None,
    **fields: Any,
) -> None:
    """The lot as it is now (after the caller's writes) in a lot event: `row` and `inputs` when the caller has them
    as they are now (an UPDATE's or INSERT's RETURNING), else read here."""
    if row is None:
        row = await repository.get_lot(db, lot_id, org_id=org_id)
    if inputs is None:
        inputs = repository.inputs_of(row)  # read with the row on PostgreSQL's write path
    if inputs is None:
        inputs = await repository.input_ids(db, lot_id)
    event = event_class(
        org_id=org_id, lot_id=lot_id, aggregate_version=row.version, lot=state_of(row, input_lot_ids=inputs), **fields
    )
    outbox_rows.stage(db, event, key=lot_id)


async def allocate_tags(
    db: AsyncSession, *, org_id: str, prefix: str, first: int, count: int, site_id: UUID | None, actor_id: UUID | None
) -> tuple[UUID, int]:
    """A block of tags `prefix` + number, allocated to one site or one actor; tags issued before stay as they were."""
    if (site_id is None) == (actor_id is None):
        raise Invalid("a tag block is allocated to exactly one of site_id or actor_id", code="tag_block_holder")
    # Tags go to a site or an actor this organisation has (as KYC announced them): an unknown and another
    # organisation's id are refused alike, so the answer tells nothing about the other organisation.
    if site_id is not None and site_id not in await read_models.sites_by_id(db, [site_id], org_id=org_id):
        raise Invalid(f"site {site_id} is not known to traceability", code="unknown_site")
    if actor_id is not None and actor_id not in await read_models.actors_by_id(db, [actor_id], org_id=org_id):
        raise Invalid(f"actor {actor_id} is not known to traceability", code="unknown_actor")
    block_id, now = uuid4(), utcnow()
    rows = [
        {"tag": f"{prefix}{n}", "org_id": org_id, "block_id": block_id, "site_id": site_id, "actor_id": actor_id}
        | {"allocated_at": now}
        for n in range(first, first + count)
    ]
    return block_id, await repository.insert_tags(db, rows)


async def check_tag(db: AsyncSession, sessions: async_sessionmaker[AsyncSession], new: NewLot, *, org_id: str) -> None:
    """The tag must be issued to this organisation, for this site or producer, and unused; otherwise the refusal
    is an anomaly too, recorded in its own transaction."""
    tag = await repository.find_tag(db, new.tag, for_update=True)
    if tag is None or tag.org_id != org_id:
        kind, code = ("tag_unallocated", "tag_unknown") if tag is None else ("tag_foreign", "tag_unknown")
    elif tag.site_id not in (None, new.site_id) or tag.actor_id not in (None, new.producer_actor_id):
        kind, code = "tag_foreign", "tag_foreign"
    elif tag.lot_id is not None:
        kind, code = "tag_reuse", "tag_used"
    else:
        return
    anomaly = Anomaly(
        kind=kind,
        cause=f"{kind}:{new.tag}:{new.site_id}:{new.producer_actor_id}:{new.mass}",
        detail=f"tag {new.tag} presented for a new lot at site {new.site_id}: {kind.replace('_', ' ')}",
        lot_ids=[tag.lot_id] if tag is not None and tag.lot_id is not None else [],
        actor_ids=[new.producer_actor_id],
        site_ids=[new.site_id],
        mineral=new.mineral,
    )
    await anomalies.record_apart(sessions, anomaly, org_id=org_id)
    if code == "tag_used":
        raise Conflict(f"tag {new.tag} is already used by another lot", code=code)
    raise Invalid(f"tag {new.tag} is not issued to this site or producer", code=code)


async def create_lot(db: AsyncSession, sessions: async_sessionmaker[AsyncSession], new: NewLot, *, org_id: str) -> UUID:
    from services.traceability.use_cases import blocking  # it publishes lot events with this module's `publish`

    await blocking.lock_org(db, org_id, exclusive=False)
    mass_kg = to_kg(new.mass, new.unit)
    await checks.require_approved(db, [new.producer_actor_id], org_id=org_id)
    site = (await read_models.sites_by_id(db, [new.site_id], org_id=org_id)).get(new.site_id)
    if site is None:
        raise Invalid(f"site {new.site_id} is not known to traceability", code="unknown_site")
    if site.status in checks.BLOCKING_SITE_STATUSES:
        raise Conflict(f"site {new.site_id} is {site.status}: its production is blocked", code="site_blocked")
    await check_tag(db, sessions, new, org_id=org_id)
    lot_id, now = uuid4(), utcnow()
    produced_at = (new.produced_at or now).astimezone(UTC)
    await _check_capacity(db, site, new, mass_kg=mass_kg, produced_at=produced_at, org_id=org_id)
    values = {
        "lot_id": lot_id, "org_id": org_id, "tag": new.tag, "mineral": new.mineral, "hs_code": new.hs_code,
        "form": new.form, "mass": new.mass, "unit": new.unit, "mass_kg": mass_kg, "grade_pct": new.grade_pct,
        "site_id": new.site_id, "origin_site_ids": [str(new.site_id)], "producer_actor_id": new.producer_actor_id,
        "custodian_actor_id": new.producer_actor_id, "status": "active", "country": site.country,
        "place": new.place, "produced_at": produced_at, "created_at": now, "version": 1,
    }  # fmt: skip
    row = await repository.insert_lot(db, values)
    await repository.use_tag(db, new.tag, lot_id)
    await repository.add_holder(db, lot_id, new.producer_actor_id)
    content = {
        "lots": {"subject": [str(lot_id)]}, "tag": new.tag, "site_id": str(new.site_id), "mineral": new.mineral,
        "form": new.form, "mass_kg": mass_kg, "actor_id": str(new.producer_actor_id),
        "event_time": produced_at.isoformat(), "place": new.place, "corrects_event_id": None,
    }  # fmt: skip
    await publish(db, LotCreated, lot_id, org_id=org_id, row=row, inputs=[])
    await blocking.refresh(db, [row], org_id=org_id)  # a producer named by a blocking incident: born blocked
    # last: the append holds the organisation's log head locked until the commit (see custody._log)
    await custody_log.record_event(
        db, org_id=org_id, event_id=uuid4(), kind="creation", content=content, lots=[(lot_id, "subject")]
    )
    return lot_id


async def _check_capacity(
    db: AsyncSession, site: sa.Row[Any], new: NewLot, *, mass_kg: float, produced_at: datetime, org_id: str
) -> None:
    if site.capacity_kg_per_month is None:
        return
    start = produced_at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    before = await repository.produced_kg_between(db, new.site_id, org_id=org_id, start=start, end=end)
    if before + mass_kg > site.capacity_kg_per_month:
        month = f"{start.year:04d}-{start.month:02d}"
        anomaly = Anomaly(
            kind="capacity_exceeded",
            cause=f"capacity_exceeded:{new.site_id}:{month}",
            detail=f"site {new.site_id} declared {before + mass_kg:.1f} kg in {month}, above its capacity of "
            f"{site.capacity_kg_per_month:.1f} kg a month",
            actor_ids=[new.producer_actor_id],
            site_ids=[new.site_id],
            country=site.country,
            mineral=new.mineral,
        )
        await anomalies.record(db, anomaly, org_id=org_id)
