"""Bodies of the review workflow's actions and of the overdue-review list."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from libs.common.schemas import Page
from services.kyc.schemas.actors import ActorRead
from services.kyc.schemas.text import Reason


class Transition(BaseModel):
    """`version`, when sent, must be the actor's current one (409 stale_version otherwise)."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(None, ge=1, le=2**31 - 1)
    reason: Reason | None = None


class Decision(BaseModel):
    """Reject, suspend, reinstate: the reason is kept in the history and sent with the event."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(None, ge=1, le=2**31 - 1)
    reason: Reason


OverdueReviewPage = Page[ActorRead]
