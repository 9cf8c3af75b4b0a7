"""Who may do what in the incidents service: roles, and the dependencies routes declare."""

# No `from __future__ import annotations`: FastAPI must see the inner dependencies as objects.
from typing import Annotated

from fastapi import Depends

from libs.common.auth import Principal, require_role

ADMIN, ANALYST, FIELD_AGENT, AUDITOR = "admin", "analyst", "field_agent", "auditor"
INCIDENT_TEAM = "incident_team"  # the only role that reads a whistle-blower's identity and contact
PARTNER = "partner"  # a partner system's own token: it reports, it does not manage

# Staff (admin, analyst, incident team), field monitors and partner systems report.
Reporter = Annotated[Principal, Depends(require_role(ADMIN, ANALYST, INCIDENT_TEAM, FIELD_AGENT, PARTNER))]
Reader = Annotated[Principal, Depends(require_role(ADMIN, ANALYST, INCIDENT_TEAM, FIELD_AGENT, AUDITOR))]
# Triage, verification, mitigation and closing: staff of the incident team.
Manager = Annotated[Principal, Depends(require_role(ADMIN, ANALYST, INCIDENT_TEAM))]
IncidentTeam = Annotated[Principal, Depends(require_role(INCIDENT_TEAM))]
Admin = Annotated[Principal, Depends(require_role(ADMIN))]
