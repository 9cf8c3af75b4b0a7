"""What the persons API (beneficial owners and key persons) accepts and returns."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.kyc.schemas.text import CountryCode, Name, Short
from services.kyc.tables.register import PersonRow

PersonType = Literal["natural", "legal"]
Role = Literal["beneficial_owner", "shareholder", "director", "manager", "legal_representative", "key_person",
               "other"]
Share = Field(None, ge=0, le=100, allow_inf_nan=False, description="ownership share in %, 0–100")


class AddPerson(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_type: PersonType
    full_name: Name
    role: Role
    aliases: list[Name] = Field(default_factory=list, max_length=50)
    birth_date: date | None = Field(None, description="natural persons only; not in the future")
    nationality: CountryCode | None = Field(None, description="ISO 3166-1 alpha-2 (country of incorporation for "
                                                              "a legal person)")
    identifiers: list[Short] = Field(default_factory=list, max_length=20,
                                     description="passport, national id or company numbers")
    ownership_pct: float | None = Share


class UpdatePerson(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    person_type: PersonType | None = None
    full_name: Name | None = None
    role: Role | None = None
    aliases: list[Name] | None = Field(None, max_length=50)
    birth_date: date | None = None
    nationality: CountryCode | None = None
    identifiers: list[Short] | None = Field(None, max_length=20)
    ownership_pct: float | None = Share

    @field_validator("person_type", "full_name", "role", "aliases", "identifiers")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("this field cannot be null")
        return value

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


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

    @classmethod
    def from_row(cls, row: PersonRow) -> "PersonRead":
        return cls.model_validate(row, from_attributes=True)
