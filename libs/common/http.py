"""RFC 9457 problem+json for every error a service answers, with stable codes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import MetaData
from sqlalchemy import exc as sa_exc
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from libs.common.errors import AppError, unique_violation

log = logging.getLogger("assay.http")
PROBLEM_BASE = "https://assay.dev/problems/"
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    428: "precondition_required",
    429: "too_many_requests",
}


class Refusal(StarletteHTTPException):
    """An AppError raised where only an HTTPException reaches the error handlers unchanged: from a request's
    `receive`, while FastAPI reads the body (libs/common/gate.py). The body is left unread, so the connection
    closes after the answer."""

    def __init__(self, error: AppError) -> None:
        super().__init__(status_code=error.status, detail=error.detail, headers={"Connection": "close"})
        self.error = error


class Problem(BaseModel):
    """RFC 9457 problem details; `code` is stable and meant for programs, `detail` for people."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    code: str
    errors: list[dict[str, Any]] | None = None


def _problem_response(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description, "content": {"application/problem+json": {}}}


# Declared on every route, so the OpenAPI document tells clients what the error handlers really send.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem_response("Bad request"),
    401: _problem_response("Missing or invalid bearer token"),
    403: _problem_response("The caller's roles or organisation do not allow this"),
    404: _problem_response("Not found, or another organisation's"),
    409: _problem_response("Conflicts with the current state"),
    413: _problem_response("Content too large"),
    415: _problem_response("Unsupported or mislabelled content type"),
    422: _problem_response("Invalid input"),
    503: _problem_response(
        "The database or another service the request needs is unavailable or busy (database_unavailable,"
        " database_busy, dependency_unavailable): retry after Retry-After"
    ),
}


def problem(status: int, code: str, title: str, detail: str, request: Request, **extra: Any) -> JSONResponse:
    body = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
        **extra,
    }
    return JSONResponse(jsonable_encoder(body), status_code=status, media_type="application/problem+json")


async def _app_error(request: Request, exc: AppError) -> JSONResponse:
    return problem(exc.status, exc.code, exc.title, exc.detail, request, **exc.extra)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    malformed = next((e for e in exc.errors() if e.get("type") == "json_invalid"), None)
    if malformed is not None:  # not JSON at all: the caller's syntax, not a value the schema refused
        return _malformed_json(request, malformed)
    errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()]
    detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5])
    return problem(422, "validation_error", "Request validation failed", detail, request, errors=errors)


def _malformed_json(request: Request, error: Mapping[str, Any]) -> JSONResponse:
    loc, reason = error.get("loc", ()), (error.get("ctx") or {}).get("error", "")
    where = f" at character {loc[1]}" if len(loc) > 1 and isinstance(loc[1], int) else ""
    detail = f"the request body is not well-formed JSON{where}" + (f": {reason}" if reason else "")
    return problem(400, "malformed_json", "Malformed JSON", detail, request)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if isinstance(exc, Refusal):
        refused = await _app_error(request, exc.error)
        refused.headers["Connection"] = "close"
        return refused
    code = getattr(exc, "code", None) or HTTP_CODES.get(exc.status_code, "http_error")
    response = problem(exc.status_code, code, code.replace("_", " ").capitalize(), str(exc.detail), request)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    if exc.status_code == 405:
        response.headers["Allow"] = _allowed_methods(request) or response.headers.get("Allow", "")
    return response


