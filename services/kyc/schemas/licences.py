"""What the licences API accepts and returns."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from libs.common.schemas import IsoDate, Page, RequestBody
from services.kyc.domain.licences import Licence
from services.kyc.schemas.text import Issuer, Short

LicenceType = Literal[
    "mining_title",
    "environmental_licence",
    "trader_card",
    "export_licence",
    "processing_licence",
    "transport_permit",
    "other",
]
LicenceState = Literal["not_yet_valid", "valid", "expiring", "expired"]


class AddLicence(RequestBody):
    licence_type: LicenceType
    issuer: Issuer
    number: Short
    valid_from: IsoDate
    valid_to: IsoDate | None = Field(None, description="last valid day; none for a permit without end date")
    document_id: UUID | None = Field(None, description="an uploaded document of this organisation to attach")


class UpdateLicence(RequestBody):
    """Only the fields sent change (fields typed without null may be left out but not set to null); a new
    valid_to (a renewal) is announced again when it nears. `version` (or an If-Match header) is the licence's
    version last read."""

    version: int | None = Field(
        None, ge=1, le=2**31 - 1, description="the version last read (or send If-Match); a newer one answers 409"
    )
    licence_type: LicenceType = None  # type: ignore[assignment]
    issuer: Issuer = None
    number: Short = None
    valid_from: IsoDate = None  # type: ignore[assignment]
    valid_to: IsoDate | None = None

    def changes(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump(exclude_unset=True).items() if k != "version"}


class LicenceRead(BaseModel):
    id: UUID
    actor_id: UUID
    licence_type: str
    issuer: str
    number: str
    valid_from: date
    valid_to: date | None
    state: LicenceState = Field(
        description="today: not_yet_valid, valid, expiring (last day within KYC_LICENCE_EXPIRY_LEAD_DAYS), expired"
    )
    expiring_notified_at: datetime | None
    expired_notified_at: datetime | None
    document_ids: list[UUID] = []
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def from_domain(cls, licence: Licence, *, today: date, lead_days: int) -> LicenceRead:
        return cls(
            **{
                f: getattr(licence, f)
                for f in (
                    "id",
                    "actor_id",
                    "licence_type",
                    "issuer",
                    "number",
                    "valid_from",
                    "valid_to",
                    "expiring_notified_at",
                    "expired_notified_at",
                    "created_at",
                    "updated_at",
                    "document_ids",
                    "version",
                )
            },
            state=licence.validity(today, lead_days=lead_days),
        )


LicencePage = Page[LicenceRead]
