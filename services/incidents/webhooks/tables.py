"""Tables of partner webhooks: subscriptions and one delivery row per (subscription, event)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlmodel import Field

from libs.common.db import UtcDateTime
from services.incidents.tables import IncidentsTable


class WebhookSubscriptionRow(IncidentsTable, table=True):
    __tablename__ = "webhook_subscription"

    id: UUID = Field(primary_key=True)
    org_id: str = Field(max_length=200, index=True)
    url: str = Field(max_length=2000)
    tier: str = Field(max_length=20)  # member | public
    filters: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    secret: str = Field(max_length=200)
    previous_secret: str | None = Field(default=None, max_length=200)
    previous_secret_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    enabled: bool = True
    disabled_reason: str | None = Field(default=None, max_length=200)
    consecutive_failures: int = 0
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class WebhookDeliveryRow(IncidentsTable, table=True):
    __tablename__ = "webhook_delivery"
    __table_args__ = (
        sa.UniqueConstraint("subscription_id", "event_key", name="uq_webhook_delivery_event"),
        sa.Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        sa.Index("ix_webhook_delivery_sub_time", "subscription_id", "occurred_at"),
    )

    id: UUID = Field(primary_key=True)  # the webhook-id is derived from it: stable across retries and replays
    subscription_id: UUID = Field(foreign_key="webhook_subscription.id", ondelete="CASCADE")
    org_id: str = Field(max_length=200)
    event_key: str = Field(max_length=100)  # <incident_id>:<aggregate_version>
    event_type: str = Field(max_length=100)
    incident_id: UUID
    aggregate_version: int
    payload: str = Field(sa_type=sa.Text)  # the tier's projection, as signed and sent
    occurred_at: datetime = Field(sa_type=UtcDateTime)
    status: str = Field(default="pending", max_length=20)  # pending | delivered | failed
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UtcDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=100)
    delivered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(sa_type=UtcDateTime)
