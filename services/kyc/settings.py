"""KycSettings: typed, read from the environment, built in main.py and in tests."""

from __future__ import annotations

from pydantic import Field, SecretStr

from libs.common.settings import ServiceSettings, sqlite_url


class KycSettings(ServiceSettings):
    service_name: str = "kyc"
    database_url: SecretStr = Field(default_factory=lambda: SecretStr(sqlite_url("kyc")), alias="KYC_DATABASE_URL")
    api_port: int = Field(8001, alias="KYC_PORT")
    worker_port: int = Field(9101, alias="KYC_WORKER_PORT")

    # Register and review workflow (part A).
    kyc_licence_expiry_lead_days: int = Field(60, ge=0, alias="KYC_LICENCE_EXPIRY_LEAD_DAYS")
    kyc_review_months_high: int = Field(12, ge=1, alias="KYC_REVIEW_MONTHS_HIGH")
    kyc_review_months_medium: int = Field(24, ge=1, alias="KYC_REVIEW_MONTHS_MEDIUM")
    kyc_review_months_low: int = Field(36, ge=1, alias="KYC_REVIEW_MONTHS_LOW")
    kyc_document_max_bytes: int = Field(20 * 1024 * 1024, ge=1, alias="KYC_DOCUMENT_MAX_BYTES")
    kyc_register_job_minutes: float = Field(60.0, gt=0, alias="KYC_REGISTER_JOB_MINUTES")

    # Watchlists and screening (part C).
    kyc_watchlist_max_bytes: int = Field(200 * 1024 * 1024, ge=1, alias="KYC_WATCHLIST_MAX_BYTES")
    # An import that would remove more than this share of a list's entries needs confirm_removals=true (409 else).
    kyc_watchlist_max_removal_share: float = Field(0.5, ge=0, le=1, alias="KYC_WATCHLIST_MAX_REMOVAL_SHARE")
    kyc_screening_interval_seconds: float = Field(2.0, gt=0, alias="KYC_SCREENING_INTERVAL_SECONDS")
    kyc_screening_batch_size: int = Field(200, ge=1, alias="KYC_SCREENING_BATCH_SIZE")
    kyc_screening_threshold: float | None = Field(None, gt=0, le=1, alias="KYC_SCREENING_THRESHOLD")
    # A new snapshot with more changed entries than this is re-screened through the organisation's whole index.
    kyc_screening_delta_index_max: int = Field(20_000, ge=0, alias="KYC_SCREENING_DELTA_INDEX_MAX")
    # The worker's scheduler must tick at least as often as the screening job is due (platform default: 30 s).
    scheduler_interval_seconds: float = Field(1.0, gt=0, alias="SCHEDULER_INTERVAL_SECONDS")

    # Mine sites and the risk table (part B).
    kyc_site_status_job_minutes: float = Field(60.0, gt=0, alias="KYC_SITE_STATUS_JOB_MINUTES")
    kyc_site_status_batch_size: int = Field(500, ge=1, alias="KYC_SITE_STATUS_BATCH_SIZE")
    # Load the shipped default CAHRA table (services/kyc/data) at the worker's first start, and each newer version
    # of it a release ships; organisations without a table of their own follow it.
    kyc_default_risk_table: bool = Field(True, alias="KYC_DEFAULT_RISK_TABLE")
    # How far outside its declared country's outline (Natural Earth 1:10m) a site may lie: border sites, and the
    # outlines' own precision (a few km at that scale).
    kyc_site_border_tolerance_km: float = Field(10.0, ge=0, alias="KYC_SITE_BORDER_TOLERANCE_KM")
