"""lots, lineage edges, holders, tags, anomalies, batch keys; read models of KYC sites, incidents and scores

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

import libs.common.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "custody_anomaly",
        sa.Column("anomaly_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("lot_ids", sa.JSON(), nullable=False),
        sa.Column("actor_ids", sa.JSON(), nullable=False),
        sa.Column("site_ids", sa.JSON(), nullable=False),
        sa.Column("detected_at", libs.common.db.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("anomaly_id"),
    )
    with op.batch_alter_table("custody_anomaly", schema=None) as batch_op:
        batch_op.create_index("ix_custody_anomaly_org_id", ["org_id", "detected_at"], unique=False)

    op.create_table(
        "custody_request",
        sa.Column("org_id", sa.String(length=100), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", libs.common.db.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "idempotency_key"),
    )
    op.create_table(
        "known_incident",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.String(length=100), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("actor_ids", sa.JSON(), nullable=False),
        sa.Column("site_ids", sa.JSON(), nullable=False),
        sa.Column("lot_ids", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", libs.common.db.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("incident_id"),
    )
    with op.batch_alter_table("known_incident", schema=None) as batch_op:
        batch_op.create_index("ix_known_incident_org_id", ["org_id"], unique=False)

    op.create_table(
        "known_score",
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("subject_type", sa.String(length=10), nullable=False),
        sa.Column("org_id", sa.String(length=100), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("band", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", libs.common.db.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id"),
    )
    op.create_table(
        "known_site",
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("capacity_kg_per_month", sa.Float(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", libs.common.db.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("site_id"),
    )
    with op.batch_alter_table("known_site", schema=None) as batch_op:
        batch_op.create_index("ix_known_site_org_id", ["org_id"], unique=False)

    op.create_table(
        "lot",
        sa.Column("lot_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.String(length=100), nullable=False),
        sa.Column("tag", sa.String(length=100), nullable=True),
        sa.Column("mineral", sa.String(length=50), nullable=False),
        sa.Column("hs_code", sa.String(length=12), nullable=True),
        sa.Column("form", sa.String(length=30), nullable=False),
        sa.Column("mass", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=3), nullable=False),
        sa.Column("mass_kg", sa.Float(), nullable=False),
        sa.Column("grade_pct", sa.Float(), nullable=True),
        sa.Column("site_id", sa.Uuid(), nullable=True),
        sa.Column("origin_site_ids", sa.JSON(), nullable=False),
        sa.Column("producer_actor_id", sa.Uuid(), nullable=True),
        sa.Column("custodian_actor_id", sa.Uuid(), nullable=True),
        sa.Column("pending_to_actor_id", sa.Uuid(), nullable=True),
        sa.Column("pending_event_id", sa.Uuid(), nullable=True),
        sa.Column("pending_mass_kg", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("produced_at", libs.common.db.UtcDateTime(), nullable=False),
        sa.Column("created_at", libs.common.db.UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("lot_id"),
    )
    with op.batch_alter_table("lot", schema=None) as batch_op:
        batch_op.create_index("ix_lot_org_id_custodian", ["org_id", "custodian_actor_id"], unique=False)
        batch_op.create_index("ix_lot_site_id_produced_at", ["site_id", "produced_at"], unique=False)

    op.create_table(
        "lot_holder",
        sa.Column("lot_id", sa.Uuid(), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("lot_id", "actor_id"),
    )
    with op.batch_alter_table("lot_holder", schema=None) as batch_op:
        batch_op.create_index("ix_lot_holder_actor_id", ["actor_id"], unique=False)

    op.create_table(
        "lot_input",
        sa.Column("lot_id", sa.Uuid(), nullable=False),
        sa.Column("input_lot_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("lot_id", "input_lot_id"),
    )
    with op.batch_alter_table("lot_input", schema=None) as batch_op:
        batch_op.create_index("ix_lot_input_input_lot_id", ["input_lot_id", "lot_id"], unique=False)

    op.create_table(
        "tag",
        sa.Column("tag", sa.String(length=100), nullable=False),
        sa.Column("org_id", sa.String(length=100), nullable=False),
        sa.Column("block_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("lot_id", sa.Uuid(), nullable=True),
        sa.Column("allocated_at", libs.common.db.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tag"),
    )


def downgrade() -> None:
    op.drop_table("tag")
    with op.batch_alter_table("lot_input", schema=None) as batch_op:
        batch_op.drop_index("ix_lot_input_input_lot_id")

    op.drop_table("lot_input")
    with op.batch_alter_table("lot_holder", schema=None) as batch_op:
        batch_op.drop_index("ix_lot_holder_actor_id")

    op.drop_table("lot_holder")
    with op.batch_alter_table("lot", schema=None) as batch_op:
        batch_op.drop_index("ix_lot_site_id_produced_at")
        batch_op.drop_index("ix_lot_org_id_custodian")

    op.drop_table("lot")
    with op.batch_alter_table("known_site", schema=None) as batch_op:
        batch_op.drop_index("ix_known_site_org_id")

    op.drop_table("known_site")
    op.drop_table("known_score")
    with op.batch_alter_table("known_incident", schema=None) as batch_op:
        batch_op.drop_index("ix_known_incident_org_id")

    op.drop_table("known_incident")
    op.drop_table("custody_request")
    with op.batch_alter_table("custody_anomaly", schema=None) as batch_op:
        batch_op.drop_index("ix_custody_anomaly_org_id")

    op.drop_table("custody_anomaly")
