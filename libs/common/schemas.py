"""Response shapes every service shares."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: `total` counts every match, `items` holds at most `limit` of them from `offset`."""

    items: list[T]
    total: int
    limit: int
    offset: int
