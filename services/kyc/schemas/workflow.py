"""Bodies of the review workflow's actions and of the overdue-review list."""

from __future__ import annotations

from pydantic import Field

from libs.common.schemas import Page, RequestBody
from services.kyc.schemas.actors import ActorRead
from services.kyc.schemas.text import Reason


class Transition(RequestBody):
    """`version` (or an If-Match header) is the actor's version last read: 428 without either, 409 stale_version when
    the actor moved since."""

    version: int | None = Field(None, ge=1, le=2**31 - 1)
    reason: Reason | None = None


class Decision(RequestBody):
    """Reject, suspend, reinstate: the reason is kept in the history and sent with the event."""

    version: int | None = Field(None, ge=1, le=2**31 - 1)
    reason: Reason


OverdueReviewPage = Page[ActorRead]
