"""Prometheus metrics shared by APIs and workers; every series carries the service label."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

HTTP_REQUESTS = Counter("assay_http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram("assay_http_request_seconds", "HTTP request latency", ["service", "method", "route"])
EVENTS_PUBLISHED = Counter("assay_events_published_total", "Events the outbox relay published")
EVENTS_CONSUMED = Counter("assay_events_consumed_total", "Events consumed", ["consumer", "result"])
EVENTS_SKIPPED = Counter("assay_events_skipped_total", "Events skipped", ["consumer", "reason"])
EVENTS_DEAD_LETTERED = Counter("assay_events_dead_lettered_total", "Events sent to a dead-letter topic", ["consumer"])
JOB_RUNS = Counter("assay_scheduled_job_runs_total", "Scheduled job runs", ["job", "result"])


class HttpMetrics:
    """Latency and count per route template and status, observed by service.PlatformMiddleware (pure ASGI:
    Starlette's BaseHTTPMiddleware costs a task and a memory stream per request, about a tenth of a read's CPU)."""

    def __init__(self, *, service: str) -> None:
        self.service = service
        self._latency: dict[tuple[str, str], Any] = {}  # labelled children, looked up once per route
        self._requests: dict[tuple[str, str, int], Any] = {}

    def observe(self, method: str, template: str, status: int, seconds: float) -> None:
        latency = self._latency.get((method, template))
        if latency is None:
            latency = self._latency[(method, template)] = HTTP_LATENCY.labels(self.service, method, template)
        latency.observe(seconds)
        requests = self._requests.get((method, template, status))
        if requests is None:
            requests = self._requests[(method, template, status)] = HTTP_REQUESTS.labels(
                self.service, method, template, str(status)
            )
        requests.inc()


def render() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
