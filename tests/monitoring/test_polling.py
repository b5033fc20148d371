"""The polling loop: claiming due sources, storing pages exactly once, backing off, disabling."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
import time_machine
from django.utils import timezone

from monitoring import ingest
from monitoring.models import Person, Post, Source
from monitoring.platforms import PermanentError, TransientError
from monitoring.platforms.sandbox import SandboxPlatform
from monitoring.tasks import poll_due_sources, poll_source
from tests.factories import SandboxPostFactory, SourceFactory

pytestmark = pytest.mark.django_db


def test_polling_twice_stores_each_post_once():
    # Given three matching posts on the network
    SandboxPostFactory.create_batch(3)
    source = SourceFactory()
    # When the source is polled twice
    first = ingest.poll(source.pk)
    second = ingest.poll(source.pk)
    # Then the posts and their authors are stored once
    assert (first, second) == (3, 0)
    assert Post.objects.count() == 3
    assert Person.objects.count() == 3
    source.refresh_from_db()
    assert source.posts_ingested == 3
    assert source.cursor


def test_poll_resumes_from_cursor_and_sees_only_new_posts():
    SandboxPostFactory.create_batch(2)
    source = SourceFactory()
    ingest.poll(source.pk)
    SandboxPostFactory(text="telvana billed me twice this month")
    assert ingest.poll(source.pk) == 1
    assert Post.objects.filter(text__contains="billed me twice").exists()


def test_posts_not_matching_the_terms_are_not_stored():
    SandboxPostFactory(text="lovely weather today")
    SandboxPostFactory(text="Telvana's app crashes on login")
    source = SourceFactory(terms=["telvana"])
    assert ingest.poll(source.pk) == 1


def test_exclusions_drop_a_post():
    SandboxPostFactory(text="zephyrline is down again")
    SandboxPostFactory(text="the zephyr blew all night")
    source = SourceFactory(terms=["zephyrline", "zephyr"], exclusions=["zephyr blew"])
    assert ingest.poll(source.pk) == 1


def test_a_page_is_stored_in_the_same_number_of_queries_whatever_its_size():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from monitoring.platforms import PersonData, PostData
    from monitoring.platforms.base import Page

    source = SourceFactory()
    now = timezone.now()

    def page(first: int, size: int) -> Page:
        posts = [
            PostData(
                external_id=f"p{i}",
                # Some authors new, some already stored, some twice in the page.
                author=PersonData(external_id=f"a{i // 2}", handle=f"a{i // 2}@example.org"),
                text=f"post {i}",
                url="",
                posted_at=now,
                raw={"id": i},
            )
            for i in range(first, first + size)
        ]
        return Page(posts=posts, cursor=str(first + size))

    queries = []
    # Sizes within one statement on both databases (SQLite takes 999 parameters).
    for first, size in ((0, 3), (2, 60)):
        with CaptureQueriesContext(connection) as ctx:
            created = ingest.store_page(source, page(first, size))
        queries.append(len(ctx.captured_queries))
        assert created == first + size - max(first, 3 if first else 0)
    assert queries[0] == queries[1]
    assert Post.objects.count() == 62
    assert Person.objects.count() == 31
    assert set(Post.objects.values_list("author__external_id", flat=True)) == {
        f"a{i}" for i in range(31)
    }


def test_a_page_stores_every_value_exactly_as_the_adapter_gave_it():
    from monitoring.platforms import PersonData, PostData
    from monitoring.platforms.base import Page

    source = SourceFactory()
    now = timezone.now()
    values = [
        'say "hi", {a,b} \\ back\\',
        "NULL",
        "",
        "line\nbreak\ttab",
        "😀 café \u2028 \\u0000 typed",
        "{}",
        "'; DROP TABLE monitoring_post; --",
    ]
    posts = [
        PostData(
            external_id=f"x{i}",
            author=PersonData(
                external_id=f"a{i}", handle=f'h"{i}\\', display_name=value, profile_url=value
            ),
            text=value,
            url=value,
            posted_at=now + dt.timedelta(microseconds=i),
            in_reply_to=value,
            lang=value[:10],
            raw={"content": value, "nested": [value, {value: 1.5}], "n": 2**60},
        )
        for i, value in enumerate(values)
    ]
    assert ingest.store_page(source, Page(posts=posts, cursor='{"min": "x6"}')) == len(values)
    stored = {p.external_id: p for p in Post.objects.select_related("author")}
    for post in posts:
        row = stored[post.external_id]
        assert (row.text, row.url, row.lang, row.in_reply_to) == (
            post.text,
            post.url,
            post.lang,
            post.in_reply_to,
        )
        assert row.posted_at == post.posted_at
        assert row.raw == post.raw
        author = row.author
        assert (author.handle, author.display_name, author.profile_url) == (
            post.author.handle,
            post.author.display_name,
            post.author.profile_url,
        )
    source.refresh_from_db()
    assert source.cursor == '{"min": "x6"}'
    assert source.posts_ingested == len(values)


def test_a_failure_mid_ingest_leaves_the_cursor_and_stores_nothing():
    SandboxPostFactory.create_batch(3)
    source = SourceFactory()
    # The posts fail after their people were written (either database's way of writing).
    with mock.patch.object(ingest, "_post_fields", side_effect=RuntimeError("disk full")):
        ingest.poll(source.pk)
    source.refresh_from_db()
    assert source.cursor == ""
    assert Post.objects.count() == 0
    assert Person.objects.count() == 0
    assert source.failure_count == 1
    assert "disk full" in source.last_error
    # And once the fault is gone the next poll picks everything up.
    assert ingest.poll(source.pk) == 3


def test_a_transient_error_backs_the_source_off():
    source = SourceFactory()
    now = timezone.now()
    with (
        time_machine.travel(now, tick=False),
        mock.patch.object(
            SandboxPlatform, "search", side_effect=TransientError("503", retry_after=600)
        ),
    ):
        ingest.poll(source.pk)
    source.refresh_from_db()
    assert source.enabled
    assert source.failure_count == 1
    assert source.last_error == "503"
    # Retry-After wins over a shorter back-off.
    assert source.next_poll_at >= now + dt.timedelta(seconds=600)


def test_repeated_transient_errors_back_off_longer_up_to_the_ceiling(settings):
    settings.NOJACKAL_BACKOFF_BASE_SECONDS = 60
    settings.NOJACKAL_BACKOFF_MAX_SECONDS = 3600
    delays = [ingest.backoff_delay(n) for n in range(1, 12)]
    assert 30 <= delays[0] <= 60
    assert 240 <= delays[3] <= 480
    assert all(1800 <= d <= 3600 for d in delays[6:])


def test_a_permanent_error_disables_the_source_with_the_reason():
    source = SourceFactory()
    with mock.patch.object(
        SandboxPlatform, "search", side_effect=PermanentError("401: The access token is invalid")
    ):
        ingest.poll(source.pk)
    source.refresh_from_db()
    assert not source.enabled
    assert source.disabled_reason == "401: The access token is invalid"


def test_a_disabled_source_is_not_polled():
    SandboxPostFactory()
    source = SourceFactory(enabled=False)
    assert ingest.poll(source.pk) == 0
    assert Post.objects.count() == 0


def test_a_malformed_item_is_skipped_without_losing_the_page(caplog):
    good = SandboxPostFactory()
    SandboxPostFactory()
    source = SourceFactory()
    real = SandboxPlatform._search_items

    def corrupt(self, cursor, now):
        items, next_cursor = real(self, cursor, now)
        items[1] = {**items[1], "published_at": 12345}  # wrong type
        items.append({"id": "x", "author": {"id": "u"}})  # missing fields
        items.append({"id": "y", "text": ["not", "a", "string"], "author": "nobody"})
        return items, next_cursor

    with mock.patch.object(SandboxPlatform, "_search_items", corrupt):
        created = ingest.poll(source.pk)
    assert created == 1
    assert Post.objects.get().external_id == str(good.pk)
    assert "malformed" in caplog.text
    source.refresh_from_db()
    assert source.enabled and source.failure_count == 0


def test_claiming_takes_only_due_sources_and_never_twice():
    now = timezone.now()
    due = SourceFactory(next_poll_at=now - dt.timedelta(seconds=1))
    SourceFactory(next_poll_at=now + dt.timedelta(minutes=5))
    SourceFactory(next_poll_at=now - dt.timedelta(seconds=1), enabled=False)
    assert ingest.claim_due_sources(now) == [due.pk]
    assert ingest.claim_due_sources(now) == []


def test_a_claimed_source_comes_back_after_its_lease_if_the_poll_never_reports(settings):
    settings.NOJACKAL_POLL_LEASE_SECONDS = 300
    now = timezone.now()
    source = SourceFactory(next_poll_at=now)
    ingest.claim_due_sources(now)
    assert ingest.claim_due_sources(now + dt.timedelta(seconds=299)) == []
    assert ingest.claim_due_sources(now + dt.timedelta(seconds=301)) == [source.pk]


def test_the_tick_queues_a_poll_per_due_source_and_schedules_the_next():
    SandboxPostFactory()
    source = SourceFactory(cadence_seconds=120)
    before = timezone.now()
    assert poll_due_sources.delay().get() == 1
    source.refresh_from_db()
    assert Post.objects.count() == 1
    assert source.last_success_at is not None
    assert source.next_poll_at >= before + dt.timedelta(seconds=120)


def test_poll_task_for_a_deleted_source_does_nothing():
    assert poll_source.delay(987654).get() == 0


def test_a_429_on_one_source_holds_every_source_of_that_account(secrets_key):
    from monitoring.models import Account

    account = Account.objects.create(platform="sandbox", handle="northwind_care")
    first = SourceFactory(account=account)
    second = SourceFactory(account=account)
    with mock.patch.object(
        SandboxPlatform, "search", side_effect=TransientError("429", retry_after=900)
    ) as search:
        ingest.poll(first.pk)
        ingest.poll(second.pk)
    assert search.call_count == 1  # the second source did not spend a request
    account.refresh_from_db()
    second.refresh_from_db()
    assert account.rate_limited_until is not None
    assert second.next_poll_at == account.rate_limited_until


def test_a_source_searches_with_its_accounts_credentials_and_its_own(secrets_key):
    from monitoring.models import Account

    account = Account(platform="sandbox", handle="northwind_care", options={"lang": "en"})
    account.set_credentials({"access_token": "acct-token"})
    account.save()
    source = SourceFactory(account=account, options={"mode": "hashtag"})
    source.set_credentials({"bearer": "source-token"})
    source.save()
    credentials, options = Source.objects.get(pk=source.pk).adapter_settings()
    assert credentials == {"access_token": "acct-token", "bearer": "source-token"}
    assert options == {"lang": "en", "handle": "northwind_care", "mode": "hashtag"}
