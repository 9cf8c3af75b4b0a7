"""screening — watchlists, snapshots, entries, screening requests, hits

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from libs.common.db import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    _watchlist()
    _watchlist_snapshot()
    _watchlist_entry()
    _screening_request()
    _screening_hit()


def _watchlist() -> None:
    op.create_table(
        "watchlist",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("format", sa.String(20), nullable=False),
        sa.Column("source", sa.String(500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("uq_watchlist_org_name", "watchlist", ["org_id", "name"], unique=True)


def _watchlist_snapshot() -> None:
    op.create_table(
        "watchlist_snapshot",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.String(100), nullable=False),
        sa.Column("watchlist_id", sa.Uuid(), sa.ForeignKey("watchlist.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("object_key", sa.String(200), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("added_count", sa.Integer(), nullable=False),
        sa.Column("changed_count", sa.Integer(), nullable=False),
        sa.Column("removed_count", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(100), nullable=False),
        sa.Column("imported_at", UtcDateTime(), nullable=False),
    )
    op.create_index("uq_watchlist_snapshot_version", "watchlist_snapshot", ["watchlist_id", "version"], unique=True)
    op.create_index("ix_watchlist_snapshot_sha256", "watchlist_snapshot", ["watchlist_id", "sha256"])


def _watchlist_entry() -> None:
    op.create_table(
        "watchlist_entry",
        sa.Column("watchlist_id", sa.Uuid(), sa.ForeignKey("watchlist.id"), primary_key=True),
        sa.Column("entry_id", sa.String(200), primary_key=True),
        sa.Column("org_id", sa.String(100), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("first_seen_version", sa.Integer(), nullable=False),
        sa.Column("changed_version", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_watchlist_entry_changed", "watchlist_entry", ["watchlist_id", "changed_version"])


def _screening_request() -> None:
    op.create_table(
        "screening_request",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.String(100), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("subject_type", sa.String(10), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("requested_at", UtcDateTime(), nullable=False),
        sa.Column("completed_at", UtcDateTime(), nullable=True),
        sa.Column("hit_count", sa.Integer(), nullable=True),
    )
    op.create_index(
        "ix_screening_request_pending",
        "screening_request",
        ["requested_at"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )
    op.create_index("ix_screening_request_actor", "screening_request", ["actor_id", "status"])
    op.create_index("ix_screening_request_org", "screening_request", ["org_id", "subject_type", "status"])


def _screening_hit() -> None:
    op.create_table(
        "screening_hit",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.String(100), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        sa.Column("subject_type", sa.String(10), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("subject_name", sa.String(300), nullable=False),
        sa.Column("watchlist_id", sa.Uuid(), sa.ForeignKey("watchlist.id"), nullable=False),
        sa.Column("entry_id", sa.String(200), nullable=False),
        sa.Column("entry_fingerprint", sa.String(64), nullable=False),
        sa.Column("subject_fingerprint", sa.String(64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("matched_name", sa.String(500), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("entry_removed", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("decided_by", sa.String(100), nullable=True),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
    )
    op.create_index("ix_screening_hit_queue", "screening_hit", ["org_id", "status", "created_at"])
    op.create_index("ix_screening_hit_actor", "screening_hit", ["actor_id", "status"])
    op.create_index("ix_screening_hit_pair", "screening_hit", ["subject_id", "watchlist_id", "entry_id"])
    op.create_index(
        "uq_screening_hit_open",
        "screening_hit",
        ["subject_id", "watchlist_id", "entry_id"],
        unique=True,
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )


def downgrade() -> None:
    for table in ("screening_hit", "screening_request", "watchlist_entry", "watchlist_snapshot", "watchlist"):
        op.drop_table(table)
