"""OpenTelemetry tracing, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set: then the FastAPI, asyncpg, aiokafka and
httpx instrumentations are installed, and one trace runs from an API call through the outbox row, the relay and the
CloudEvent's `traceparent` extension to another service's consumer.

Off, nothing is installed and every hook here is one check of a module flag. On, the standard OTEL_* variables
configure the exporter (OTLP over HTTP/protobuf) and the resource; OTEL_SERVICE_NAME defaults to `<service>-api`
or `<service>-worker`. Root spans of database and HTTP client calls are not sampled: a relay's poll or a worker's
gauge query is no trace of its own, while the same calls inside a request or an event's handling are."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from libs.common import logs

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.sdk.trace.sampling import Sampler
    from opentelemetry.trace import Link, Tracer
    from opentelemetry.trace.span import TraceState
    from opentelemetry.util.types import Attributes

log = logging.getLogger("assay.telemetry")
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
UNTRACED_URLS = "/health,/ready,/metrics"

_provider: TracerProvider | None = None
_tracer: Tracer | None = None


def enabled() -> bool:
    return _tracer is not None


def wanted() -> bool:
    """Tracing was asked for in the environment (OTEL_SDK_DISABLED=true still turns it off)."""
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    return any(os.environ.get(name) for name in ENDPOINT_VARIABLES)


def configure(service: str, *, exporter: SpanExporter | None = None) -> bool:
    """Turn tracing on for this process when the environment asks for it, or with `exporter` (tests: the SDK's
    in-memory exporter, spans exported as they end). True when tracing is on; calling it again changes nothing."""
    global _provider, _tracer
    if _tracer is not None:
        return True
    if exporter is None and not wanted():
        return False
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or service})
    provider = TracerProvider(resource=resource, sampler=_sampler())
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)  # the process's own: other libraries' spans go there too
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    _install_instrumentations(provider)
    _provider, _tracer = provider, provider.get_tracer("assay")
    logs.trace_context = _log_ids
    log.info("tracing on", extra={"otel_service": service})
    return True


def flush() -> None:
    if _provider is not None:
        _provider.force_flush()


def shutdown() -> None:
    """Flush and turn tracing off again (tests, and a process that stops)."""
    global _provider, _tracer
    if _provider is None:
        return
    from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    for instrumentor in (AsyncPGInstrumentor(), AIOKafkaInstrumentor(), HTTPXClientInstrumentor()):  # type: ignore[no-untyped-call]
        instrumentor.uninstrument()
    _provider.shutdown()
    _provider, _tracer = None, None
    logs.trace_context = None


def _install_instrumentations(provider: TracerProvider) -> None:
    # asyncpg, not SQLAlchemy as well: on PostgreSQL both would record every query twice.
    from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    AsyncPGInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
    AIOKafkaInstrumentor().instrument(tracer_provider=provider)
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)


def _sampler() -> Sampler:
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Decision, ParentBased, Sampler, SamplingResult
    from opentelemetry.trace import SpanKind

    class NoLonelyClientCalls(Sampler):
        """A root span is sampled unless it is a client call (a query or an HTTP call outside any request)."""

        def should_sample(
            self,
            parent_context: Context | None,
            trace_id: int,
            name: str,
            kind: SpanKind | None = None,
            attributes: Attributes = None,
            links: Sequence[Link] | None = None,
            trace_state: TraceState | None = None,
        ) -> SamplingResult:
            if kind is SpanKind.CLIENT:
                return SamplingResult(Decision.DROP)
            return ALWAYS_ON.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

        def get_description(self) -> str:
            return "NoLonelyClientCalls"

    return ParentBased(root=NoLonelyClientCalls())


def instrument_app(app: FastAPI) -> None:
    if _provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, tracer_provider=_provider, excluded_urls=UNTRACED_URLS)


def current_traceparent() -> str | None:
    """The W3C traceparent of the current span, for an outbox row; None when tracing is off or no span is on."""
    if _tracer is None:
        return None
    from opentelemetry.trace import format_span_id, format_trace_id, get_current_span

    context = get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"00-{format_trace_id(context.trace_id)}-{format_span_id(context.span_id)}-{context.trace_flags:02x}"


def _parent(traceparent: str | None) -> Any:
    if not traceparent:
        return None
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return TraceContextTextMapPropagator().extract({"traceparent": traceparent})


@contextlib.contextmanager
def publishing(topic: str, event_id: str, event_type: str, traceparent: str | None) -> Iterator[None]:
    """Around the relay's hand-off of one event to the producer: a producer span, a child of the request that
    staged the event, in which aiokafka's own send span nests. Off, or an event staged untraced: nothing."""
    if _tracer is None or not traceparent:
        yield
        return
    from opentelemetry.trace import SpanKind

    with _tracer.start_as_current_span(
        f"publish {topic}",
        context=_parent(traceparent),
        kind=SpanKind.PRODUCER,
        attributes=_event_attributes(topic, event_id, event_type),
    ):
        yield


@contextlib.contextmanager
def consuming(consumer: str, topic: str, event_id: str, event_type: str, traceparent: str | None) -> Iterator[None]:
    """Around a consumer's handling of one event: its log lines carry the event id, and (tracing on) a consumer
    span whose parent is the event's traceparent holds the handler's queries."""
    with logs.event_context(event_id):
        if _tracer is None:
            yield
            return
        from opentelemetry.trace import SpanKind

        attributes = {**_event_attributes(topic, event_id, event_type), "messaging.consumer.group.name": consumer}
        with _tracer.start_as_current_span(
            f"process {event_type}", context=_parent(traceparent), kind=SpanKind.CONSUMER, attributes=attributes
        ):
            yield


def _event_attributes(topic: str, event_id: str, event_type: str) -> dict[str, str]:
    return {
        "messaging.system": "kafka",
        "messaging.destination.name": topic,
        "messaging.message.id": event_id,
        "cloudevents.event_type": event_type,
    }


def _log_ids() -> tuple[str, str] | None:
    from opentelemetry.trace import format_span_id, format_trace_id, get_current_span

    context = get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format_trace_id(context.trace_id), format_span_id(context.span_id)
