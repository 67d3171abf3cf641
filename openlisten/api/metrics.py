"""Prometheus metrics: one registry per app, filled by `MetricsMiddleware` and read at scrape time.

Request counts and latencies are labelled by route template (``/v1/models/{model_id}``), never by raw
path, key or token, so label sets stay small and hold no secrets. Gauges that mirror live state
(queue depths, live sessions) are read when ``/metrics`` is scraped, so they are never stale.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openlisten.errors import StoreError

if TYPE_CHECKING:
    from openlisten.api.deps import Services

__all__ = ["LabelledCollector", "Metrics", "MetricsMiddleware"]

#: Seconds: from a cached models list (milliseconds) to an hour-long file on the CPU (minutes).
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)


class Metrics:
    """The app's metrics; `audio_seconds` is for the routes (``rest``, ``callback``, ``live``)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "openlisten_http_requests",
            "HTTP requests answered, by method, route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "openlisten_http_errors",
            "HTTP error replies (status >= 400), by route, status and Deepgram err_code.",
            ["route", "status", "err_code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "openlisten_http_request_duration_seconds",
            "Time from request start to the end of the response, by method and route.",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.audio_seconds = Counter(
            "openlisten_audio_seconds",
            "Seconds of audio transcribed, by source: rest, callback or live.",
            ["source"],
            registry=self.registry,
        )

        #: What ``/metrics`` exposes: the registry, or the registry with a label on every sample.
        self.exposed: Collector = self.registry

    def label_every_sample(self, labels: dict[str, str]) -> None:
        """Expose every sample with `labels` too (a replica's id, so replicas' metrics can be told apart)."""
        self.exposed = LabelledCollector(self.registry, labels)

    def watch(self, services: Services) -> None:
        """Also report the live state of `services` at every scrape."""
        self.registry.register(_StateCollector(services))

    def observe(self, method: str, route: str, status: int, seconds: float, err_code: str | None) -> None:
        """Count one answered HTTP request."""
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)
        if status >= 400:
            self.errors.labels(route, str(status), err_code or "").inc()


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            err_code = scope.get("state", {}).get("err_code") or ("INTERNAL_SERVER_ERROR" if status >= 500 else None)
            self.metrics.observe(scope["method"], route, status, time.perf_counter() - started, err_code)


class LabelledCollector(Collector):
    """Another collector's metrics, with `labels` added to every sample."""

    def __init__(self, collector: Collector, labels: dict[str, str]) -> None:
        self._collector = collector
        self._labels = labels

    def collect(self) -> Iterator[Metric]:
        for metric in self._collector.collect():
            labelled = Metric(metric.name, metric.documentation, metric.type, metric.unit)
            for sample in metric.samples:
                labels = sample.labels | self._labels
                labelled.add_sample(sample.name, labels, sample.value, sample.timestamp, sample.exemplar)
            yield labelled


class _StateCollector(Collector):
    def __init__(self, services: Services) -> None:
        self._services = services

    def collect(self) -> Iterator[Metric]:
        s = self._services
        yield _gauge("openlisten_model_ready", "1 when the default model is loaded.", float(s.lifecycle.model_ready))
        yield _gauge("openlisten_draining", "1 while the server shuts down gracefully.", float(s.lifecycle.draining))
        yield _gauge(
            "openlisten_scheduler_queue_depth", "Model work waiting in the scheduler.", s.engine.scheduler.depth
        )
        yield _gauge("openlisten_http_requests_in_progress", "/v1/listen requests in progress.", s.limits.rest.active)
        yield _gauge("openlisten_live_sessions_active", "Live WebSocket sessions open now.", s.limits.live.active)
        yield _gauge(
            "openlisten_callback_jobs_running", "Callback jobs being transcribed or delivered.", s.worker.in_flight
        )
        pending = _or_none(s.store.pending_jobs)
        if pending is not None:
            yield _gauge("openlisten_callback_queue_depth", "Callback jobs not yet delivered or failed.", pending)
        attempts = CounterMetricFamily(
            "openlisten_callback_attempts",
            "Callback delivery attempts by outcome: delivered, retried (failed, will retry), failed (gave up).",
            labels=["outcome"],
        )
        for outcome in ("delivered", "retried", "failed"):
            attempts.add_metric([outcome], s.worker.outcomes[outcome])
        yield attempts


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _or_none(read: Callable[[], int]) -> int | None:
    try:
        return read()
    except StoreError:
        return None
