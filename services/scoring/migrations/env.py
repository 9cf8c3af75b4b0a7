"""Alembic environment of the scoring database: platform tables plus this service's own."""

from libs.common.migrations import run_env
from services.scoring import tables

run_env(tables.ScoringTable.metadata)
