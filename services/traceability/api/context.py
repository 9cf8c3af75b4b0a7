"""What custody routes need besides the caller and the transaction: a session factory for anomalies kept apart."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def _sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    return request.app.state.sessions


# An anomaly behind a refusal is written in a transaction of its own, which the refused request's rollback keeps.
Sessions = Annotated[async_sessionmaker[AsyncSession], Depends(_sessions)]
