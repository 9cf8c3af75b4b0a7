"""risk scores: read models of actors, hits, licences, sites, incidents, anomalies, lots, assessments; scores

Revision ID: 0100
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from libs.common.db import UtcDateTime

revision = "0100"
down_revision = "0003"
branch_labels = None
depends_on = None


def _org() -> sa.Column:
    return sa.Column("org_id", sa.String(100), nullable=False)


def _event() -> sa.Column:
    return sa.Column("event_id", sa.String(100), nullable=True)


def upgrade() -> None:
    op.create_table(
        "risk_actor",
        sa.Column("actor_id", sa.Uuid(), primary_key=True),
        _org(),
        sa.Column("kyc_status", sa.String(30), nullable=False),
        sa.Column("risk_level", sa.String(30), nullable=True),
        sa.Column("high_risk_area", sa.Boolean(), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("region", sa.String(10), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        _event(),
    )
    op.create_table(
        "risk_hit",
        sa.Column("hit_id", sa.Uuid(), primary_key=True),
        _org(),
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _event(),
    )
    op.create_index("ix_risk_hit_actor_id", "risk_hit", ["actor_id"])
    op.create_table(
        "risk_licence",
        sa.Column("licence_id", sa.Uuid(), primary_key=True),
        _org(),
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("notice", sa.String(20), nullable=True),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _event(),
    )
    op.create_index("ix_risk_licence_actor_id", "risk_licence", ["actor_id"])
    op.create_table(
        "risk_site",
        sa.Column("site_id", sa.Uuid(), primary_key=True),
        _org(),
        sa.Column("operator_actor_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("area_risk", sa.String(20), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        _event(),
    )
    op.create_index("ix_risk_site_operator_actor_id", "risk_site", ["operator_actor_id"])
    op.create_table(
        "risk_incident",
        sa.Column("incident_id", sa.Uuid(), primary_key=True),
        _org(),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _event(),
    )
    op.create_table(
        "risk_incident_link",
        sa.Column("incident_id", sa.Uuid(), primary_key=True),
        sa.Column("subject_type", sa.String(10), primary_key=True),
        sa.Column("subject_id", sa.Uuid(), primary_key=True),
    )
    op.create_index("ix_risk_incident_link_subject", "risk_incident_link", ["subject_id", "subject_type"])
    op.create_table(
        "risk_anomaly",
        sa.Column("anomaly_id", sa.Uuid(), primary_key=True),
        sa.Column("site_id", sa.Uuid(), primary_key=True),
        _org(),
        sa.Column("kind", sa.String(40), nullable=False),
        _event(),
    )
    op.create_index("ix_risk_anomaly_site_id", "risk_anomaly", ["site_id"])
    op.create_table(
        "risk_lot",
        sa.Column("lot_id", sa.Uuid(), primary_key=True),
        _org(),
        sa.Column("version", sa.Integer(), nullable=False),
        _event(),
    )
    op.create_table(
        "risk_lot_input",
        sa.Column("lot_id", sa.Uuid(), primary_key=True),
        sa.Column("input_lot_id", sa.Uuid(), primary_key=True),
    )
    op.create_index("ix_risk_lot_input_input_lot_id", "risk_lot_input", ["input_lot_id"])
    op.create_table(
        "risk_lot_origin",
        sa.Column("lot_id", sa.Uuid(), primary_key=True),
        sa.Column("site_id", sa.Uuid(), primary_key=True),
    )
    op.create_index("ix_risk_lot_origin_site_id", "risk_lot_origin", ["site_id"])
    op.create_table(
        "risk_lot_holder",
        sa.Column("lot_id", sa.Uuid(), primary_key=True),
        sa.Column("actor_id", sa.Uuid(), primary_key=True),
    )
    op.create_index("ix_risk_lot_holder_actor_id", "risk_lot_holder", ["actor_id"])
    op.create_table(
        "risk_assessment",
        sa.Column("assessment_id", sa.Uuid(), primary_key=True),
        _org(),
        sa.Column("subject_type", sa.String(10), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(60), nullable=False),
        sa.Column("self_assessment", sa.Boolean(), nullable=False),
        sa.Column("reviewed_at", UtcDateTime(), nullable=False),
        _event(),
    )
    op.create_index("ix_risk_assessment_subject", "risk_assessment", ["subject_id", "subject_type"])
    for name in ("risk_score", "risk_score_history"):
        op.create_table(
            name,
            sa.Column("subject_type", sa.String(10), primary_key=True),
            sa.Column("subject_id", sa.Uuid(), primary_key=True),
            *([sa.Column("version", sa.Integer(), primary_key=True)] if name == "risk_score_history" else []),
            _org(),
            *([sa.Column("version", sa.Integer(), nullable=False)] if name == "risk_score" else []),
            sa.Column("score", sa.Float(), nullable=False),
            sa.Column("band", sa.String(10), nullable=False),
            sa.Column("factors", sa.JSON(), nullable=False),
            sa.Column("weights_version", sa.String(40), nullable=False),
            sa.Column("computed_at", UtcDateTime(), nullable=False),
        )
    op.create_index("ix_risk_score_org_id", "risk_score", ["org_id", "subject_type"])
    op.create_table(
        "risk_recompute_request",
        sa.Column("request_id", sa.Uuid(), primary_key=True),
        _org(),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("requested_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("changed", sa.JSON(), nullable=True),
    )
    op.create_index("ix_risk_recompute_request_pending", "risk_recompute_request", ["finished_at", "requested_at"])


def downgrade() -> None:
    for name in (
        "risk_recompute_request",
        "risk_score_history",
        "risk_score",
        "risk_assessment",
        "risk_lot_holder",
        "risk_lot_origin",
        "risk_lot_input",
        "risk_lot",
        "risk_anomaly",
        "risk_incident_link",
        "risk_incident",
        "risk_site",
        "risk_licence",
        "risk_hit",
        "risk_actor",
    ):
        op.drop_table(name)
