"""Tables of risk scores: read models of other services' facts (each at the version it reflects), and scores.

Core tables on ScoringTable's MetaData (not SQLModel classes): every access is a set-based statement."""

from __future__ import annotations

import sqlalchemy as sa

from libs.common.db import UtcDateTime
from services.scoring.tables import ScoringTable

metadata = ScoringTable.metadata
ORG = 100


def _org() -> sa.Column[str]:
    return sa.Column("org_id", sa.String(ORG), nullable=False)


def _event() -> sa.Column[str]:
    return sa.Column("event_id", sa.String(100), nullable=True)  # the event that set the row


risk_actor = sa.Table(
    "risk_actor",
    metadata,
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

risk_hit = sa.Table(
    "risk_hit",
    metadata,
    sa.Column("hit_id", sa.Uuid(), primary_key=True),
    _org(),
    sa.Column("actor_id", sa.Uuid(), nullable=False),
    sa.Column("confirmed", sa.Boolean(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),  # the actor's aggregate version of the decision
    _event(),
    sa.Index("ix_risk_hit_actor_id", "actor_id"),
)

risk_licence = sa.Table(
    "risk_licence",
    metadata,
    sa.Column("licence_id", sa.Uuid(), primary_key=True),
    _org(),
    sa.Column("actor_id", sa.Uuid(), nullable=False),
    sa.Column("valid_to", sa.Date(), nullable=True),
    sa.Column("notice", sa.String(20), nullable=True),  # expiring | expired, as KYC announced
    sa.Column("removed", sa.Boolean(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    _event(),
    sa.Index("ix_risk_licence_actor_id", "actor_id"),
)

risk_site = sa.Table(
    "risk_site",
    metadata,
    sa.Column("site_id", sa.Uuid(), primary_key=True),
    _org(),
    sa.Column("operator_actor_id", sa.Uuid(), nullable=True),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("area_risk", sa.String(20), nullable=True),
    sa.Column("version", sa.Integer(), nullable=False),
    _event(),
    sa.Index("ix_risk_site_operator_actor_id", "operator_actor_id"),
)

risk_incident = sa.Table(
    "risk_incident",
    metadata,
    sa.Column("incident_id", sa.Uuid(), primary_key=True),
    _org(),
    sa.Column("level", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("is_open", sa.Boolean(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    _event(),
)

# What an incident is linked to, as its newest applied state says (replaced with it).
risk_incident_link = sa.Table(
    "risk_incident_link",
    metadata,
    sa.Column("incident_id", sa.Uuid(), primary_key=True),
    sa.Column("subject_type", sa.String(10), primary_key=True),
    sa.Column("subject_id", sa.Uuid(), primary_key=True),
    sa.Index("ix_risk_incident_link_subject", "subject_id", "subject_type"),
)

risk_anomaly = sa.Table(
    "risk_anomaly",
    metadata,
    sa.Column("anomaly_id", sa.Uuid(), primary_key=True),
    sa.Column("site_id", sa.Uuid(), primary_key=True),
    _org(),
    sa.Column("kind", sa.String(40), nullable=False),
    _event(),
    sa.Index("ix_risk_anomaly_site_id", "site_id"),
)

risk_lot = sa.Table(
    "risk_lot",
    metadata,
    sa.Column("lot_id", sa.Uuid(), primary_key=True),
    _org(),
    sa.Column("version", sa.Integer(), nullable=False),
    _event(),
)

# A lot's direct inputs (lineage edges, input -> output) and origin sites, as its newest applied state says.
risk_lot_input = sa.Table(
    "risk_lot_input",
    metadata,
    sa.Column("lot_id", sa.Uuid(), primary_key=True),
    sa.Column("input_lot_id", sa.Uuid(), primary_key=True),
    sa.Index("ix_risk_lot_input_input_lot_id", "input_lot_id"),
)

risk_lot_origin = sa.Table(
    "risk_lot_origin",
    metadata,
    sa.Column("lot_id", sa.Uuid(), primary_key=True),
    sa.Column("site_id", sa.Uuid(), primary_key=True),
    sa.Index("ix_risk_lot_origin_site_id", "site_id"),
)

# Every actor that held a lot (producer, custodians, senders and receivers): only grows.
risk_lot_holder = sa.Table(
    "risk_lot_holder",
    metadata,
    sa.Column("lot_id", sa.Uuid(), primary_key=True),
    sa.Column("actor_id", sa.Uuid(), primary_key=True),
    sa.Index("ix_risk_lot_holder_actor_id", "actor_id"),
)

# Reviewed assessments (our own topic): the newest per subject is the one that counts.
risk_assessment = sa.Table(
    "risk_assessment",
    metadata,
    sa.Column("assessment_id", sa.Uuid(), primary_key=True),
    _org(),
    sa.Column("subject_type", sa.String(10), nullable=False),
    sa.Column("subject_id", sa.Uuid(), nullable=False),
    sa.Column("outcome", sa.String(60), nullable=False),
    sa.Column("self_assessment", sa.Boolean(), nullable=False),
    sa.Column("reviewed_at", UtcDateTime(), nullable=False),
    sa.Column("assessed_on", sa.Date(), nullable=True),  # the newest by this day counts (then by review time)
    _event(),
    sa.Index("ix_risk_assessment_subject", "subject_id", "subject_type"),
)

risk_score = sa.Table(
    "risk_score",
    metadata,
    sa.Column("subject_type", sa.String(10), primary_key=True),
    sa.Column("subject_id", sa.Uuid(), primary_key=True),
    _org(),
    sa.Column("version", sa.Integer(), nullable=False),  # ScoreChanged.aggregate_version
    sa.Column("score", sa.Float(), nullable=False),
    sa.Column("band", sa.String(10), nullable=False),
    sa.Column("factors", sa.JSON(), nullable=False),
    sa.Column("weights_version", sa.String(40), nullable=False),
    sa.Column("computed_at", UtcDateTime(), nullable=False),
    sa.Index("ix_risk_score_org_id", "org_id", "subject_type"),
)

risk_score_history = sa.Table(
    "risk_score_history",
    metadata,
    sa.Column("subject_type", sa.String(10), primary_key=True),
    sa.Column("subject_id", sa.Uuid(), primary_key=True),
    sa.Column("version", sa.Integer(), primary_key=True),
    _org(),
    sa.Column("score", sa.Float(), nullable=False),
    sa.Column("band", sa.String(10), nullable=False),
    sa.Column("factors", sa.JSON(), nullable=False),
    sa.Column("weights_version", sa.String(40), nullable=False),
    sa.Column("computed_at", UtcDateTime(), nullable=False),
)

# A full recompute asked for by an organisation's admin, run by the worker's job.
risk_recompute_request = sa.Table(
    "risk_recompute_request",
    metadata,
    sa.Column("request_id", sa.Uuid(), primary_key=True),
    _org(),
    sa.Column("requested_by", sa.String(200), nullable=False),
    sa.Column("requested_at", UtcDateTime(), nullable=False),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    sa.Column("changed", sa.JSON(), nullable=True),
    sa.Index("ix_risk_recompute_request_pending", "finished_at", "requested_at"),
)
