"""What a service's transactions staged for the bus: its outbox rows, in the order they were written."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa

from libs.common.tables import OutboxMessageRow


async def outbox_rows(stack: Any, event_type: str | None = None, *, service: str = "kyc") -> list[OutboxMessageRow]:
    """Rows in outbox order; `event_type` with or without its version (`ActorApproved` means `ActorApproved.v1`)."""
    query = sa.select(OutboxMessageRow).order_by(OutboxMessageRow.id)
    if event_type:
        query = query.where(OutboxMessageRow.event_type == (event_type if "." in event_type else f"{event_type}.v1"))
    async with stack.sessions(service)() as db:
        return list((await db.execute(query)).scalars())


async def outbox_types(stack: Any, *, key: str | UUID | None = None, service: str = "kyc") -> list[str]:
    """Event types (`ActorRegistered.v1`) in outbox order, of one key when given."""
    return [r.event_type for r in await outbox_rows(stack, service=service) if key is None or r.key == str(key)]
