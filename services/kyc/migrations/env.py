"""Alembic environment of the kyc database: platform tables plus this service's own."""

from libs.common.migrations import run_env
from services.kyc.tables import KycTable

run_env(KycTable.metadata)
