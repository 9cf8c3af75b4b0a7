"""Request and response shapes every service shares."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


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
