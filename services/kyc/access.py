"""Who may do what in the KYC service: roles, and the dependencies routes declare."""

# No `from __future__ import annotations`: FastAPI must see require_writer's inner dependency as an object.
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends

from libs.common.auth import OrgKind, Principal, require_role
from libs.common.errors import Forbidden

ADMIN, ANALYST, FIELD_AGENT, AUDITOR = "admin", "analyst", "field_agent", "auditor"


def require_writer(*roles: str) -> Callable[..., Any]:
    """Dependency: one of `roles`, in an operator organisation (smelters, partners, auditors only read)."""
    has_role = require_role(*roles)

    async def check(principal: Annotated[Principal, Depends(has_role)]) -> Principal:
        if principal.org_kind is not OrgKind.OPERATOR:
            raise Forbidden("only operator organisations change the KYC register", code="operator_only")
        return principal

    return check


# Anyone with a KYC role reads (what their organisation owns or was shared).
Reader = Annotated[Principal, Depends(require_role(ADMIN, ANALYST, FIELD_AGENT, AUDITOR))]
# Field agents create and submit; auditors never write.
Creator = Annotated[Principal, Depends(require_writer(ADMIN, ANALYST, FIELD_AGENT))]
# Corrections and deletions of what was registered (field agents create and submit only).
Editor = Annotated[Principal, Depends(require_writer(ADMIN, ANALYST))]
# Review decisions: approve, reject, suspend, reinstate, hit decisions, inspections, risk table.
Reviewer = Annotated[Principal, Depends(require_writer(ADMIN, ANALYST))]
# Organisation administration: watchlist imports, sharing.
Admin = Annotated[Principal, Depends(require_writer(ADMIN))]
