"""One trace from a KYC API call through its outbox row, the relay and the CloudEvent's traceparent to the
traceability consumer, with the real app, database and broker; spans land in the OpenTelemetry SDK's in-memory
exporter. Log lines written meanwhile carry the request id, the event id and the trace id."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from uuid import UUID

import pytest
import sqlalchemy as sa
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id

from libs.common import bus, logs, telemetry
from libs.common.events.kyc import ActorRegistered
from libs.common.relay import Relay
from libs.common.tables import OutboxMessageRow
from services.traceability.handlers import HANDLERS
from services.traceability.tables import KnownActorRow
from tests.kyc.register_support import actor_body, client
from tests.support.bus import envelopes, eventually, read_topic, running


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    assert telemetry.configure("assay-test", exporter=exporter)
    yield exporter
    telemetry.shutdown()


@pytest.fixture
def json_lines() -> Iterator[list[dict[str, object]]]:
    """What the JSON formatter writes for every record, as the processes' stdout would show it."""
    lines: list[dict[str, object]] = []
    formatter = logs.JsonFormatter("test")

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(json.loads(formatter.format(record)))

    handler, root = Collect(level=logging.DEBUG), logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)  # setLevel, not `root.level =`: it clears the loggers' isEnabledFor caches
    yield lines
    root.removeHandler(handler)
    root.setLevel(level)


def ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    chain = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        chain.append(span)
    return chain


async def test_the_consumers_span_descends_from_the_api_call_that_staged_the_event(stack, broker, spans):
    agent = client(stack, "field_agent", user="fiona")
    created = await agent.post("/actors", json=actor_body())
    assert created.status_code == 201, created.text
    async with stack.sessions("kyc")() as db:
        staged = (await db.execute(sa.select(OutboxMessageRow.traceparent, OutboxMessageRow.event_id))).one()

    consumer = bus.Consumer(stack.settings("traceability"), stack.sessions("traceability"), HANDLERS)
    async with running(Relay(stack.settings("kyc"), stack.sessions("kyc")).run, consumer.run):
        await eventually(lambda: _known(stack, created.json()["id"]))
        processed = await eventually(lambda: _consumer_span(spans, staged.event_id))

    by_id = {span.context.span_id: span for span in spans.get_finished_spans()}
    chain = ancestors(processed, by_id)
    api = next(s for s in by_id.values() if s.kind is SpanKind.SERVER and s.attributes.get("http.route") == "/actors")
    assert api in chain, [s.name for s in chain]
    assert processed.context.trace_id == api.context.trace_id
    _, trace_id, span_id, _ = staged.traceparent.split("-")
    staging = next(s for s in by_id.values() if format_span_id(s.context.span_id) == span_id)
    assert trace_id == format_trace_id(api.context.trace_id)
    assert staging is api or api in ancestors(staging, by_id)  # the row was staged inside the request
    assert any(s.kind is SpanKind.PRODUCER and s.context.trace_id == api.context.trace_id for s in by_id.values())
    on_topic = [e for e in envelopes(await read_topic(broker.bootstrap, "kyc.events")) if e.event_id == staged.event_id]
    assert [e.traceparent for e in on_topic] == [staged.traceparent]  # the CloudEvent's traceparent extension


async def _known(stack, actor_id: str) -> KnownActorRow | None:  # type: ignore[no-untyped-def]
    async with stack.sessions("traceability")() as db:
        return await db.get(KnownActorRow, UUID(actor_id))


async def _consumer_span(spans: InMemorySpanExporter, event_id: str) -> ReadableSpan | None:
    return next(
        (
            s
            for s in spans.get_finished_spans()
            if s.kind is SpanKind.CONSUMER and s.attributes.get("messaging.message.id") == event_id
        ),
        None,
    )


async def test_log_lines_carry_the_request_id_the_event_id_and_the_trace_id(stack, broker, spans, json_lines):
    agent = client(stack, "field_agent", user="fiona")
    created = await agent.post("/actors", json=actor_body(), headers={"x-request-id": "req-42"})
    refused = await stack.client("kyc", "not-a-token").get("/actors", headers={"x-request-id": "req-43"})
    anonymous = await stack.client("kyc", "not-a-token").get("/actors")
    seen: list[str] = []

    async def on_registered(db, event: ActorRegistered) -> None:  # type: ignore[no-untyped-def]
        logging.getLogger("assay.test").info("handling", extra={"actor": str(event.actor_id)})
        seen.append(str(event.actor_id))

    consumer = bus.Consumer(
        stack.settings("traceability"), stack.sessions("traceability"), {ActorRegistered: on_registered}
    )
    async with running(Relay(stack.settings("kyc"), stack.sessions("kyc")).run, consumer.run):
        await eventually(lambda: _seen(seen, created.json()["id"]))
    api = next(
        s
        for s in spans.get_finished_spans()
        if s.kind is SpanKind.SERVER
        and s.attributes.get("http.route") == "/actors"
        and s.attributes.get("http.request.method", s.attributes.get("http.method")) == "POST"
    )

    assert created.headers["x-request-id"] == "req-42" and refused.headers["x-request-id"] == "req-43"
    assert len(anonymous.headers["x-request-id"]) == 32  # none given: one is made
    refusal = next(line for line in json_lines if line["msg"] == "token refused")
    assert refusal["request_id"] == "req-43" and len(str(refusal["trace_id"])) == 32
    handling = next(line for line in json_lines if line["msg"] == "handling" and line["actor"] == created.json()["id"])
    async with stack.sessions("kyc")() as db:
        event_id = (await db.execute(sa.select(OutboxMessageRow.event_id))).scalar_one()
    assert handling["event_id"] == event_id
    assert handling["trace_id"] == format_trace_id(api.context.trace_id)  # the worker's line, in the API's trace
    assert "request_id" not in handling


async def _seen(seen: list[str], actor_id: str) -> bool:
    return actor_id in seen


async def test_with_tracing_off_nothing_is_installed_and_rows_carry_no_traceparent(stack):
    import asyncpg
    from aiokafka import AIOKafkaProducer

    assert not telemetry.enabled()
    app = stack.app("kyc")
    created = await client(stack, "field_agent").post("/actors", json=actor_body())

    assert created.status_code == 201
    assert not any("opentelemetry" in str(m.cls).lower() for m in app.user_middleware)
    assert not hasattr(asyncpg.Connection.execute, "__wrapped__")
    assert not hasattr(AIOKafkaProducer.send, "__wrapped__")
    async with stack.sessions("kyc")() as db:
        assert (await db.execute(sa.select(OutboxMessageRow.traceparent))).scalars().all() == [None]
