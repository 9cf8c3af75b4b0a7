"""Versioned copies of another service's records, many at a time: a consumer applies a partition's batch in one
transaction, and one upsert per event made the round trips its limit. Rows are staged in the session (the newest
version of each key kept) and written by one executemany of the same guarded upsert (`WHERE version <
excluded.version`: an older or repeated copy changes nothing) when the transaction commits, or earlier by `flush`
when something in the transaction reads them. A rolled-back transaction writes nothing, so the copies still commit
with the inbox rows, once."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from libs.common.db import Executor, dialect_of, insert


async def save_versioned_rows(db: Executor, table: sa.Table, rows: list[dict[str, Any]]) -> set[Any]:
    """Rows of distinct keys (the same columns each) as one executemany of the guarded upsert; the keys of the rows
    that now hold the values given (not those that kept a copy as new or newer)."""
    if not rows:
        return set()
    statement = versioned_upsert(dialect_of(db), table, tuple(rows[0]))
    return set((await db.execute(statement, rows)).scalars())


@lru_cache(maxsize=64)
def versioned_upsert(dialect: str, table: sa.Table, columns: tuple[str, ...]) -> sa.Executable:
    """INSERT, or overwrite a row of an older version; built once per table and columns."""
    key = [c.name for c in table.primary_key.columns]
    statement = insert(dialect, table).values({name: sa.bindparam(name) for name in columns})
    return statement.on_conflict_do_update(
        index_elements=key,
        set_={name: statement.excluded[name] for name in columns if name not in key},
        where=table.c.version < statement.excluded.version,
    ).returning(table.c[key[0]])


class StagedCopies:
    """The copies of one table staged in a session, written at its commit (or by `flush`)."""

    def __init__(self, table: sa.Table) -> None:
        self.table = table
        self.key = next(iter(table.primary_key.columns)).name
        self._info = f"assay.staged.{table.name}"
        sa.event.listen(Session, "before_commit", self._write_at_commit)
        sa.event.listen(Session, "after_rollback", self._drop)

    def stage(self, db: AsyncSession, row: dict[str, Any]) -> None:
        """Keep `row` if it is newer than what the transaction staged for its key."""
        pending: dict[Any, dict[str, Any]] = db.info.setdefault(self._info, {})
        staged = pending.get(row[self.key])
        if staged is None or staged["version"] < row["version"]:
            pending[row[self.key]] = row

    def take(self, db: AsyncSession) -> list[dict[str, Any]]:
        """The rows staged so far, now no longer staged (the caller writes them)."""
        return list((db.info.pop(self._info, None) or {}).values())

    async def flush(self, db: AsyncSession) -> set[Any]:
        """Write the rows staged so far in this transaction; the keys written."""
        return await save_versioned_rows(db, self.table, self.take(db))

    def _write_at_commit(self, session: Session) -> None:
        rows = session.info.pop(self._info, None)
        if rows:  # runs inside AsyncSession.commit's greenlet, like outbox's NOTIFY: the sync call awaits the driver
            columns = tuple(next(iter(rows.values())))
            session.execute(versioned_upsert(session.get_bind().dialect.name, self.table, columns), list(rows.values()))

    def _drop(self, session: Session) -> None:
        session.info.pop(self._info, None)
