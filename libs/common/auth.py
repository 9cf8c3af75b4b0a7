"""JWT bearer auth: who is calling, for which organisation, with which roles; validated alike by every service."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from libs.common.errors import Forbidden, Unauthorized
from libs.common.settings import ServiceSettings

log = logging.getLogger("assay.auth")


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


# What a refused token is told, by kind: fixed words, never the library's message (which may quote the token's
# claims or our expectations). Subclasses first: InvalidSignatureError is a DecodeError, the rest InvalidTokenErrors.
_REFUSALS: list[tuple[type[Exception], str, str]] = [
    (jwt.ExpiredSignatureError, "expired", "the token has expired"),
    (jwt.ImmatureSignatureError, "not_yet_valid", "the token is not valid yet"),
    (jwt.InvalidAudienceError, "wrong_audience", "the token is meant for another audience"),
    (jwt.InvalidIssuerError, "wrong_issuer", "the token was issued by an issuer this service does not trust"),
    (jwt.InvalidSignatureError, "bad_signature", "the token's signature does not verify"),
    (jwt.InvalidAlgorithmError, "wrong_algorithm", "the token is signed with an algorithm this service refuses"),
    (jwt.MissingRequiredClaimError, "missing_claim", "the token lacks a required claim"),
    (jwt.DecodeError, "malformed", "the token is malformed"),
]
_BAD_CLAIMS = ("bad_claims", "the token's claims are missing or invalid")


def _refusal(exc: Exception) -> Unauthorized:
    reason, detail = next(((r, d) for kind, r, d in _REFUSALS if isinstance(exc, kind)), _BAD_CLAIMS)
    log.info("token refused", extra={"reason": reason, "error": f"{type(exc).__name__}: {exc}"[:300]})
    return Unauthorized(detail, code="invalid_token", reason=reason)


def _verify(token: str, settings: ServiceSettings) -> tuple[Principal, float]:
    """The caller the token names and when it expires (Unix time), or Unauthorized with a fixed, safe detail."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_verification_key(),
            algorithms=[settings.jwt_algorithm],
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
        principal = Principal(
            user_id=str(claims["sub"]),
            org_id=str(claims["org"]),
            org_kind=OrgKind(claims["org_kind"]),
            roles=frozenset(str(r) for r in claims.get("roles", [])),
        )
        return principal, float(claims["exp"])
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
        raise _refusal(exc) from exc


def decode_token(token: str, settings: ServiceSettings) -> Principal:
    return _verify(token, settings)[0]


class TokenCache:
    """Principals of tokens verified in the last `seconds`, by token string, so a client's every request does not
    check the same signature again. At most `size` tokens (least recently used leave first); an entry never
    outlives its token's `exp`. Only verified tokens enter; one event loop uses it, so it needs no lock."""

    def __init__(self, *, size: int, seconds: float) -> None:
        self.size, self.seconds = size, seconds
        self._entries: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def principal(self, token: str, settings: ServiceSettings) -> Principal:
        entry = self._entries.get(token)
        now = time.time()  # wall clock: `exp` is one
        if entry is not None and entry[0] > now:
            self._entries.move_to_end(token)
            return entry[1]
        principal, expires_at = _verify(token, settings)
        if self.size:
            self._entries[token] = (min(expires_at, now + self.seconds), principal)
            self._entries.move_to_end(token)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return principal


class _BearerPrincipal(HTTPBearer):
    """The caller of a request, from its bearer token. One dependency that is also the OpenAPI security scheme:
    FastAPI resolves every level of a dependency tree on every request, and this one is on nearly every route."""

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]  # a Principal, not credentials
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("a bearer token is required", code="missing_token")
        state = request.app.state
        tokens: TokenCache | None = getattr(state, "tokens", None)
        if tokens is None:
            return decode_token(token.strip(), state.settings)
        return tokens.principal(token.strip(), state.settings)


current_principal = _BearerPrincipal(
    auto_error=False, scheme_name="HTTPBearer", description="JWT with sub, org, org_kind and roles claims"
)
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_role(*roles: str) -> Callable[..., Any]:
    """Dependency: the caller must hold one of `roles`; use as `Annotated[Principal, Depends(require_role(...))]`."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_any(*roles):
            raise Forbidden(f"this action needs one of the roles: {', '.join(roles)}", code="missing_role")
        return principal

    return check


def issue_token(
    settings: ServiceSettings,
    *,
    user_id: str,
    org_id: str,
    org_kind: str,
    roles: list[str],
    ttl: timedelta = timedelta(hours=12),
    signing_key: str | None = None,
) -> str:
    """For tests and `make token`; production tokens come from the operator's identity provider."""
    now = datetime.now(UTC)
    claims = {
        "sub": user_id,
        "org": org_id,
        "org_kind": org_kind,
        "roles": roles,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, signing_key or settings.jwt_verification_key(), algorithm=settings.jwt_algorithm)
