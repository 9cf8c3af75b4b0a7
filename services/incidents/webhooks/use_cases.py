"""One function per action on partner webhooks."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import OrgKind, Principal
from libs.common.db import Executor, utcnow
from libs.common.errors import Invalid
from libs.common.events.incidents import IncidentEvent
from libs.common.pagination import Pagination, fetch_page
from services.incidents.webhooks import domain, repository
from services.incidents.webhooks.delivery import validate_url
from services.incidents.webhooks.repository import Deliveries, Subscriptions
from services.incidents.webhooks.tables import WebhookSubscriptionRow


async def create_subscription(
    db: AsyncSession,
    principal: Principal,
    *,
    url: str,
    tier: str,
    filters: domain.Filters,
    allow_http: bool,
    allow_private: bool,
) -> WebhookSubscriptionRow:
    if tier == "public" and filters.has_ids():
        raise Invalid(
            "the public tier cannot filter on actor, site or lot ids", code="filter_not_in_tier", field="filters"
        )
    url = await validate_url(url, allow_http=allow_http, allow_private=allow_private)
    now = utcnow()
    row = WebhookSubscriptionRow(
        id=uuid4(),
        org_id=principal.org_id,
        url=url,
        tier=tier,
        filters=filters.to_json(),
        secret=domain.new_secret(),
        created_by=principal.user_id,
        created_at=now,
        updated_at=now,
    )
    db.add(row)
    await db.flush()
    return row


async def list_subscriptions(db: Executor, principal: Principal, page: Pagination) -> tuple[list[Any], int]:
    return await fetch_page(db, repository.list_subscriptions_query(principal.org_id, _owner(principal)), page)


async def get_subscription(db: Executor, principal: Principal, subscription_id: UUID) -> sa.Row[Any]:
    return await repository.get_subscription(db, principal.org_id, subscription_id, owner=_owner(principal))


async def delete_subscription(db: AsyncSession, principal: Principal, subscription_id: UUID) -> None:
    await repository.get_subscription(db, principal.org_id, subscription_id, lock=True, owner=_owner(principal))
    await db.execute(sa.delete(Deliveries).where(Deliveries.c.subscription_id == subscription_id))
    await db.execute(sa.delete(Subscriptions).where(Subscriptions.c.id == subscription_id))


async def rotate_secret(
    db: AsyncSession, principal: Principal, subscription_id: UUID, *, grace: timedelta
) -> tuple[str, datetime]:
    """A new secret; the old one stays valid (both signatures are sent) until the grace period ends."""
    row = await repository.get_subscription(db, principal.org_id, subscription_id, lock=True, owner=_owner(principal))
    now = utcnow()
    secret, until = domain.new_secret(), now + grace
    await db.execute(
        sa.update(Subscriptions)
        .where(Subscriptions.c.id == row.id)
        .values(secret=secret, previous_secret=row.secret, previous_secret_until=until, updated_at=now)
    )
    return secret, until


async def set_enabled(db: AsyncSession, principal: Principal, subscription_id: UUID, *, enabled: bool) -> sa.Row[Any]:
    await repository.get_subscription(db, principal.org_id, subscription_id, lock=True, owner=_owner(principal))
    values: dict[str, Any] = {"enabled": enabled, "updated_at": utcnow()}
    if enabled:
        values |= {"consecutive_failures": 0, "disabled_reason": None}
    else:
        values["disabled_reason"] = "disabled_by_admin"
    await db.execute(sa.update(Subscriptions).where(Subscriptions.c.id == subscription_id).values(**values))
    return await repository.get_subscription(db, principal.org_id, subscription_id, owner=_owner(principal))


async def list_deliveries(
    db: Executor, principal: Principal, subscription_id: UUID, page: Pagination, status: str | None
) -> tuple[list[Any], int]:
    await repository.get_subscription(db, principal.org_id, subscription_id, owner=_owner(principal))
    return await fetch_page(db, repository.list_deliveries_query(subscription_id, status), page)


async def replay(
    db: AsyncSession, principal: Principal, subscription_id: UUID, *, since: datetime, until: datetime
) -> int:
    """Send again every delivery of events in [since, until): same rows, so the same webhook-ids."""
    if until <= since:
        raise Invalid("`until` must come after `since`", code="range_out_of_order", field="until")
    await repository.get_subscription(db, principal.org_id, subscription_id, lock=True, owner=_owner(principal))
    result = await db.execute(
        sa.update(Deliveries)
        .where(
            Deliveries.c.subscription_id == subscription_id,
            Deliveries.c.occurred_at >= since,
            Deliveries.c.occurred_at < until,
        )
        .values(status="pending", attempts=0, next_attempt_at=utcnow(), lease_until=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def fan_out(db: AsyncSession, event: IncidentEvent) -> int:
    """In the consumer's transaction: one delivery per matching subscription of the incident's organisation
    (a disabled one too: its deliveries wait until an admin enables it again)."""
    incident = event.incident
    key = domain.event_key(event)
    now = utcnow()
    rows: list[dict[str, Any]] = []
    payloads: dict[str, str | None] = {}  # per tier: the same projection and body for every subscription
    for sub in await repository.subscriptions_of(db, event.org_id):
        if not domain.Filters.from_json(sub.filters or {}).matches(incident):
            continue
        if sub.tier not in payloads:
            data = domain.projection(sub.tier, event)
            body = {"type": domain.event_name(event), "timestamp": incident.updated_at.isoformat(), "data": data}
            payloads[sub.tier] = None if data is None else _json(body)
        payload = payloads[sub.tier]
        if payload is None:
            continue
        delivery = domain.delivery_id(sub.id, key)
        rows.append(
            dict(
                id=delivery,
                subscription_id=sub.id,
                org_id=sub.org_id,
                event_key=key,
                event_type=event.event_type(),
                incident_id=event.incident_id,
                aggregate_version=event.aggregate_version,
                payload=payload,
                occurred_at=incident.updated_at,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    await repository.add_deliveries(db, rows)
    return len(rows)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _owner(principal: Principal) -> str | None:
    """Whose subscriptions the caller manages: a partner system its own, the operator's staff all of the programme."""
    return principal.user_id if principal.org_kind is OrgKind.PARTNER else None
