"""Alembic environment of the incidents database: platform tables plus this service's own."""

from libs.common.migrations import run_env
from services.incidents import tables

run_env(tables.IncidentsTable.metadata)
