"""Steps the incidents tests share: reports, outbox contents."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from libs.common.tables import OutboxMessageRow


def report_body(**overrides: Any) -> dict[str, Any]:
    return {
        "category": "annex2.forced_labour",
        "title": "Forced labour at the Kalimbi pits",
        "summary": "Diggers held against their will",
        "country": "CD",
        "region": "CD-SK",
        "mineral": "tin",
        "occurred_on": "2026-11-20",
        "place": "Nyabibwe",
        **overrides,
    }


async def outbox(stack: Any) -> list[Any]:
    table = OutboxMessageRow.__table__
    async with stack.engine("incidents").connect() as conn:
        return list((await conn.execute(sa.select(table).order_by(table.c.id))).all())


async def outbox_types(stack: Any) -> list[str]:
    return [row.event_type for row in await outbox(stack)]
