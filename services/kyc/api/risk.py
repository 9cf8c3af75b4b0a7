"""HTTP routes of the country/region risk table."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Response

from libs.common.db import DbRead, DbTransaction
from services.kyc.access import Reader, Reviewer
from services.kyc.schemas.risk import (
    ReplaceRiskTable,
    RiskTableRead,
    RiskTableVersionRead,
)
from services.kyc.use_cases import risk as use_cases

router = APIRouter(prefix="/risk-areas", tags=["risk areas"])


@router.get("", summary="The risk table in force: conflict-affected and high-risk countries and regions")
async def risk_table_in_force(principal: Reader, db: DbRead) -> RiskTableRead:
    return RiskTableRead.from_domain(await use_cases.get_risk_table(db, principal))


@router.put(
    "",
    summary="Replace the whole table: a new version if anything differs, else the version in force",
    responses={
        200: {"description": "the version in force after the call (header X-Risk-Table-Changed)"},
        422: {"description": "unknown_country, unknown_region, duplicate_area, ..."},
    },
)
async def replace_risk_table(
    areas: Annotated[ReplaceRiskTable, Body()], principal: Reviewer, db: DbTransaction, response: Response
) -> RiskTableRead:
    table, changed = await use_cases.replace_risk_table(db, principal, areas=[a.to_domain() for a in areas])
    response.headers["X-Risk-Table-Changed"] = "true" if changed else "false"
    return RiskTableRead.from_domain(table)


@router.get("/versions", summary="Every version of the table, newest first")
async def list_versions(principal: Reader, db: DbRead) -> list[RiskTableVersionRead]:
    return [RiskTableVersionRead.from_domain(v) for v in await use_cases.list_risk_table_versions(db, principal)]


@router.get(
    "/versions/{version}",
    summary="One version of the table",
    responses={404: {"description": "no such version for the caller's organisation"}},
)
async def risk_table_version(
    version: Annotated[int, Path(ge=1, le=2**31 - 1)], principal: Reader, db: DbRead
) -> RiskTableRead:
    return RiskTableRead.from_domain(await use_cases.get_risk_table_version(db, principal, version))
