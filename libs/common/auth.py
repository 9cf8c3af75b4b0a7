"""JWT bearer auth: who is calling, for which organisation, with which roles; validated alike by every service."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from libs.common import oidc
from libs.common.errors import AppError, Forbidden, Unauthorized
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
    actor_id: str | None = None  # a smelter's actor in the programme (JWT_CLAIM_ACTOR_ID); None when absent

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


class Role(StrEnum):
    """The roles the services check (`require_role`); a token's other roles (an IdP's defaults) are ignored."""

    ADMIN = "admin"
    ANALYST = "analyst"
    FIELD_AGENT = "field_agent"
    AUDITOR = "auditor"


class IdentityUnavailable(AppError):
    """The identity provider's keys are not loaded yet: no token can be checked, so none is refused either."""

    status, code, title = 503, "identity_provider_unavailable", "Service unavailable"


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
    (oidc.UnknownKey, "unknown_key", "the token is signed with a key the identity provider does not publish"),
    (jwt.PyJWKError, "unusable_key", "the token's key does not fit its algorithm"),
    (jwt.InvalidKeyError, "unusable_key", "the token's key does not fit its algorithm"),
    (jwt.DecodeError, "malformed", "the token is malformed"),
]
_BAD_CLAIMS = ("bad_claims", "the token's claims are missing or invalid")


def _refusal(exc: Exception) -> Unauthorized:
    reason, detail = next(((r, d) for kind, r, d in _REFUSALS if isinstance(exc, kind)), _BAD_CLAIMS)
    log.info("token refused", extra={"reason": reason, "error": f"{type(exc).__name__}: {exc}"[:300]})
    return Unauthorized(detail, code="invalid_token", reason=reason)


# --- claims -> Principal ---------------------------------------------------------------------------------------

_MISSING: Any = object()
_CLAIM_WORDS = {
    "user": "user",
    "org": "organisation",
    "org_kind": "organisation kind",
    "roles": "roles",
    "actor_id": "actor id",
}


@dataclass(frozen=True)
class ClaimPaths:
    """Where each part of the caller is in the claims (JWT_CLAIM_*): dotted paths such as realm_access.roles."""

    user: str = "sub"
    org: str = "org"
    org_kind: str = "org_kind"
    roles: str = "roles"
    actor_id: str = "actor_id"

    @classmethod
    def of(cls, settings: ServiceSettings) -> ClaimPaths:
        return cls(
            settings.jwt_claim_user,
            settings.jwt_claim_org,
            settings.jwt_claim_org_kind,
            settings.jwt_claim_roles,
            settings.jwt_claim_actor_id,
        )


def claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """The value at `path`: the longest run of dotted parts that is a key at each level, so a namespaced claim
    (`https://example.com/roles`) is found whole and `realm_access.roles` is found nested; _MISSING when absent."""
    if path in claims:
        return claims[path]
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:cut])
        inner = claims.get(head)
        if isinstance(inner, Mapping):
            return claim_at(inner, ".".join(parts[cut:]))
    return _MISSING


class _ClaimRefused(Exception):
    def __init__(self, claim: str, reason: str) -> None:
        super().__init__(f"{claim}: {reason}")
        self.claim, self.reason = claim, reason

    def unauthorized(self) -> Unauthorized:
        words = _CLAIM_WORDS[self.claim]
        detail = (
            f"the token has no {words} claim"
            if self.reason == "missing_claim"
            else f"the token's {words} claim is invalid"
        )
        log.info("token refused", extra={"reason": self.reason, "claim": self.claim})
        return Unauthorized(detail, code="invalid_token", reason=self.reason, claim=self.claim)


def _text(claims: Mapping[str, Any], name: str, path: str) -> str:
    value = claim_at(claims, path)
    if value is _MISSING or value is None:
        raise _ClaimRefused(name, "missing_claim")
    if not isinstance(value, str) or not value.strip():  # a list, a number, "": never an id (no org "None")
        raise _ClaimRefused(name, "bad_claims")
    return value.strip()


def _roles(claims: Mapping[str, Any], path: str) -> frozenset[str]:
    value = claim_at(claims, path)
    if value is _MISSING or value is None:
        raise _ClaimRefused("roles", "missing_claim")
    if isinstance(value, str):  # "admin analyst" or "admin,analyst", as some providers send scopes
        return frozenset(value.replace(",", " ").split())
    if not isinstance(value, list) or not all(isinstance(role, str) for role in value):
        raise _ClaimRefused("roles", "bad_claims")
    return frozenset(value)


def _optional_text(claims: Mapping[str, Any], name: str, path: str) -> str | None:
    if claim_at(claims, path) in (_MISSING, None):
        return None
    return _text(claims, name, path)


# Organisation ids the platform keeps for itself (KYC's shipped risk table is `assay:default`): no caller is one.
RESERVED_ORG_PREFIX = "assay:"


def principal_from(claims: Mapping[str, Any], paths: ClaimPaths = ClaimPaths()) -> Principal:
    """The caller the claims name, or Unauthorized saying which part is missing or invalid."""
    try:
        kind = _text(claims, "org_kind", paths.org_kind)
        if kind not in OrgKind.__members__.values():
            raise _ClaimRefused("org_kind", "bad_claims")
        org_id = _text(claims, "org", paths.org)
        if org_id.startswith(RESERVED_ORG_PREFIX):
            raise _ClaimRefused("org", "bad_claims")
        return Principal(
            user_id=_text(claims, "user", paths.user),
            org_id=org_id,
            org_kind=OrgKind(kind),
            roles=_roles(claims, paths.roles),
            actor_id=_optional_text(claims, "actor_id", paths.actor_id),
        )
    except _ClaimRefused as refused:
        raise refused.unauthorized() from None


# --- verification ------------------------------------------------------------------------------------------------


