"""Prometheus metrics: what the database knows, at ``/metrics/``, and what workers time.

Off by default (``NOJACKAL_METRICS=1`` turns ``/metrics/`` on; with ``NOJACKAL_METRICS_TOKEN``
set it also asks for ``Authorization: Bearer <token>``). Each scrape reads a handful of cheap
queries: per-source rows of the small sources table, GROUP BYs over the stage and state
indexes of cases and the outbox, a range of the detections' ``created_at`` index, and one
broker call. Posts are never counted (the sources carry their own ``posts_ingested``).

Task durations and outcomes are measured inside each worker (Celery signals) and served by the
worker itself on ``NOJACKAL_WORKER_METRICS_PORT`` when that is set: a web process cannot see
another process's timings, and workers may run on other machines.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from kombu.exceptions import KombuError
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

#: The window of the recent-detections gauge.
DETECTIONS_WINDOW = dt.timedelta(hours=1)


class DatabaseCollector(Collector):
    """Gauges and counters read from the database (and the broker) at scrape time."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        yield from self._sources(now)
        yield from self._detections(now)
        yield from self._cases()
        yield from self._outbox(now)
        yield from self._broker()

    def _sources(self, now: dt.datetime) -> Iterator[Metric]:
        from monitoring.models import Source

        ingested = CounterMetricFamily(
            "nojackal_posts_ingested", "Posts stored from each source.", labels=["source"]
        )
        age = GaugeMetricFamily(
            "nojackal_source_last_success_age_seconds",
            "Seconds since each enabled source last polled successfully (since creation if never).",
            labels=["source"],
        )
        failures = GaugeMetricFamily(
            "nojackal_source_failures",
            "Consecutive failed polls of each source.",
            labels=["source"],
        )
        rows = Source.objects.values_list(
            "pk",
            "platform",
            "enabled",
            "posts_ingested",
            "failure_count",
            "last_success_at",
            "created_at",
        )
        for pk, platform, enabled, posts, failed, last_success, created in rows:
            label = [f"{pk}:{platform}"]
            ingested.add_metric(label, posts)
            failures.add_metric(label, failed)
            if enabled:
                age.add_metric(label, (now - (last_success or created)).total_seconds())
        yield from (ingested, age, failures)

    def _detections(self, now: dt.datetime) -> Iterator[Metric]:
        from monitoring.models import Detection

        recent = GaugeMetricFamily(
            "nojackal_detections_recent",
            "Posts judged in the last hour, by verdict.",
            labels=["verdict"],
        )
        counts = dict(
            Detection.objects.filter(created_at__gte=now - DETECTIONS_WINDOW)
            .values_list("complaint")
            .annotate(n=Count("pk"))
            .values_list("complaint", "n")
        )
        recent.add_metric(["complaint"], counts.get(True, 0))
        recent.add_metric(["other"], counts.get(False, 0))
        pending = GaugeMetricFamily(
            "nojackal_detections_pending_triage", "Detections waiting for triage."
        )
        pending.add_metric([], Detection.objects.filter(triage="pending").count())
        yield from (recent, pending)

    def _cases(self) -> Iterator[Metric]:
        from outreach.models import Case

        family = GaugeMetricFamily("nojackal_cases", "Cases in each stage.", labels=["stage"])
        rows = Case.objects.values_list("stage").annotate(n=Count("pk")).values_list("stage", "n")
        for stage, count in rows:
            family.add_metric([stage], count)
        yield family

    def _outbox(self, now: dt.datetime) -> Iterator[Metric]:
        from outreach.models import ActionState, OutboundAction

        by_state = GaugeMetricFamily(
            "nojackal_outbox_actions",
            "Outbox rows by state (sent, failed and cancelled are the outcomes of sends).",
            labels=["state", "kind"],
        )
        rows = (
            OutboundAction.objects.values_list("state", "kind")
            .annotate(n=Count("pk"))
            .values_list("state", "kind", "n")
        )
        for state, kind, count in rows:
            by_state.add_metric([state, kind], count)
        oldest = (
            OutboundAction.objects.filter(
                state__in=[ActionState.PENDING, ActionState.SENDING], not_before__lte=now
            )
            .order_by("not_before")
            .values_list("not_before", flat=True)
            .first()
        )
        due_age = GaugeMetricFamily(
            "nojackal_outbox_oldest_due_age_seconds",
            "How long the oldest due outbox row has waited past its time (0: none due).",
        )
        due_age.add_metric([], (now - oldest).total_seconds() if oldest else 0.0)
        unknown = GaugeMetricFamily(
            "nojackal_outbox_outcome_unknown",
            "Open outbox rows whose last attempt may have posted: asked about before any resend.",
        )
        unknown.add_metric(
            [],
            OutboundAction.objects.filter(
                # The (state, not_before) index narrows to the open rows first.
                state__in=[ActionState.PENDING, ActionState.SENDING],
                outcome_unknown_since__isnull=False,
            ).count(),
        )
        yield from (by_state, due_age, unknown)

    def _broker(self) -> Iterator[Metric]:
        from celery import current_app as app

        family = GaugeMetricFamily(
            "nojackal_broker_queue_messages",
            "Messages waiting in the task queue.",
            labels=["queue"],
        )
        up = GaugeMetricFamily("nojackal_broker_up", "1 if the broker answered this scrape.")
        queue = app.conf.task_default_queue
        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=0)
                try:
                    waiting = conn.default_channel.queue_declare(queue, passive=True).message_count
                except conn.channel_errors:
                    waiting = 0  # not declared yet: no worker ever consumed it, nothing sent
            family.add_metric([queue], waiting)
            up.add_metric([], 1)
        except (KombuError, OSError) as exc:
            log.warning("metrics: the broker did not answer: %s", exc)
            up.add_metric([], 0)
        yield from (family, up)


def metrics(request: HttpRequest) -> HttpResponse:
    """``/metrics/``: the database's gauges in Prometheus' text format (404 unless enabled)."""
    if not settings.NOJACKAL_METRICS:
        raise Http404("metrics are off (NOJACKAL_METRICS=0)")
    token = settings.NOJACKAL_METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return HttpResponse("a bearer token is required\n", status=401)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


# --- Inside a worker ---------------------------------------------------------------------

TASK_SECONDS = Histogram(
    "nojackal_task_duration_seconds",
    "How long each task ran.",
    ["task"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 90),
)
TASK_RUNS = Counter("nojackal_task_runs", "Tasks run, by outcome.", ["task", "state"])
_started: dict[str, float] = {}


def task_started(task_id: str, **_: Any) -> None:
    """Celery's task_prerun: note when the task began."""
    _started[task_id] = time.monotonic()


def task_finished(task_id: str, task: Any, state: str | None = None, **_: Any) -> None:
    """Celery's task_postrun: record how long the task ran and how it ended."""
    began = _started.pop(task_id, None)
    if began is not None:
        TASK_SECONDS.labels(task.name).observe(time.monotonic() - began)
    TASK_RUNS.labels(task.name, state or "UNKNOWN").inc()


def serve_worker_metrics(**_: Any) -> None:
    """Celery's worker_init: serve this worker's metrics if NOJACKAL_WORKER_METRICS_PORT is set."""
    port = settings.NOJACKAL_WORKER_METRICS_PORT
    if port:
        start_http_server(port, addr=settings.NOJACKAL_WORKER_METRICS_ADDR)
        log.info("worker metrics on http://%s:%d/", settings.NOJACKAL_WORKER_METRICS_ADDR, port)
