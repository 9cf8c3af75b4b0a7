"""partner webhooks: webhook_subscription, webhook_delivery

Revision ID: 0100
Revises: 0002
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from libs.common.db import UtcDateTime

revision = "0100"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_subscription",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sqlmodel.AutoString(length=200), nullable=False),
        sa.Column("url", sqlmodel.AutoString(length=2000), nullable=False),
        sa.Column("tier", sqlmodel.AutoString(length=20), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("secret", sqlmodel.AutoString(length=200), nullable=False),
        sa.Column("previous_secret", sqlmodel.AutoString(length=200), nullable=True),
        sa.Column("previous_secret_until", UtcDateTime(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sqlmodel.AutoString(length=200), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("created_by", sqlmodel.AutoString(length=200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_webhook_subscription_org_id"), "webhook_subscription", ["org_id"])
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sqlmodel.AutoString(length=200), nullable=False),
        sa.Column("event_key", sqlmodel.AutoString(length=100), nullable=False),
        sa.Column("event_type", sqlmodel.AutoString(length=100), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("aggregate_version", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("status", sqlmodel.AutoString(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("lease_until", UtcDateTime(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sqlmodel.AutoString(length=100), nullable=True),
        sa.Column("delivered_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["subscription_id"], ["webhook_subscription.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscription_id", "event_key", name="uq_webhook_delivery_event"),
    )
    op.create_index("ix_webhook_delivery_due", "webhook_delivery", ["status", "next_attempt_at"])
    op.create_index("ix_webhook_delivery_sub_time", "webhook_delivery", ["subscription_id", "occurred_at"])


def downgrade() -> None:
    op.drop_table("webhook_delivery")
    op.drop_table("webhook_subscription")
