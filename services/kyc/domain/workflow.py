"""The KYC status of an actor and the moves between statuses, with the four-eyes rule of approval.

draft → submitted (submit) → under_review (start_review) → approved (approve) | rejected (reject)
approved → suspended (suspend) → approved (reinstate);  rejected → draft (reopen)
approved → approved (complete_review: the periodic review, same checks as approval)
"""

from __future__ import annotations

from enum import StrEnum

from libs.common.errors import Conflict, Forbidden


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


MOVES: dict[str, tuple[frozenset[Status], Status]] = {
    "submit": (frozenset({Status.DRAFT}), Status.SUBMITTED),
    "start_review": (frozenset({Status.SUBMITTED}), Status.UNDER_REVIEW),
    "approve": (frozenset({Status.UNDER_REVIEW}), Status.APPROVED),
    "reject": (frozenset({Status.UNDER_REVIEW}), Status.REJECTED),
    "suspend": (frozenset({Status.APPROVED}), Status.SUSPENDED),
    "reinstate": (frozenset({Status.SUSPENDED}), Status.APPROVED),
    "reopen": (frozenset({Status.REJECTED}), Status.DRAFT),
    "complete_review": (frozenset({Status.APPROVED}), Status.APPROVED),
}
# While a reviewer looks at a file it stays as submitted; a rejected file is reopened before it changes.
EDITABLE = frozenset({Status.DRAFT, Status.APPROVED, Status.SUSPENDED})
# Actors whose review date runs (approved ones, and suspended ones: suspension does not replace a review).
REVIEWED = frozenset({Status.APPROVED, Status.SUSPENDED})


def next_status(current: str, action: str) -> Status:
    allowed, target = MOVES[action]
    if Status(current) not in allowed:
        raise Conflict(
            f"cannot {action.replace('_', ' ')} an actor that is {current}",
            code="invalid_transition",
            kyc_status=current,
            action=action,
        )
    return target


def check_four_eyes(*, submitted_by: str | None, decided_by: str) -> None:
    """The person who submitted a file never approves it."""
    if submitted_by is not None and submitted_by == decided_by:
        raise Forbidden("four eyes: the approver must be someone other than the submitter", code="four_eyes")


def check_editable(current: str) -> None:
    if Status(current) not in EDITABLE:
        raise Conflict(
            f"the actor is {current}; its file cannot change now"
            + (" (reopen it first)" if current == Status.REJECTED else " (it is being reviewed)"),
            code="actor_locked",
            kyc_status=current,
        )