def _allowed_methods(request: Request) -> str:
    """Every method of the path, where Starlette names only those of the first route matching it (GET /actors and
    POST /actors are two routes)."""
    allowed = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        probe = {**request.scope, "method": method}
        if any(route.matches(probe)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


def _integrity_errors(
    unique_codes: Mapping[str, str], metadata: Sequence[MetaData]
) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def integrity_error(request: Request, exc: Exception) -> JSONResponse:
        constraint = unique_violation(exc, metadata=metadata)
        if constraint is None:  # a foreign key, NOT NULL or CHECK failing is a bug of ours, not the caller's conflict
            log.error("integrity error that is no unique violation", exc_info=exc)
            return _internal_error(request)
        # A unique constraint the use case did not pre-check (e.g. a race between two writers).
        log.info("unique violation", extra={"constraint": constraint})
        return problem(
            409,
            unique_codes.get(constraint, "conflict"),
            "Conflict",
            "the change conflicts with existing data",
            request,
        )

    return integrity_error


# The database gone, restarting or refusing connections: the driver's own errors (a read on the driver raises them
# unwrapped, see db.read_rows) and SQLAlchemy's wrapping of them.
_OUTAGES: tuple[type[BaseException], ...] = (ConnectionError,)
try:
    from asyncpg import exceptions as pg  # type: ignore[import-untyped]  # asyncpg ships no type information

    _OUTAGES += (pg.PostgresConnectionError, pg.ConnectionDoesNotExistError, pg.CannotConnectNowError)
    _OUTAGES += (pg.AdminShutdownError,)
except ImportError:  # pragma: no cover - asyncpg is a dependency
    pass


def _unavailable(request: Request, code: str, detail: str, *, retry_after: int) -> JSONResponse:
    response = problem(503, code, "Service unavailable", detail, request)
    response.headers["Retry-After"] = str(retry_after)
    return response


_DATABASE_CODE = ("asyncpg", "sqlalchemy", "aiosqlite", "libs.common.db")


def _raised_by_database(exc: BaseException) -> bool:
    """A builtin ConnectionError (refused, reset) counts as the database's only when database code raised it: the
    driver raises them unwrapped, but so does a socket to object storage or any other service."""
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if any(module == name or module.startswith(name + ".") for name in _DATABASE_CODE):
            return True
        tb = tb.tb_next
    return False


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """503 with Retry-After for an outage or a pool with no free connection in time; any other database error
    (a bad statement) is a bug: logged, 500."""
    if isinstance(exc, sa_exc.TimeoutError):
        log.warning("no free database connection in time", extra={"error": str(exc)})
        return _unavailable(request, "database_busy", "no database connection was free in time", retry_after=1)
    if type(exc).__module__ == "builtins" and not _raised_by_database(exc):
        log.warning("dependency unavailable", extra={"error": type(exc).__name__})
        return _unavailable(
            request, "dependency_unavailable", "a service this request needs is unavailable", retry_after=5
        )
    outage = isinstance(exc, _OUTAGES) or (
        isinstance(exc, sa_exc.DBAPIError)
        and (exc.connection_invalidated or isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError))
    )
    if outage:
        log.warning("database unavailable", extra={"error": type(exc).__name__})
        return _unavailable(request, "database_unavailable", "the database is unavailable", retry_after=5)
    log.error("database error", exc_info=exc)
    return _internal_error(request)


def _internal_error(request: Request) -> JSONResponse:
    return problem(500, "internal_error", "Internal error", "unexpected error; it has been logged", request)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error", exc_info=exc)
    return _internal_error(request)


def install_error_handlers(
    app: FastAPI, *, unique_codes: Mapping[str, str] | None = None, metadata: Sequence[MetaData] = ()
) -> None:
    """`unique_codes`: the problem code of a 409 by unique constraint name (default `conflict`); `metadata` names
    SQLite's unique violations as PostgreSQL does (see errors.unique_violation)."""
    # FastAPI's decorator form, called: Starlette's add_exception_handler types a handler as taking any Exception.
    app.exception_handler(AppError)(_app_error)
    app.exception_handler(RequestValidationError)(_validation_error)
    app.exception_handler(StarletteHTTPException)(_http_error)
    app.add_exception_handler(IntegrityError, _integrity_errors(unique_codes or {}, metadata))
    for outage in (sa_exc.DBAPIError, sa_exc.TimeoutError, *_OUTAGES):
        app.add_exception_handler(outage, _database_error)
    app.add_exception_handler(Exception, _unexpected)
