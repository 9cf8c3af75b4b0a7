"""Refuse a request on its headers, before its body is read: a missing or invalid token (401), a role that may not
send it (403), a Content-Length over the route's limit (413); and stop a streamed (chunked) body at the limit.

FastAPI reads and parses a route's body (a multipart upload is spooled to temporary files) before it resolves the
route's dependencies, so the bearer check of `CurrentPrincipal` ran only once every byte had arrived: 300 MB without a
token were read, then refused. `GatedBody`, the `receive` that service.PlatformMiddleware (pure ASGI) hands a request
with a body, steps in when the route, already matched by the router, first asks for the body: it runs the route's
dependencies that only need the caller's token (libs.common.auth's own verification, unchanged, and the role checks
built on it) and compares the declared length with the route's limit; a refusal is raised from `receive`, which FastAPI
hands to the error handlers as it is (an HTTPException), so the answer is the usual problem+json.
Requests that carry no body pass untouched."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from starlette.types import Message, Receive, Scope

from libs.common.auth import BearerPrincipal
from libs.common.errors import AppError, TooLarge
from libs.common.http import Refusal

# What a multipart body adds around its file (boundaries, part headers, the other fields).
FORM_ENVELOPE_BYTES = 64 * 1024


class BodyLimit:
    """A route's own body limit, from the service's settings: `dependencies=[gate.body_limit(lambda s: s.x)]`.
    The gate reads it; as a dependency it does nothing."""

    def __init__(self, limit: Callable[[Any], int]) -> None:
        self.limit = limit

    async def __call__(self) -> None:
        return None


def body_limit(limit: Callable[[Any], int]) -> Any:
    """The route's body may be `limit(settings)` bytes plus a multipart envelope (default: MAX_REQUEST_BYTES)."""
    return Depends(BodyLimit(limit))


@dataclass(frozen=True)
class _Plan:
    checks: list[Dependant]  # the route's dependencies that need only the caller's token
    limit: BodyLimit | None


class RequestGate:
    """The per-route plans: which dependencies need only the token, and the route's body limit."""

    def __init__(self) -> None:
        self._plans: dict[int, _Plan] = {}

    def plan(self, route: Any) -> _Plan:
        plan = self._plans.get(id(route))
        if plan is None:
            dependant: Dependant | None = getattr(route, "dependant", None)
            subs = dependant.dependencies if dependant is not None else []
            checks = [d for d in subs if _needs_token(d) and _header_only(d)]
            limits = [d.call for d in _walk(subs) if isinstance(d.call, BodyLimit)]
            plan = self._plans[id(route)] = _Plan(checks=checks, limit=limits[0] if limits else None)
        return plan


class GatedBody:
    """The `receive` of one request with a body: the checks before the first read, the byte count after."""

    def __init__(self, gate: RequestGate, scope: Scope, receive: Receive) -> None:
        self.gate, self.scope, self._receive = gate, scope, receive
        self.limit: int | None = None
        self.received = 0

    async def __call__(self) -> Message:
        if self.limit is None:
            self.limit = await self._checked()
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                raise _too_large(self.limit)
        return message

    async def _checked(self) -> int:
        """401/403 from the route's token checks, then 413 from the declared length; the limit to count against."""
        app = self.scope.get("app")
        settings = getattr(getattr(app, "state", None), "settings", None)
        route = self.scope.get("route")
        plan = self.gate.plan(route) if route is not None else _Plan(checks=[], limit=None)
        request = Request(self.scope, receive=_no_body)
        try:
            await _resolve_all(plan.checks, request)
        except AppError as exc:
            raise Refusal(exc) from exc
        limit = _limit(plan, settings)
        declared = _content_length(self.scope)
        if declared is not None and declared > limit:
            raise _too_large(limit, declared=declared)
        return limit


def _limit(plan: _Plan, settings: Any) -> int:
    default = int(getattr(settings, "max_request_bytes", 10 * 1024 * 1024))
    if plan.limit is None or settings is None:
        return default
    return int(plan.limit.limit(settings)) + FORM_ENVELOPE_BYTES


def _too_large(limit: int, *, declared: int | None = None) -> Refusal:
    said = f"{declared} bytes" if declared is not None else "more bytes than that"
    return Refusal(
        TooLarge(f"the request body may have {limit} bytes; it has {said}", code="body_too_large", limit=limit)
    )


async def _no_body() -> Message:
    raise RuntimeError("a token check must not read the request body")


def _has_body(scope: Scope) -> bool:
    headers = dict(scope.get("headers") or [])
    if b"transfer-encoding" in headers:
        return True
    length = _content_length(scope)
    return length is not None and length > 0


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _walk(dependants: list[Dependant]) -> list[Dependant]:
    found = []
    for dependant in dependants:
        found += [dependant, *_walk(dependant.dependencies)]
    return found


def _needs_token(dependant: Dependant) -> bool:
    return isinstance(dependant.call, BearerPrincipal) or any(_needs_token(d) for d in dependant.dependencies)


def _header_only(dependant: Dependant) -> bool:
    """A dependency that needs nothing but the request's headers and other such dependencies, and is a plain
    coroutine (no yield: nothing to clean up), so it can run before the body is read."""
    if (
        any((dependant.path_params, dependant.query_params, dependant.header_params, dependant.cookie_params))
        or any((dependant.body_params, dependant.websocket_param_name, dependant.response_param_name))
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
    ):
        return False
    call = dependant.call
    target = call if inspect.isfunction(call) else getattr(call, "__call__", None)  # noqa: B004
    if target is None or not inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target):
        return False
    return all(_header_only(d) for d in dependant.dependencies)


async def _resolve_all(dependants: list[Dependant], request: Request) -> None:
    cache: dict[int, Any] = {}
    for dependant in dependants:
        await _resolve(dependant, request, cache)


async def _resolve(dependant: Dependant, request: Request, cache: dict[int, Any]) -> Any:
    key = id(dependant.call)
    if key in cache:
        return cache[key]
    kwargs: dict[str, Any] = {}
    for sub in dependant.dependencies:
        assert sub.name is not None
        kwargs[sub.name] = await _resolve(sub, request, cache)
    for name in (dependant.request_param_name, dependant.http_connection_param_name):
        if name:
            kwargs[name] = request
    call: Callable[..., Awaitable[Any]] = dependant.call  # type: ignore[assignment]
    cache[key] = value = await call(**kwargs)
    return value
