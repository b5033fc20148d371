"""A broker that stops answering, or refuses, is an error within seconds (issue #14, fault 3).

Each test puts a loopback proxy (tests/broker_proxy.py) or a closed port between nojackal and
the real Redis, with the timeouts and publish retry policy of config/settings.py, and checks
that the admin's "Poll now" answers with a message and that beat's publish fails and logs.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from celery import Celery
from celery.beat import ScheduleEntry, Scheduler
from django.conf import settings
from django.urls import reverse

from config.broker import network_broker_settings
from config.queueing import QueueUnavailable, enqueue
from monitoring.tasks import poll_source
from tests.broker_proxy import RETRIES, TIMEOUT, BrokerProxy, nojackal_broker_at, refused_address
from tests.factories import SourceFactory

# The bound a test accepts: (retries + 1) attempts of one timeout each, and a little slack.
DEADLINE_SECONDS = (RETRIES + 1) * TIMEOUT + 4


def _redis() -> tuple[tuple[str, int], str]:
    """The real Redis of the test run: its address and the path (db) to use through a proxy."""
    parts = urlsplit(os.environ.get("CELERY_BROKER_URL", settings.CELERY_BROKER_URL))
    return (parts.hostname or "127.0.0.1", parts.port or 6379), parts.path or "/0"


@pytest.fixture(autouse=True)
def _drop_test_messages() -> Iterator[None]:
    """Remove what the working publishes left in the test Redis, so no later worker runs it."""
    import redis

    (host, port), db = _redis()
    yield
    with redis.Redis(host=host, port=port, db=int(db.strip("/") or 0)) as client:
        client.delete("celery", "beat-fault-test")


def test_nojackal_settings_carry_the_broker_timeouts() -> None:
    # The test run's own settings (a Redis URL) got them from config/settings.py
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["socket_timeout"] > 0
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["socket_connect_timeout"] > 0
    assert settings.CELERY_TASK_PUBLISH_RETRY_POLICY["max_retries"] <= 3


def test_settings_bound_every_redis_socket_wait_and_retry_publishes_a_few_times() -> None:
    # Given a Redis URL, a 3 s timeout and one retry
    found = network_broker_settings("redis://broker:6379/0", 3.0, 1)

    # Then connects and commands are bounded and a publish is retried once
    assert found["broker_transport_options"] == {
        "socket_timeout": 3.0,
        "socket_connect_timeout": 3.0,
    }
    assert found["broker_connection_timeout"] == 3.0
    assert found["task_publish_retry"] is True
    assert found["task_publish_retry_policy"]["max_retries"] == 1


def test_settings_bound_amqp_reads_and_writes_and_confirm_each_publish() -> None:
    found = network_broker_settings("amqp://guest:guest@broker:5672//", 2.0, 0)
    assert found["broker_transport_options"] == {
        "read_timeout": 2.0,
        "write_timeout": 2.0,
        "confirm_publish": True,
    }
    assert found["broker_connection_timeout"] == 2.0


def _poll_now(admin_client, source) -> tuple[Any, float]:
    """The admin's "Poll now" on ``source``: the page it answers with, and how long it took."""
    started = time.monotonic()
    response = admin_client.post(
        reverse("admin:monitoring_source_changelist"),
        {"action": "poll_now", "_selected_action": [source.pk]},
        follow=True,
    )
    return response, time.monotonic() - started


@pytest.mark.django_db
def test_poll_now_with_a_silent_broker_answers_within_seconds_with_a_message(admin_client) -> None:
    # Given a broker that accepts connections but answers nothing
    upstream, db = _redis()
    source = SourceFactory(name="silent")
    with BrokerProxy(upstream) as proxy:
        proxy.silent = True
        with nojackal_broker_at(proxy.url("redis", db)):
            # When an admin asks for a poll
            response, took = _poll_now(admin_client, source)

    # Then the page answers within seconds and says the queue is not answering
    assert response.status_code == 200
    assert took < DEADLINE_SECONDS
    body = response.content.decode()
    assert "The task queue at redis://" in body
    assert "Timeout" in body
    assert "nothing was queued" in body
    assert "Polls queued before it failed: 0." in body


@pytest.mark.django_db
def test_poll_now_with_a_refusing_broker_answers_with_a_message_not_a_500(admin_client) -> None:
    # Given a broker address where nothing listens
    host, port = refused_address()
    _, db = _redis()
    source = SourceFactory(name="refused")
    with nojackal_broker_at(f"redis://{host}:{port}{db}"):
        # When an admin asks for a poll
        response, took = _poll_now(admin_client, source)

    # Then the admin shows the failure as a message on a normal page
    assert response.status_code == 200
    assert took < DEADLINE_SECONDS
    assert "nothing was queued" in response.content.decode()


@pytest.mark.django_db
def test_enqueue_through_a_working_broker_returns_the_task_id() -> None:
    # Given the proxy relaying to the real Redis
    upstream, db = _redis()
    with BrokerProxy(upstream) as proxy, nojackal_broker_at(proxy.url("redis", db)):
        # When a task is queued, Then it gets an id (and the silent tests above are not
        # passing merely because the proxy never works)
        assert enqueue(poll_source, 0)
        proxy.silent = True
        with pytest.raises(QueueUnavailable):
            enqueue(poll_source, 0)


def _scheduler_app(url: str) -> Celery:
    """A Celery app with nojackal's broker settings, for beat's own Scheduler."""
    app = Celery("beat_fault_test", fixups=[], set_as_current=False)
    app.conf.update(network_broker_settings(url, TIMEOUT, RETRIES), broker_url=url)
    return app


def test_beat_publish_to_a_broker_gone_silent_fails_within_seconds_and_logs(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given beat publishing through the proxy, which works at first
    upstream, db = _redis()
    with BrokerProxy(upstream) as proxy:
        # Celery reads CELERY_BROKER_URL from the environment before any app's broker_url.
        monkeypatch.setenv("CELERY_BROKER_URL", proxy.url("redis", db))
        app = _scheduler_app(proxy.url("redis", db))
        scheduler = Scheduler(app, lazy=True)
        entry = ScheduleEntry(
            name="tick",
            task="beat_fault_test.tick",
            schedule=60.0,
            app=app,
            options={"queue": "beat-fault-test", "expires": 5},
        )
        caplog.set_level(logging.INFO, logger="celery.beat")
        scheduler.apply_entry(entry, producer=scheduler.producer)
        assert "Message Error" not in caplog.text

        # When the broker goes silent and the next tick is due
        proxy.silent = True
        started = time.monotonic()
        scheduler.apply_entry(entry, producer=scheduler.producer)
        took = time.monotonic() - started
        app.close()

    # Then beat gave up on that tick within seconds and logged why, instead of blocking
    assert took < DEADLINE_SECONDS
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and "Message Error" in errors[0].getMessage()
