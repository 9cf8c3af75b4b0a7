"""Prometheus metrics shared by APIs and workers; every series carries the service label."""
from __future__ import annotations

import time

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

HTTP_REQUESTS = Counter("assay_http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram("assay_http_request_seconds", "HTTP request latency", ["service", "method", "route"])
EVENTS_PUBLISHED = Counter("assay_events_published_total", "Events the outbox relay published")
EVENTS_CONSUMED = Counter("assay_events_consumed_total", "Events consumed", ["consumer", "result"])
EVENTS_SKIPPED = Counter("assay_events_skipped_total", "Events skipped", ["consumer", "reason"])
EVENTS_DEAD_LETTERED = Counter("assay_events_dead_lettered_total", "Events sent to a dead-letter topic", ["consumer"])
JOB_RUNS = Counter("assay_scheduled_job_runs_total", "Scheduled job runs", ["job", "result"])


def install_http_metrics(app: FastAPI, service: str) -> None:
    @app.middleware("http")
    async def _measure(request: Request, call_next):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        HTTP_LATENCY.labels(service, request.method, template).observe(time.perf_counter() - started)
        HTTP_REQUESTS.labels(service, request.method, template, str(response.status_code)).inc()
        return response


def render() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