class TokenVerifier:
    """Checks bearer tokens against a shared secret, a public key or an OIDC issuer's JWKS (libs/common/oidc.py),
    and remembers the principals of tokens verified in the last `cache_seconds`, by token string, so a client's
    every request does not check the same signature again: at most `cache_size` tokens (least recently used leave
    first), an entry never outlives its token's `exp` nor the issuer's withdrawal of the key that signed it. Only
    verified tokens enter; one event loop uses it, so it needs no lock."""

    def __init__(self, settings: ServiceSettings, *, cache_size: int | None = None, cache_seconds: float | None = None):
        self.settings = settings
        self.size = settings.token_cache_size if cache_size is None else cache_size
        self.seconds = settings.token_cache_seconds if cache_seconds is None else cache_seconds
        self.paths = ClaimPaths.of(settings)
        self.algorithms = settings.accepted_algorithms()
        self.audience = settings.accepted_audiences() or None
        self.keys = oidc.IssuerKeys(settings) if settings.uses_issuer else None
        self.static_key = "" if self.keys else (settings.jwt_public_key or settings.jwt_signing_secret())
        issuer = settings.oidc_issuer or settings.jwt_issuer
        self.issuer = [issuer.rstrip("/"), issuer.rstrip("/") + "/"]  # Auth0's issuer ends in a slash
        self.required = ["exp", "iss", *(["aud"] if self.audience else [])]
        self._entries: OrderedDict[str, tuple[float, Principal, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def start(self) -> None:
        if self.keys is not None:
            await self.keys.start()

    async def close(self) -> None:
        if self.keys is not None:
            await self.keys.close()

    async def principal(self, token: str) -> Principal:
        entry = self._entries.get(token)
        now = time.time()  # wall clock: `exp` is one
        generation = self.keys.generation if self.keys else 0
        if entry is not None and entry[0] > now and entry[2] == generation:
            self._entries.move_to_end(token)
            return entry[1]
        principal, expires_at = await self.verify(token)
        if self.size:
            self._entries[token] = (min(expires_at, now + self.seconds), principal, generation)
            self._entries.move_to_end(token)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return principal

    async def verify(self, token: str) -> tuple[Principal, float]:
        """The caller the token names and when it expires (Unix time); Unauthorized with a fixed, safe detail, or
        IdentityUnavailable while the issuer's keys have never loaded."""
        try:
            claims = jwt.decode(
                token,
                await self._key_for(token),
                algorithms=self.algorithms,
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.settings.jwt_leeway_seconds,
                options={"require": self.required, "verify_aud": self.audience is not None},
            )
        except oidc.IssuerUnavailable as exc:
            raise IdentityUnavailable(
                "the identity provider cannot be reached yet; try again shortly", retry_after_seconds=5
            ) from exc
        except (jwt.PyJWTError, oidc.UnknownKey, KeyError, ValueError, TypeError) as exc:
            raise _refusal(exc) from exc
        return principal_from(claims, self.paths), float(claims["exp"])

    async def _key_for(self, token: str) -> jwt.PyJWK | str:
        if self.keys is None:
            return self.static_key
        header = jwt.get_unverified_header(token)  # DecodeError: malformed, before any key is fetched
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in self.algorithms:
            raise jwt.InvalidAlgorithmError("algorithm not accepted")
        if kid is not None and not isinstance(kid, str):
            raise jwt.DecodeError("kid is not a string")
        return await self.keys.signing_key(kid, algorithm)


class _BearerPrincipal(HTTPBearer):
    """The caller of a request, from its bearer token. One dependency that is also the OpenAPI security scheme:
    FastAPI resolves every level of a dependency tree on every request, and this one is on nearly every route."""

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]  # a Principal, not credentials
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("a bearer token is required", code="missing_token")
        state = request.app.state
        tokens: TokenVerifier | None = getattr(state, "tokens", None)
        if tokens is None:  # an app not built by service.create_app
            tokens = state.tokens = TokenVerifier(state.settings)
        return await tokens.principal(token.strip())


_SCHEME_DESCRIPTION = "JWT naming the user, organisation, organisation kind and roles (claims: JWT_CLAIM_* settings)"
current_principal = _BearerPrincipal(auto_error=False, scheme_name="HTTPBearer", description=_SCHEME_DESCRIPTION)
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
BearerPrincipal = _BearerPrincipal  # what reads the caller from the token (the gate looks for it)


class _RoleCheck(_BearerPrincipal):
    """The caller, who must hold one of `roles`: the bearer check and the role check as one dependency (the same
    security scheme in the OpenAPI document), since every level of a route's dependency tree is solved on every
    request."""

    def __init__(self, roles: tuple[str, ...]) -> None:
        super().__init__(auto_error=False, scheme_name="HTTPBearer", description=_SCHEME_DESCRIPTION)
        self.roles = roles

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]  # a Principal, not credentials
        principal = await super().__call__(request)
        if not principal.has_any(*self.roles):
            raise Forbidden(f"this action needs one of the roles: {', '.join(self.roles)}", code="missing_role")
        return principal


def require_role(*roles: str) -> Callable[..., Any]:
    """Dependency: the caller must hold one of `roles`; use as `Annotated[Principal, Depends(require_role(...))]`."""
    return _RoleCheck(roles)


def issue_token(
    settings: ServiceSettings,
    *,
    user_id: str,
    org_id: str,
    org_kind: str,
    roles: list[str],
    ttl: timedelta = timedelta(hours=12),
    signing_key: str | None = None,
    actor_id: str | None = None,
) -> str:
    """For tests and `make token` (HS256, this checkout's secret, the default claim names); production tokens come
    from the operator's identity provider."""
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
    if actor_id is not None:
        claims["actor_id"] = actor_id
    return jwt.encode(claims, signing_key or settings.jwt_signing_secret(), algorithm="HS256")
