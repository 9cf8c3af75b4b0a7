"""Alembic environment of the traceability database: platform tables plus this service's own."""

from libs.common.migrations import run_env
from services.traceability import tables

run_env(tables.TraceabilityTable.metadata)
