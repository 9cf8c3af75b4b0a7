"""Who may do what in the scoring service."""

# No `from __future__ import annotations`: FastAPI must see the inner dependency as an object.
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends

from libs.common.auth import OrgKind, Principal, require_role
from libs.common.errors import Forbidden

ADMIN, ANALYST, FIELD_AGENT, AUDITOR = "admin", "analyst", "field_agent", "auditor"


def require_writer(*roles: str) -> Callable[..., Any]:
    has_role = require_role(*roles)

    async def check(principal: Annotated[Principal, Depends(has_role)]) -> Principal:
        if principal.org_kind is not OrgKind.OPERATOR:
            raise Forbidden("only operator organisations record assessments", code="operator_only")
        return principal

    return check


Reader = Annotated[Principal, Depends(require_role(ADMIN, ANALYST, FIELD_AGENT, AUDITOR))]
Assessor = Annotated[Principal, Depends(require_writer(ADMIN, ANALYST, FIELD_AGENT))]
Reviewer = Annotated[Principal, Depends(require_writer(ADMIN, ANALYST))]
Admin = Annotated[Principal, Depends(require_writer(ADMIN))]
