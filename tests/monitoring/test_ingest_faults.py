"""Polling under faults: a broken page backs off, only access and configuration disable,
and a source that stays broken tells the team once per episode.

The sandbox adapter is pointed at a local HTTP server (pytest-httpserver), so the
page really comes over HTTP and is really cut short.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from pytest_httpserver import HTTPServer

from monitoring import ingest
from monitoring.models import Source
from tests.factories import SourceFactory
from tests.monitoring.platforms import faults

pytestmark = pytest.mark.django_db

PAGE = {
    "items": [
        {
            "id": "5",
            "text": "<script>alert('telvana')</script> telvana lost my order",
            "author": {"id": "p1", "handle": "sam"},
        }
    ],
    "cursor": "5",
}


@pytest.fixture(autouse=True)
def alert_by_email(settings: Any) -> None:
    settings.NOJACKAL_ALERT_EMAILS = ["team@example.com"]
    settings.NOJACKAL_ALERT_URLS = []
    settings.NOJACKAL_SOURCE_ALERT_AFTER_SECONDS = 3600


@pytest.fixture
def source(httpserver: HTTPServer) -> Source:
    return SourceFactory(options={"base_url": httpserver.url_for("").rstrip("/")})


def serve_cut_page(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/posts/").respond_with_handler(faults.answer("cut_short", PAGE))


def test_a_malformed_search_page_backs_off_and_keeps_the_raw_answer(
    httpserver: HTTPServer, source: Source
) -> None:
    serve_cut_page(httpserver)
    before = timezone.now()
    assert ingest.poll(source.pk) == 0
    source.refresh_from_db()
    assert source.enabled
    assert source.failure_count == 1
    assert source.next_poll_at > before
    assert source.last_raw_answer == faults.cut(PAGE).decode()
    assert source.failing_since is not None
    assert mail.outbox == []  # one broken page is not worth waking anyone


def test_the_raw_answer_is_shown_escaped_in_the_admin(
    httpserver: HTTPServer, source: Source, admin_client: Any
) -> None:
    serve_cut_page(httpserver)
    ingest.poll(source.pk)
    page = admin_client.get(reverse("admin:monitoring_source_change", args=[source.pk]))
    html = page.content.decode()
    assert "&lt;script&gt;alert(" in html
    assert "<script>alert(" not in html


def test_an_authentication_error_disables_the_source_and_tells_the_team_once(
    httpserver: HTTPServer, source: Source
) -> None:
    httpserver.expect_request("/posts/").respond_with_json(
        {"error": "The access token is invalid"}, status=401
    )
    ingest.poll(source.pk)
    source.refresh_from_db()
    assert not source.enabled
    assert "The access token is invalid" in source.disabled_reason
    [alert] = mail.outbox
    assert "disabled" in alert.subject
    assert "The access token is invalid" in alert.body
    # a poll of the disabled source (a queued message) tells nobody again
    ingest._disable(source, "still refused")
    assert len(mail.outbox) == 1


def test_a_source_failing_longer_than_the_setting_alerts_once_per_episode(
    httpserver: HTTPServer, source: Source
) -> None:
    httpserver.expect_request("/posts/").respond_with_json({"error": "upstream down"}, status=503)
    start = timezone.now()
    # failing, but not yet for long: nobody is told
    with time_machine.travel(start, tick=False):
        ingest.poll(source.pk)
    assert mail.outbox == []
    # past the setting: one alert with the platform's message
    for minutes in (61, 90, 150):
        with time_machine.travel(start + dt.timedelta(minutes=minutes), tick=False):
            ingest.poll(source.pk)
    [alert] = mail.outbox
    assert "upstream down" in alert.body
    source.refresh_from_db()
    assert source.enabled
    # a success ends the episode; the next long failure is a new one, with its own alert
    httpserver.clear()
    httpserver.expect_request("/posts/").respond_with_json({"items": [], "cursor": ""})
    with time_machine.travel(start + dt.timedelta(minutes=200), tick=False):
        ingest.poll(source.pk)
    source.refresh_from_db()
    assert (source.failing_since, source.alerted_at) == (None, None)
    httpserver.clear()
    httpserver.expect_request("/posts/").respond_with_json({"error": "down again"}, status=503)
    for minutes in (300, 400):
        with time_machine.travel(start + dt.timedelta(minutes=minutes), tick=False):
            ingest.poll(source.pk)
    assert len(mail.outbox) == 2
    assert "down again" in mail.outbox[1].body


def test_enable_in_the_admin_starts_a_new_episode(source: Source, admin_client: Any) -> None:
    Source.objects.filter(pk=source.pk).update(
        enabled=False, failing_since=timezone.now(), alerted_at=timezone.now()
    )
    admin_client.post(
        reverse("admin:monitoring_source_changelist"),
        {"action": "enable_sources", "_selected_action": [source.pk]},
    )
    source.refresh_from_db()
    assert source.enabled
    assert (source.failing_since, source.alerted_at) == (None, None)


def test_a_poll_in_progress_holds_its_source_page_after_page(source: Source, settings: Any) -> None:
    settings.NOJACKAL_POLL_LEASE_SECONDS = 30
    adapter_page = ingest.Page(posts=[], cursor="9")
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        ingest.store_page(source, adapter_page)
    source.refresh_from_db()
    # each stored page pushes the claim a lease ahead: no other tick takes the source meanwhile
    assert source.next_poll_at == now + dt.timedelta(seconds=30)
    assert source.pk not in ingest.claim_due_sources(now + dt.timedelta(seconds=29))
