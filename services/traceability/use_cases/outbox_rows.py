"""Outbox rows of the custody writes: added to the session one by one, or, in a batch, staged and written at once."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import outbox, telemetry
from libs.common.db import copy_rows, utcnow
from libs.common.events.base import Event, new_event_id

_STAGED = "traceability.outbox.staged"


def stage_outbox(db: AsyncSession) -> list[dict[str, Any]]:
    """From now on in this session, `stage` keeps outbox rows in the returned list instead of adding them to the
    session (an ORM insert at each flush); `write_staged` writes them all at once, by COPY, in the order staged
    (the outbox's id order, which the relay keeps per key). The caller drops a rolled-back savepoint's rows."""
    staged: list[dict[str, Any]] = []
    db.info[_STAGED] = staged
    return staged


def stage(db: AsyncSession, event: Event, *, key: UUID | str) -> None:
    """`outbox.add`, or, in a session that stages (`stage_outbox`), the same row kept for `write_staged`."""
    staged: list[dict[str, Any]] | None = db.info.get(_STAGED)
    if staged is None:
        outbox.add(db, event, key=key)
        return
    key = str(key)
    staged.append(
        {"event_id": new_event_id(), "topic": event.topic, "key": key, "event_type": event.event_type(),
         "payload": event.model_dump_json(), "bucket": outbox.bucket_of(key), "occurred_at": utcnow(),
         "traceparent": telemetry.current_traceparent()}
    )  # fmt: skip


async def write_staged(db: AsyncSession) -> None:
    staged: list[dict[str, Any]] = db.info.pop(_STAGED, None) or []
    if staged:
        await copy_rows(db, outbox.Outbox, staged)
        db.info[outbox._WAKE] = True  # as outbox.add does: the relay is woken at commit
