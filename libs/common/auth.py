"""JWT bearer auth: who is calling, for which organisation, with which roles; validated alike by every service."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from libs.common.errors import Forbidden, Unauthorized
from libs.common.settings import ServiceSettings


class OrgKind(StrEnum):
    OPERATOR = "operator"
    SMELTER = "smelter"
    PARTNER = "partner"
    AUDITOR = "auditor"


@dataclass(frozen=True)
class Principal:
    user_id: str
    org_id: str
    org_kind: OrgKind
    roles: frozenset[str]

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


_bearer = HTTPBearer(auto_error=False, description="JWT with sub, org, org_kind and roles claims")


def decode_token(token: str, settings: ServiceSettings) -> Principal:
    try:
        claims = jwt.decode(token, settings.jwt_verification_key(), algorithms=[settings.jwt_algorithm],
                            issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                            options={"require": ["exp", "sub", "iss", "aud"]})
        return Principal(user_id=str(claims["sub"]), org_id=str(claims["org"]), org_kind=OrgKind(claims["org_kind"]),
                         roles=frozenset(str(r) for r in claims.get("roles", [])))
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
        raise Unauthorized(f"invalid token: {exc}", code="invalid_token") from exc


async def current_principal(request: Request,
                            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("a bearer token is required", code="missing_token")
    return decode_token(credentials.credentials, request.app.state.settings)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_role(*roles: str) -> Callable[..., Any]:
    """Dependency: the caller must hold one of `roles`; use as `Annotated[Principal, Depends(require_role(...))]`."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_any(*roles):
            raise Forbidden(f"this action needs one of the roles: {', '.join(roles)}", code="missing_role")
        return principal

    return check


def issue_token(settings: ServiceSettings, *, user_id: str, org_id: str, org_kind: str, roles: list[str],
                ttl: timedelta = timedelta(hours=12), signing_key: str | None = None) -> str:
    """For tests and `make token`; production tokens come from the operator's identity provider."""
    now = datetime.now(timezone.utc)
    claims = {"sub": user_id, "org": org_id, "org_kind": org_kind, "roles": roles, "iss": settings.jwt_issuer,
              "aud": settings.jwt_audience, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, signing_key or settings.jwt_verification_key(), algorithm=settings.jwt_algorithm)
