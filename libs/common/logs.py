"""JSON-lines logging for every process; each line carries the request id (API), the event id (worker) and, with
tracing on, the trace and span ids of where it was written."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
REQUEST_ID: ContextVar[str | None] = ContextVar("assay_request_id", default=None)
EVENT_ID: ContextVar[str | None] = ContextVar("assay_event_id", default=None)
# Set by libs/common/telemetry.py while tracing is on: the current (trace id, span id), or None outside a span.
trace_context: Callable[[], tuple[str, str] | None] | None = None


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if (request_id := REQUEST_ID.get()) is not None:
            line["request_id"] = request_id
        if (event_id := EVENT_ID.get()) is not None:
            line["event_id"] = event_id
        if trace_context is not None and (ids := trace_context()) is not None:
            line["trace_id"], line["span_id"] = ids
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "aiokafka"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("aiokafka").setLevel("WARNING")


@contextlib.contextmanager
def event_context(event_id: str) -> Iterator[None]:
    """Log lines written inside carry `event_id` (a worker handling one event)."""
    token = EVENT_ID.set(event_id)
    try:
        yield
    finally:
        EVENT_ID.reset(token)


# A caller's own X-Request-ID is kept when it is a plausible id (no header injection, no log flooding).
_CALLER_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


def request_id_of(scope: Scope) -> str:
    """The request's id: the caller's X-Request-ID when it is a plausible one, else a new one."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = str(value.decode("latin-1"))
            if _CALLER_REQUEST_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex
