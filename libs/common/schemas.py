"""Request and response shapes every service shares."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints
from pydantic_core import PydanticCustomError

T = TypeVar("T")
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _iso_date_only(value: object) -> object:
    # Pydantic's lax mode reads 0 as 1970-01-01 and "2024-01-01T00:00" as a date; a date here is its ISO text.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        return value
    raise PydanticCustomError("iso_date", "Input should be an ISO 8601 date, YYYY-MM-DD")


# No control characters but tab and newlines (PostgreSQL rejects NUL bytes; the others are never meant).
NO_CONTROL = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


def text(max_length: int, *, min_length: int = 1) -> Any:
    """A bounded string without control characters: the one shape of free text in every API."""
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length, pattern=NO_CONTROL)]


def search_query(max_length: int) -> Any:
    """A search term: surrounding spaces dropped, and one that is only spaces refused (it would match everything)."""
    return Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length, pattern=NO_CONTROL)
    ]


# Every date an API accepts, in a body or a query: an ISO 8601 calendar date string and nothing else.
IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]


class RequestBody(BaseModel):
    """The base of every request body, JSON or multipart form (`Annotated[Model, Form()]`): a field the API does not
    know is refused (422 `validation_error`, type `extra_forbidden`), never silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    """One page of a list: `total` counts every match, `items` holds at most `limit` of them from `offset`."""

    items: list[T]
    total: int
    limit: int
    offset: int
