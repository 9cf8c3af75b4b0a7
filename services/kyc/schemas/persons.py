"""What the persons API (beneficial owners and key persons) accepts and returns."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from libs.common.schemas import IsoDate, RequestBody
from services.kyc.domain.persons import Person
from services.kyc.schemas.text import CountryCode, Name, Short

PersonType = Literal["natural", "legal"]
Role = Literal["beneficial_owner", "shareholder", "director", "manager", "legal_representative", "key_person", "other"]
Share = Field(None, ge=0, le=100, allow_inf_nan=False, description="ownership share in %, 0–100")


class AddPerson(RequestBody):
    person_type: PersonType
    full_name: Name
    role: Role
    aliases: list[Name] = Field(default_factory=list, max_length=50)
    birth_date: IsoDate | None = Field(None, description="natural persons only; not in the future")
    nationality: CountryCode | None = Field(
        None, description="ISO 3166-1 alpha-2 (country of incorporation for a legal person)"
    )
    identifiers: list[Short] = Field(
        default_factory=list, max_length=20, description="passport, national id or company numbers"
    )
    ownership_pct: float | None = Share


class UpdatePerson(RequestBody):
    """Only the fields sent change; fields typed without null may be left out but not set to null. `version` (or an
    If-Match header) is the person's version last read."""

    version: int | None = Field(
        None, ge=1, le=2**31 - 1, description="the version last read (or send If-Match); a newer one answers 409"
    )
    person_type: PersonType = None  # type: ignore[assignment]
    full_name: Name = None
    role: Role = None  # type: ignore[assignment]
    aliases: list[Name] = Field(None, max_length=50)  # type: ignore[assignment]
    birth_date: IsoDate | None = None
    nationality: CountryCode | None = None
    identifiers: list[Short] = Field(None, max_length=20)  # type: ignore[assignment]
    ownership_pct: float | None = Share

    def changes(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump(exclude_unset=True).items() if k != "version"}


class PersonRead(BaseModel):
    id: UUID
    actor_id: UUID
    person_type: str
    full_name: str
    role: str
    aliases: list[str]
    birth_date: date | None
    nationality: str | None
    identifiers: list[str]
    ownership_pct: float | None
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def from_domain(cls, person: Person) -> PersonRead:
        return cls.model_validate(person, from_attributes=True)
