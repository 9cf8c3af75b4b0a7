"""Rows of subscriptions and deliveries, read and written for one organisation."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import Executor, dialect_of, insert
from libs.common.errors import NotFound
from services.incidents.webhooks.tables import WebhookDeliveryRow, WebhookSubscriptionRow

Subscriptions: sa.Table = WebhookSubscriptionRow.__table__  # type: ignore[attr-defined]
Deliveries: sa.Table = WebhookDeliveryRow.__table__  # type: ignore[attr-defined]


def _visible(org_id: str, owner: str | None) -> list[sa.ColumnElement[bool]]:
    """A programme's subscriptions; for a partner system (`owner`), only those it created: partners of one
    programme never see, replay or change each other's endpoints."""
    where = [Subscriptions.c.org_id == org_id]
    if owner is not None:
        where.append(Subscriptions.c.created_by == owner)
    return where


async def get_subscription(
    db: Executor, org_id: str, subscription_id: UUID, *, lock: bool = False, owner: str | None = None
) -> sa.Row[Any]:
    query = sa.select(Subscriptions).where(Subscriptions.c.id == subscription_id, *_visible(org_id, owner))
    if lock:
        query = query.with_for_update()
    row = (await db.execute(query)).first()
    if row is None:
        raise NotFound("no such subscription in this organisation", code="subscription_not_found")
    return row


def list_subscriptions_query(org_id: str, owner: str | None = None) -> sa.Select[Any]:
    return sa.select(Subscriptions).where(*_visible(org_id, owner)).order_by(Subscriptions.c.created_at)


def list_deliveries_query(subscription_id: UUID, status: str | None) -> sa.Select[Any]:
    query = sa.select(Deliveries).where(Deliveries.c.subscription_id == subscription_id)
    if status:
        query = query.where(Deliveries.c.status == status)
    return query.order_by(Deliveries.c.occurred_at.desc(), Deliveries.c.id)


async def subscriptions_of(db: AsyncSession, org_id: str) -> list[sa.Row[Any]]:
    query = sa.select(Subscriptions).where(Subscriptions.c.org_id == org_id)
    return list((await db.execute(query)).all())


async def add_deliveries(db: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """One row per (subscription, event); a redelivered event adds nothing."""
    if rows:
        statement = insert(dialect_of(db), Deliveries).on_conflict_do_nothing(
            index_elements=["subscription_id", "event_key"]
        )
        await db.execute(statement, rows)  # executemany: compiled once, cached, sent in batches


async def claim_due(db: AsyncSession, now: datetime, *, limit: int, saturated: Collection[UUID] = ()) -> list[Any]:
    """Due deliveries of enabled subscriptions, locked with SKIP LOCKED (two workers never claim the same one) and
    not under a live lease. The caller leases the ones it sends (`lease`). Subscriptions in `saturated` (all their
    send slots busy in this process: a slow or dead receiver) are left out, so their backlog neither fills the
    batch nor is read again on every pass at the others' expense."""
    query = (
        sa.select(
            Deliveries.c.id,
            Deliveries.c.subscription_id,
            Deliveries.c.payload,
            Subscriptions.c.url,
            Subscriptions.c.secret,
            Subscriptions.c.previous_secret,
            Subscriptions.c.previous_secret_until,
        )
        .join(Subscriptions, Subscriptions.c.id == Deliveries.c.subscription_id)
        .where(
            Deliveries.c.status == "pending",
            Deliveries.c.next_attempt_at <= now,
            sa.or_(Deliveries.c.lease_until.is_(None), Deliveries.c.lease_until < now),
            Subscriptions.c.enabled.is_(True),
            *([Deliveries.c.subscription_id.not_in(sorted(saturated))] if saturated else []),
        )
        .order_by(Deliveries.c.next_attempt_at)
        .limit(limit)
        .with_for_update(of=Deliveries, skip_locked=True)
    )
    return list((await db.execute(query)).all())


async def lease(db: AsyncSession, ids: list[UUID], until: datetime) -> None:
    """A worker killed mid-send leaves a lease that expires, and the delivery is sent again (same webhook-id)."""
    if ids:
        await db.execute(sa.update(Deliveries).where(Deliveries.c.id.in_(ids)).values(lease_until=until))
