"""The parts of every service's app besides its own routes: health/ready/metrics, offline docs, problem schemas."""

from __future__ import annotations

import asyncio
from importlib import resources
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common import metrics
from libs.common.auth import CurrentPrincipal
from libs.common.http import PROBLEM_RESPONSES
from libs.common.settings import ServiceSettings

# Every path answers a method it does not offer (OPTIONS included: no CORS here) with this, before any token check.
METHOD_NOT_ALLOWED = {
    "description": "Method not allowed: the `Allow` header lists the methods this path offers",
    "headers": {"Allow": {"description": "the methods this path offers", "schema": {"type": "string"}}},
}


def problem_schemas_on_every_error(app: FastAPI) -> None:
    """Routes may describe their 4xx codes in words; the body is always a Problem, so say so in the schema."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for path, operations in schema.get("paths", {}).items():
            operations.setdefault("options", _options_operation(path, operations))
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    if status.startswith("4"):
                        response["content"] = problem
        schema.get("components", {}).get("schemas", {}).pop("HTTPValidationError", None)
        schema.get("components", {}).get("schemas", {}).pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented hook for a custom schema


def _options_operation(path: str, siblings: dict[str, Any]) -> dict[str, Any]:
    """OPTIONS is answered on every path, so the document says how: 405, no token needed. Its path parameters are
    those of the path's other operations (OpenAPI requires each one of the template declared)."""
    slug = path.strip("/").replace("/", "_").replace("{", "").replace("}", "").replace("-", "_") or "root"
    in_path = {
        parameter["name"]: parameter
        for operation in siblings.values()
        for parameter in operation.get("parameters", [])
        if parameter.get("in") == "path"
    }
    return {
        "parameters": list(in_path.values()),
        "summary": "Not offered: answers 405 with the methods the path offers",
        "operationId": f"options_{slug}",
        "tags": ["platform"],
        "security": [],
        "responses": {"405": dict(METHOD_NOT_ALLOWED)},
    }


def platform_router(settings: ServiceSettings) -> APIRouter:
    router = APIRouter(tags=["platform"])

    @router.get("/health", summary="Liveness: the process answers")
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": settings.service_name}

    @router.get(
        "/ready",
        summary="Readiness: the database and the broker are reachable",
        responses={503: {"description": "a dependency is unreachable"}},
    )
    async def ready(request: Request) -> JSONResponse:
        checks = {
            "database": await _database_ok(request.app.state.engine),
            "broker": await _broker_ok(settings.kafka_bootstrap_servers),
        }
        ok = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", "checks": checks}, status_code=200 if ok else 503
        )

    @router.get(
        "/metrics",
        summary="Prometheus metrics (bearer token required)",
        response_class=Response,
        responses={
            200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
            401: PROBLEM_RESPONSES[401],
        },
    )
    async def prometheus(_: CurrentPrincipal) -> Response:
        return metrics.render()

    return router


async def _database_ok(engine: AsyncEngine) -> bool:
    try:
        async with engine.connect() as connection:
            await asyncio.wait_for(connection.execute(sa.text("SELECT 1")), timeout=2)
        return True
    except Exception:  # readiness reports any failure as not ready
        return False


async def _broker_ok(bootstrap: str) -> bool:
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host or "127.0.0.1", int(port)), timeout=1)
            writer.close()
            return True
        except (TimeoutError, OSError, ValueError):
            continue
    return False


# Swagger UI 5 (reads OpenAPI 3.1, which FastAPI serves), shipped as files by the fastapi-swagger wheel, which
# follows swagger-ui-dist's releases; only its assets are used. No CDN: the docs work offline.
SWAGGER_UI_ASSETS = resources.files("fastapi_swagger.resources")


def offline_docs(app: FastAPI, title: str) -> None:
    app.mount("/docs-assets", StaticFiles(directory=str(SWAGGER_UI_ASSETS)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{title} — API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )
