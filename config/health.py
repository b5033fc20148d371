"""What an operator (or an orchestrator) asks of a running nojackal: is it alive, ready, well?

Each probe below checks one thing and returns a short sentence on success, or raises
``Problem`` saying what is wrong and what to do about it. The same probes serve three readers:

- ``/health/live``: the process answers (no probe: a database outage must not get the web
  process restarted in a loop);
- ``/health/ready``: the database and the broker answer (take traffic only then);
- ``/health/``: everything, for a person or a monitor: also beat's heartbeat, how long ago each
  enabled source last polled successfully, and the outbox's backlog and oldest due row;
- ``python manage.py doctor``, which adds configuration, static files, migrations and
  credentials (outreach/management/commands/doctor.py).

The web views are django-health-check's; every probe runs in the request's own thread, on its
database connection, so nothing leaks a connection per request.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView
from kombu.exceptions import KombuError

#: One stylesheet of the admin, looked up in the static files manifest to prove it is there.
STATIC_SAMPLE = "admin/css/base.css"


class Problem(Exception):
    """Something an operator must fix: what is wrong, and what to do."""

    def __init__(self, what: str, fix: str) -> None:
        super().__init__(what, fix)
        self.what = what
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.what} Fix: {self.fix}"


def _age(since: dt.datetime, now: dt.datetime) -> str:
    seconds = int((now - since).total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def check_database() -> str:
    """The database answers a query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        raise Problem(
            f"The database does not answer ({type(exc).__name__}: {exc}).",
            "check DATABASE_URL and that the database server is running.",
        ) from exc
    return f"{connection.vendor} answers"


def check_broker() -> str:
    """The broker accepts a connection and opens a channel, within the broker timeout."""
    from config.celery import app

    conn = app.connection_for_write()
    where = conn.as_uri()
    try:
        with conn:
            # One attempt: the socket timeouts of config/settings.py bound it to seconds.
            conn.ensure_connection(max_retries=0)
            conn.default_channel  # noqa: B018 (opening it talks to the broker: a Redis PING)
    except (KombuError, OSError) as exc:
        raise Problem(
            f"The broker at {where} does not answer ({type(exc).__name__}: {exc}).",
            "check CELERY_BROKER_URL and that Redis or RabbitMQ is running and reachable.",
        ) from exc
    return f"{where} answers"


def check_beat(now: dt.datetime | None = None) -> str:
    """Beat has sent a tick recently (django-celery-beat records each one)."""
    from django_celery_beat.models import PeriodicTask

    now = now or timezone.now()
    last = (
        PeriodicTask.objects.filter(enabled=True, last_run_at__isnull=False)
        .order_by("-last_run_at")
        .values_list("last_run_at", flat=True)
        .first()
    )
    limit = dt.timedelta(seconds=settings.NOJACKAL_HEALTH_BEAT_MAX_AGE_SECONDS)
    if last is None:
        raise Problem(
            "Beat has not sent any tick yet.",
            "start exactly one beat: celery -A config beat --loglevel INFO.",
        )
    if now - last > limit:
        raise Problem(
            f"Beat's last tick was {_age(last, now)} ago.",
            "check that the beat process is running and can reach the broker "
            "(its log says why it stopped).",
        )
    return f"last tick {_age(last, now)} ago"


def check_source_polls(now: dt.datetime | None = None) -> str:
    """Every enabled source has polled successfully within a few of its cadences."""
    from monitoring.models import Source

    now = now or timezone.now()
    floor = settings.NOJACKAL_HEALTH_POLL_MAX_AGE_SECONDS
    late = []
    sources = Source.objects.filter(enabled=True).only(
        "pk", "name", "platform", "cadence_seconds", "last_success_at", "created_at"
    )
    for source in sources:
        since = source.last_success_at or source.created_at
        if (now - since).total_seconds() > max(floor, 3 * source.cadence_seconds):
            never = " (never)" if source.last_success_at is None else ""
            name = f"source {source.pk} ({source.platform}, {source.name})"
            late.append(f"{name}: {_age(since, now)}{never}")
    if late:
        raise Problem(
            "No successful poll for too long: " + "; ".join(late) + ".",
            "see each source's last error in the admin (Monitoring > Sources); check the worker "
            "is running and the platform's credentials (Test connection).",
        )
    return f"{len(sources)} enabled source(s) polled recently"


def check_outbox(now: dt.datetime | None = None) -> str:
    """The outbox has no row waiting long past its time (the dispatcher keeps up)."""
    from outreach.models import ActionState, OutboundAction

    now = now or timezone.now()
    # Both filters walk the (state, not_before) index; the count stops at 1,000.
    due = OutboundAction.objects.filter(
        state__in=[ActionState.PENDING, ActionState.SENDING], not_before__lte=now
    )
    oldest = due.order_by("not_before").values_list("not_before", flat=True).first()
    if oldest is None:
        return "nothing due"
    backlog = due[:1000].count()
    shown = f"{backlog}+" if backlog == 1000 else str(backlog)
    limit = dt.timedelta(seconds=settings.NOJACKAL_HEALTH_OUTBOX_MAX_DELAY_SECONDS)
    if now - oldest > limit:
        raise Problem(
            f"{shown} outbox row(s) due; the oldest has waited {_age(oldest, now)}.",
            "check that beat and a worker are running (the dispatch tick sends due rows) "
            "and the accounts' last errors in the admin.",
        )
    return f"{shown} due, oldest {_age(oldest, now)}"


def check_static_files() -> str:
    """With DEBUG off, static files were collected (else every admin page answers 500)."""
    if settings.DEBUG:
        return "served by Django in debug"
    root = Path(settings.STATIC_ROOT)
    if not hasattr(staticfiles_storage, "stored_name"):
        backend = settings.STORAGES["staticfiles"]["BACKEND"].rsplit(".", 1)[-1]
        return f"{backend} needs no manifest"
    try:
        staticfiles_storage.stored_name(STATIC_SAMPLE)
    except ValueError as exc:
        raise Problem(
            f"Static files are not collected in STATIC_ROOT ({root}): with DJANGO_DEBUG=0 "
            "every admin page answers 500 until they are.",
            "run python manage.py collectstatic --noinput (once per release, before starting "
            "the web process).",
        ) from exc
    return f"collected in {root}"


@dataclasses.dataclass
class Probe(HealthCheck):
    """One probe of this module as a django-health-check check."""

    name: str
    # The broker probe waits at most one broker timeout; leave it room to report.
    timeout = dt.timedelta(seconds=15)

    async def run(self) -> None:
        # thread_sensitive: the request's thread and database connection, never a new one.
        try:
            await sync_to_async(PROBES[self.name])()
        except Problem as exc:
            raise ServiceUnavailable(str(exc)) from exc


PROBES: dict[str, Callable[[], str]] = {
    "database": check_database,
    "broker": check_broker,
    "beat": check_beat,
    "source_polls": check_source_polls,
    "outbox": check_outbox,
}

READY = ("database", "broker")


class HealthView(HealthCheckView):
    """``/health/``: every probe (HTML, or JSON with ``?format=json``); 500 when one fails."""

    checks = tuple((Probe, {"name": name}) for name in PROBES)


class ReadyView(HealthCheckView):
    """``/health/ready``: the database and the broker; 500 until both answer."""

    checks = tuple((Probe, {"name": name}) for name in READY)


def live(request: HttpRequest) -> HttpResponse:
    """``/health/live``: the process is up and serving; touches nothing else."""
    return HttpResponse("ok\n", content_type="text/plain")
