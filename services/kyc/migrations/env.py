"""Alembic environment of the kyc database: platform tables plus this service's own."""
from libs.common.migrations import run_env
from services.kyc import tables

run_env(tables.KycTable.metadata)
