"""Error categories the domain raises (http.py maps them to RFC 9457 problems), and which unique constraint failed."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # only the helper at the end reads database metadata; the categories need no SQLAlchemy
    import sqlalchemy as sa


class AppError(Exception):
    status = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.extra = extra


class NotFound(AppError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(AppError):
    status, code, title = 409, "conflict", "Conflict"


class Invalid(AppError):
    status, code, title = 422, "invalid", "Unprocessable content"


class UnknownReference(Invalid):
    """A body (or form) names an id that does not exist for the caller, or is another organisation's: 422 with a code
    per kind of thing (`unknown_document`) and the `field` that named it. An id in the path answers 404 instead."""

    def __init__(self, field: str, *, code: str, what: str) -> None:
        super().__init__(f"{field} names no {what} of this organisation", code=code, field=field)


T = TypeVar("T")


async def referenced(lookup: Awaitable[T], *, field: str, code: str, what: str) -> T:
    """What a body's `field` names, looked up by `lookup` (a repository `get_*`): its NotFound becomes the 422 of an
    unknown reference; any other refusal (a 403) passes unchanged."""
    try:
        return await lookup
    except NotFound as exc:
        raise UnknownReference(field, code=code, what=what) from exc


class Forbidden(AppError):
    status, code, title = 403, "forbidden", "Forbidden"


class Unauthorized(AppError):
    status, code, title = 401, "unauthorized", "Unauthorized"


class PreconditionRequired(AppError):
    status, code, title = 428, "precondition_required", "Precondition required"


class TooLarge(AppError):
    status, code, title = 413, "too_large", "Content too large"


class UnsupportedMediaType(AppError):
    status, code, title = 415, "unsupported_media_type", "Unsupported media type"


# --- database constraint violations -------------------------------------------------------------------------------

UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE
_SQLITE_UNIQUE = "UNIQUE constraint failed: "


def unique_violation(exc: BaseException, *, metadata: Iterable[sa.MetaData] = ()) -> str | None:
    """The name of the unique constraint (or unique index) `exc` violates; None when it is not a unique violation.

    `exc` is SQLAlchemy's IntegrityError or the driver's error. PostgreSQL names the constraint. SQLite names only
    the columns ("UNIQUE constraint failed: actor.org_id, actor.country"): given the tables' `metadata`, the unique
    index or constraint on exactly those columns gives its name; otherwise the name PostgreSQL would have given an
    unnamed one (`actor_org_id_country_key`, `actor_pkey`), so the answer is the same on both wherever it can be."""
    error = getattr(exc, "orig", None) or exc
    # SQLAlchemy's asyncpg adapter has the SQLSTATE; the driver's own error, which it wraps, has the name.
    errors = [e for e in (error, getattr(error, "driver_exception", None), error.__cause__) if e is not None]
    if any(getattr(e, "sqlstate", None) == UNIQUE_VIOLATION for e in errors):
        for e in errors:
            name = getattr(e, "constraint_name", None) or getattr(getattr(e, "diag", None), "constraint_name", None)
            if name:  # asyncpg's constraint_name, psycopg's diag.constraint_name
                return str(name)
        return "unique"
    message = str(error)
    if not message.startswith(_SQLITE_UNIQUE):
        return None
    return _sqlite_constraint(
        message.removeprefix(_SQLITE_UNIQUE).strip(),
        primary_key=getattr(error, "sqlite_errorname", "") == "SQLITE_CONSTRAINT_PRIMARYKEY",
        metadata=metadata,
    )


def _sqlite_constraint(columns_text: str, *, primary_key: bool, metadata: Iterable[sa.MetaData]) -> str:
    if columns_text.startswith("index '"):  # an index on expressions: SQLite names it
        return columns_text.removeprefix("index '").rstrip("'")
    qualified = [c.strip() for c in columns_text.split(",")]
    table = qualified[0].partition(".")[0]
    columns = [c.partition(".")[2] for c in qualified]
    for meta in metadata:
        if table in meta.tables:
            named = _named_unique(meta.tables[table], columns)
            if named:
                return named
            break
    return f"{table}_pkey" if primary_key else f"{table}_{'_'.join(columns)}_key"


def _named_unique(table: sa.Table, columns: list[str]) -> str | None:
    import sqlalchemy as sa

    if [c.name for c in table.primary_key.columns] == columns:
        return _own_name(table.primary_key.name) or f"{table.name}_pkey"
    for index in table.indexes:
        if index.unique and [c.name for c in index.columns] == columns:
            return index.name
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint) and [c.name for c in constraint.columns] == columns:
            return _own_name(constraint.name) or f"{table.name}_{'_'.join(columns)}_key"
    return None


def _own_name(name: object) -> str | None:
    # a constraint's name is str or None; SQLAlchemy's typing adds a sentinel only its CHECK constraints use
    return name if isinstance(name, str) else None
