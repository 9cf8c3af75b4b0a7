"""What the KYC repositories share: domain objects to column values and back, and which unique index a failed
write violated (libs.common.errors.unique_violation, told our tables so SQLite's answer names it too)."""

from __future__ import annotations

import dataclasses
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from libs.common import errors
from services.kyc.tables import KycTable

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


def column_values(record: object, table: sa.Table) -> dict[str, Any]:
    """The record's attributes named like the table's columns (enums as their values); other columns are left out."""
    if dataclasses.is_dataclass(record):
        names = _shared_names(type(record), table)
    else:
        names = tuple(column.name for column in table.columns if hasattr(record, column.name))
    values = {}
    for name in names:
        value = getattr(record, name)
        values[name] = value.value if isinstance(value, Enum) else value
    return values


@cache
def _shared_names(cls: type, table: sa.Table) -> tuple[str, ...]:
    # A dataclass's instances all have its fields, and its class attributes (properties) are the class's: which
    # columns it has is looked up once (hasattr per column on every save was most of column_values).
    fields = {f.name for f in dataclasses.fields(cls)}
    return tuple(column.name for column in table.columns if column.name in fields or hasattr(cls, column.name))


def from_row(cls: type[T], row: sa.Row[Any], **overrides: Any) -> T:
    """A dataclass from the row's columns it has fields for; `overrides` replace or add values."""
    names = _init_fields(cls)
    values = {k: v for k, v in row._mapping.items() if k in names}
    values.update(overrides)
    return cls(**values)


@cache
def _init_fields(cls: type) -> frozenset[str]:
    # Looked up once per class: dataclasses.fields on every row was a tenth of a list's mapping.
    return frozenset(f.name for f in dataclasses.fields(cls) if f.init)


def unique_violation(exc: IntegrityError | Exception) -> str | None:
    """The name of the unique index (or constraint) the failed write violated; None for any other failure. `exc` is
    SQLAlchemy's IntegrityError, or the driver's own error (a statement run on it: libs.common.db.write_rows)."""
    # The driver's own error first: SQLAlchemy's asyncpg adapter carries the SQLSTATE but not the constraint's name,
    # which the shared helper then answers as "unique"; asyncpg's error (the adapter's cause) names it.
    orig = getattr(exc, "orig", None)
    return errors.unique_violation(getattr(orig, "__cause__", None) or exc, metadata=[KycTable.metadata])
