"""Recovery is bounded: leases, ticks and the broker's redelivery are aligned, and a beat
restart neither loses nor repeats work.

Which of the two for beat: both. Beat writes each tick's ``last_run_at`` to the
database as soon as it is sent (``CELERY_BEAT_SYNC_EVERY = 1``), so a restarted beat
does not run it again; and every tick is safe and cheap to repeat anyway (claims by
lease or compare-and-set, nothing done twice), so a tick sent just before a crash
and again after costs one query.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from config.broker import network_broker_settings
from config.celery import app
from monitoring import ingest
from outreach import dispatch
from tests.factories import SourceFactory


def test_a_killed_workers_outbox_row_is_taken_back_within_a_minute() -> None:
    # one lease, then at most one dispatch tick
    assert settings.NOJACKAL_OUTBOX_LEASE_SECONDS + settings.DISPATCH_TICK_SECONDS <= 60


def test_a_killed_polls_source_is_taken_back_within_a_minute() -> None:
    assert settings.NOJACKAL_POLL_LEASE_SECONDS + settings.POLL_TICK_SECONDS <= 60


def test_the_heartbeat_renews_well_before_the_lease_runs_out() -> None:
    assert dispatch.lease_seconds() / 3 < dispatch.lease_seconds() - 1


def test_redis_gives_a_message_back_only_after_any_task_could_still_be_running() -> None:
    visibility = settings.BROKER_VISIBILITY_TIMEOUT_SECONDS
    assert visibility > settings.CELERY_TASK_TIME_LIMIT + settings.TASK_RETRY_MAX_SECONDS
    found = network_broker_settings("redis://broker:6379/0", 3.0, 1, visibility_timeout=visibility)
    assert found["broker_transport_options"]["visibility_timeout"] == visibility
    # and far sooner than kombu's default hour, which a killed poll used to wait
    assert visibility < 3600 / 4


def test_no_task_retries_later_than_the_visibility_timeout_allows() -> None:
    # A retry's countdown is spent holding the message unacknowledged: were it longer than the
    # visibility timeout, Redis would hand the message to a second worker meanwhile.
    app.loader.import_default_modules()
    retrying = [task for task in app.tasks.values() if getattr(task, "autoretry_for", ())]
    assert retrying
    for task in retrying:
        if getattr(task, "retry_backoff", False):
            assert task.retry_backoff_max <= settings.TASK_RETRY_MAX_SECONDS, task.name


@pytest.mark.django_db(transaction=True)
def test_a_restarted_beat_does_not_run_a_tick_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # given beat sending the five-minute expiry tick (the publish itself stubbed out)
    app.loader.import_default_modules()
    sent: list[Any] = []
    task = app.tasks["outreach.tasks.expire_cases"]
    monkeypatch.setattr(task, "apply_async", lambda *args, **kwargs: sent.append(kwargs))
    scheduler = DatabaseScheduler(app=app)
    entry = scheduler.schedule["expire-cases"]
    scheduler.reserve(entry)
    scheduler.apply_entry(entry)
    assert len(sent) == 1
    # when beat is killed right after and started again
    restarted = DatabaseScheduler(app=app)
    # then the tick's run was saved at once and it is not due again
    saved = PeriodicTask.objects.get(name="expire-cases").last_run_at
    assert saved is not None and saved > timezone.now() - dt.timedelta(minutes=1)
    due, _ = restarted.schedule["expire-cases"].is_due()
    assert not due


@pytest.mark.django_db
def test_a_repeated_poll_tick_claims_nothing_twice() -> None:
    SourceFactory.create_batch(3)
    now = timezone.now()
    assert len(ingest.claim_due_sources(now)) == 3
    assert ingest.claim_due_sources(now) == []


def test_admin_code_queues_work_only_through_enqueue() -> None:
    # A broker that is down must give the admin a clear message, never a 500: every admin
    # module queues through config.queueing.enqueue, which turns broker errors into one.
    import re
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    admin_modules = [
        *repo.glob("*/admin.py"),
        *repo.glob("*/*_admin.py"),
        *repo.glob("*/admin/*.py"),
    ]
    assert len(admin_modules) >= 4
    direct = re.compile(r"\.(delay|delay_on_commit|apply_async|send_task)\(")
    offenders = [
        f"{path.relative_to(repo)}:{number}"
        for path in admin_modules
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if direct.search(line)
    ]
    assert offenders == []
