"""Scheduled work of the kyc service, run by its worker."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.scheduler import Job
from services.kyc.domain import risk as risk_rules
from services.kyc.screening.matcher import DEFAULT_THRESHOLD
from services.kyc.settings import KycSettings
from services.kyc.use_cases import licences, reviews, risk, screening_job, sites
from services.kyc.use_cases.screening_index import ScreeningIndexes


def licence_expiry_job(settings: KycSettings) -> Job:
    """LicenceExpiring once when a licence's end is within the lead time, LicenceExpired once after it."""

    async def run(db: AsyncSession, now: datetime) -> int:
        return await licences.announce_expiries(db, now, lead_days=settings.kyc_licence_expiry_lead_days)

    return Job("kyc.licence_expiry", timedelta(minutes=settings.kyc_register_job_minutes), run)


def overdue_reviews_job(settings: KycSettings) -> Job:
    """ReviewOverdue once per actor and review date, after that date has passed."""

    async def run(db: AsyncSession, now: datetime) -> int:
        return await reviews.announce_overdue_reviews(db, now)

    return Job("kyc.overdue_reviews", timedelta(minutes=settings.kyc_register_job_minutes), run)


def site_status_job(settings: KycSettings) -> Job:
    """Mine-site lapses due by today (green → blue → red), one MineSiteStatusChanged per change."""

    async def run(db: AsyncSession, now: datetime) -> int:
        return await sites.apply_due_lapses(db, now, batch=settings.kyc_site_status_batch_size)

    return Job("kyc.site_status_lapses", timedelta(minutes=settings.kyc_site_status_job_minutes), run)


def screening_requests_job(settings: KycSettings) -> Job:
    """Pending screenings of actors, persons and new list snapshots; the engine index lives in this closure,
    i.e. in the worker process, and catches up with new snapshots from the database on every pass."""
    indexes = ScreeningIndexes()
    tuning = screening_job.Tuning(
        batch_size=settings.kyc_screening_batch_size,
        threshold=settings.kyc_screening_threshold or DEFAULT_THRESHOLD,
        delta_index_max=settings.kyc_screening_delta_index_max,
    )

    async def run(db: AsyncSession, now: datetime) -> int:
        return await screening_job.run_pending(db, now, indexes=indexes, tuning=tuning)

    return Job("kyc.screening", timedelta(seconds=settings.kyc_screening_interval_seconds), run)


def default_risk_table_job(settings: KycSettings) -> Job:
    """The shipped default risk table, stored once per version (at first start, and when a release ships a newer
    one), then every organisation following it re-evaluated."""

    async def run(db: AsyncSession, now: datetime) -> int:
        return await risk.load_default_table(db, now, table=risk_rules.default_table())

    return Job("kyc.default_risk_table", timedelta(minutes=settings.kyc_register_job_minutes), run)


def jobs(settings: KycSettings) -> Sequence[Job]:
    return [
        *([default_risk_table_job(settings)] if settings.kyc_default_risk_table else []),
        licence_expiry_job(settings),
        overdue_reviews_job(settings),
        site_status_job(settings),
        screening_requests_job(settings),
    ]
