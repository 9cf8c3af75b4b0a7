"""An OpenID Connect issuer's signing keys: discovery, the JWKS fetched off the request path, kept fresh, rotated.

Keys are read at start-up (a service whose issuer is unreachable still starts; protected routes answer 503 until
the keys load), again every `oidc_jwks_refresh_seconds`, and when a token names a key we do not know, at most once
per `oidc_jwks_min_refresh_seconds` however many such tokens arrive. A failed re-read keeps the keys we had."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

import httpx
import jwt

from libs.common.settings import ServiceSettings

log = logging.getLogger("assay.oidc")
RETRY_FIRST_SECONDS = 1.0


class IssuerUnavailable(Exception):
    """The issuer's discovery document or keys could not be read (and none were read before)."""


class UnknownKey(Exception):
    """The token names a key the issuer does not publish (after a re-read, where one was allowed)."""


class IssuerKeys:
    """The JWKS of `settings.oidc_issuer` (or `settings.oidc_jwks_url`), by key id. One event loop uses it."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.issuer = settings.oidc_issuer.rstrip("/") if settings.oidc_issuer else ""
        self.jwks_url = settings.oidc_jwks_url
        self.keys: dict[str, dict[str, Any]] | None = None  # None: never loaded
        self.generation = 0  # moves when a key is withdrawn: tokens verified with it must be verified again
        self._parsed: dict[tuple[str, str], jwt.PyJWK] = {}
        self._loaded_at = 0.0
        self._attempted_at = float("-inf")
        self._lock: asyncio.Lock | None = None
        self._refreshing: asyncio.Task[bool] | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._unreachable_logged = False

    @property
    def loaded(self) -> bool:
        return self.keys is not None

    async def signing_key(self, kid: str | None, algorithm: str) -> jwt.PyJWK:
        """The key that must have signed a token with header `kid` and `alg`. Raises IssuerUnavailable, UnknownKey."""
        if self.keys is None:
            await self.refresh(min_interval=self.settings.oidc_jwks_min_refresh_seconds)
            if self.keys is None:
                raise IssuerUnavailable("the identity provider's keys are not loaded yet")
        elif time.monotonic() - self._loaded_at > self.settings.oidc_jwks_refresh_seconds:
            self._refresh_in_background()
        jwk = self._find(kid)
        if jwk is None and await self.refresh(min_interval=self.settings.oidc_jwks_min_refresh_seconds):
            jwk = self._find(kid)
        if jwk is None:
            raise UnknownKey(kid)
        return self._parsed_key(jwk, algorithm)

    def _find(self, kid: str | None) -> dict[str, Any] | None:
        keys = self.keys or {}
        if kid is None:  # a token without kid is accepted only where the issuer has one key
            return next(iter(keys.values())) if len(keys) == 1 else None
        return keys.get(kid)

    def _parsed_key(self, jwk: Mapping[str, Any], algorithm: str) -> jwt.PyJWK:
        # A JWK without "alg" serves any algorithm of its type; PyJWT then refuses one of the wrong type.
        alg = str(jwk.get("alg") or algorithm)
        cache_key = (str(jwk.get("kid", "")), alg)
        parsed = self._parsed.get(cache_key)
        if parsed is None:
            parsed = self._parsed[cache_key] = jwt.PyJWK(dict(jwk), algorithm=alg)
        return parsed

    async def refresh(self, *, min_interval: float = 0.0) -> bool:
        """Read the keys again unless the last attempt is younger than `min_interval`; True when they were read.
        Concurrent callers wait for the one read in flight instead of starting their own."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        attempted = self._attempted_at
        async with self._lock:
            if self._attempted_at != attempted:  # another caller read (or tried) while we waited
                return self.keys is not None and self._attempted_at == self._loaded_at
            if time.monotonic() - self._attempted_at < min_interval:
                return False
            self._attempted_at = time.monotonic()
            try:
                keys = await self._fetch()
            except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                self._log_unreachable(exc)
                return False
            self._install(keys)
            self._loaded_at = self._attempted_at
            return True

    def _install(self, keys: dict[str, dict[str, Any]]) -> None:
        before = set(self.keys) if self.keys is not None else None
        withdrawn = (before or set()) - set(keys)
        if withdrawn:
            self.generation += 1
            self._parsed = {k: v for k, v in self._parsed.items() if k[0] not in withdrawn}
        self.keys = keys
        if before is None or self._unreachable_logged:
            log.info("identity provider keys loaded", extra={"issuer": self._name(), "kids": sorted(keys)})
        elif before != set(keys):
            log.info("identity provider keys rotated", extra={"kids": sorted(keys), "withdrawn": sorted(withdrawn)})
        self._unreachable_logged = False

    def _log_unreachable(self, exc: BaseException) -> None:
        extra = {"issuer": self._name(), "error": f"{type(exc).__name__}: {exc}"[:300]}
        if self.keys is None:
            if not self._unreachable_logged:
                log.error("identity provider unreachable: protected routes answer 503 until its keys load", extra=extra)
            self._unreachable_logged = True
        else:
            log.warning("identity provider keys could not be re-read; keeping the ones loaded", extra=extra)

    def _name(self) -> str:
        return self.issuer or self.jwks_url

    async def _fetch(self) -> dict[str, dict[str, Any]]:
        async with httpx.AsyncClient(timeout=self.settings.oidc_timeout_seconds, follow_redirects=False) as http:
            jwks_url = self.jwks_url
            if not jwks_url:
                discovery = await _json(http, self.issuer + "/.well-known/openid-configuration")
                if str(discovery["issuer"]).rstrip("/") != self.issuer:
                    raise ValueError(f"the discovery document names another issuer: {discovery['issuer']!r}")
                jwks_url = str(discovery["jwks_uri"])
            document = await _json(http, jwks_url)
        keys = {
            str(key["kid"]): key
            for key in document["keys"]
            if isinstance(key, dict) and key.get("use", "sig") == "sig" and "kid" in key
        }
        if not keys:
            raise ValueError("the JWKS holds no signing key with a kid")
        return keys

    def _refresh_in_background(self) -> None:
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.get_running_loop().create_task(self.refresh())

    async def start(self) -> None:
        """At start-up: one read now (a failure is logged, the service starts anyway), then a task keeps the keys
        loaded: retried with backoff while they never loaded, re-read every refresh interval after that."""
        await self.refresh()
        self._keeper = asyncio.get_running_loop().create_task(self._keep_loaded())

    async def _keep_loaded(self) -> None:
        retry = RETRY_FIRST_SECONDS
        while True:
            if self.keys is None:
                await asyncio.sleep(retry)
                retry = min(retry * 2, max(RETRY_FIRST_SECONDS, self.settings.oidc_jwks_min_refresh_seconds))
            else:
                await asyncio.sleep(self.settings.oidc_jwks_refresh_seconds)
            await self.refresh()

    async def close(self) -> None:
        for task in (self._keeper, self._refreshing):
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in (self._keeper, self._refreshing) if t is not None), return_exceptions=True)


async def _json(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    response = await http.get(url, headers={"accept": "application/json"})
    response.raise_for_status()
    body = response.json()
    if not isinstance(body, dict):
        raise ValueError(f"{url} did not answer a JSON object")
    return body
