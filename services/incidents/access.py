"""Who may do what in the incidents service: roles, and the dependencies routes declare."""

# No `from __future__ import annotations`: FastAPI must see the inner dependencies as objects.
from typing import Annotated

from fastapi import Depends

from libs.common.auth import OrgKind, Principal, require_role
from libs.common.errors import Forbidden

ADMIN, ANALYST, FIELD_AGENT, AUDITOR = "admin", "analyst", "field_agent", "auditor"
INCIDENT_TEAM = "incident_team"  # the only role that reads a whistle-blower's identity and contact
PARTNER = "partner"  # a partner system's own token: it reports, it does not manage

# Staff (admin, analyst, incident team), field monitors and partner systems report.
Reporter = Annotated[Principal, Depends(require_role(ADMIN, ANALYST, INCIDENT_TEAM, FIELD_AGENT, PARTNER))]
Reader = Annotated[Principal, Depends(require_role(ADMIN, ANALYST, INCIDENT_TEAM, FIELD_AGENT, AUDITOR))]
_StaffRoles = Annotated[Principal, Depends(require_role(ADMIN, ANALYST, INCIDENT_TEAM))]


async def _operator_staff(principal: _StaffRoles) -> Principal:
    """A partner system reports into the programme and receives its incidents; it never manages them, whatever
    roles its token carries (a partner's "analyst" is its own analyst, not the operator's)."""
    if principal.org_kind is OrgKind.PARTNER:
        raise Forbidden("a partner system reports incidents; managing them is the operator's", code="operator_only")
    return principal


# Triage, verification, mitigation and closing: staff of the operator's incident team, never a partner system.
Manager = Annotated[Principal, Depends(_operator_staff)]
IncidentTeam = Annotated[Principal, Depends(require_role(INCIDENT_TEAM))]
Admin = Annotated[Principal, Depends(require_role(ADMIN))]
