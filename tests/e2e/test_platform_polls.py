"""Each real-network adapter polled by a real Celery worker on Redis, against recorded payloads.

A local HTTP server (pytest-httpserver) answers with the recorded responses in
``shared/data/platform_payloads`` (pages assembled from recorded items where one
recording holds too few, with the adapter tests' helpers), so the worker runs the
real client library, decrypts the stored credentials with the key it was given,
and writes to the test database. The server answers every request with the same
page, whatever cursor the request carries, as a server that ignores it would: the
second poll must still store nothing twice.

One worker serves the whole module, with one thread: tasks run in the order they
were queued, so a last no-op poll tells when the work a test caused (the
detection queued after new posts) is done, before the test's tables are emptied.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.db import connection
from pytest_httpserver import HTTPServer
from werkzeug import Request

from config.celery import app
from monitoring.models import Account, Post, Source
from monitoring.tasks import poll_source
from tests.monitoring.platforms import recorded
from tests.monitoring.platforms.test_bluesky import fake_jwt, sort_at
from tests.monitoring.platforms.test_hackernews import ASK, COMMENT, STORY, answer, hit
from tests.monitoring.platforms.test_mastodon import headers as mastodon_headers
from tests.monitoring.platforms.test_mastodon import id_key, pool
from tests.monitoring.platforms.test_reddit import CREDENTIALS as REDDIT_CREDENTIALS
from tests.monitoring.platforms.test_reddit import listing, thing
from tests.monitoring.platforms.test_rss import extra_item, feed_with
from tests.monitoring.platforms.test_x import envelope, tweet_pool
from tests.processes import celery, clean_env, running, wait_for

# Inside the worker started below (it imports this module with -I): what a task
# queues without naming a queue (the detection after new posts) stays on the
# test's own queue, so no other worker on the broker takes it.
QUEUE_ENV = "NOJACKAL_E2E_PLATFORM_QUEUE"
if os.environ.get(QUEUE_ENV):
    app.conf.task_default_queue = os.environ[QUEUE_ENV]

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

POLL_TIMEOUT = 30


@dataclass
class Worker:
    queue: str
    log: Path
    secrets_key: str


@pytest.fixture(scope="module")
def worker(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """One worker process for the module: Redis, a queue of its own, the test database."""
    queue = f"test-platforms-{uuid.uuid4().hex[:8]}"
    key = Fernet.generate_key().decode()
    db = connection.settings_dict
    env = clean_env(
        DJANGO_SETTINGS_MODULE="tests.settings",
        NOJACKAL_TEST_EAGER="0",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        CELERY_BROKER_URL=django_settings.CELERY_BROKER_URL,
        NOJACKAL_SECRETS_KEY=key,
        **{QUEUE_ENV: queue},
    )
    log = tmp_path_factory.mktemp("platform-worker") / "worker.log"
    args = celery("worker", "--pool", "threads", "-c", "1", "-Q", queue, "-l", "INFO")
    args += ["-I", __name__, "--without-heartbeat", "--without-gossip", "--without-mingle"]
    with running(args, env, log):
        app.conf.task_always_eager = False
        try:
            yield Worker(queue, log, key)
        finally:
            app.conf.task_always_eager = True


@pytest.fixture
def queue(worker: Worker, transactional_db: None, settings: Any) -> Iterator[Worker]:
    """The module's worker, with this process encrypting under the worker's key.

    On the way out, waits until the worker has run everything the test queued
    (it runs one task at a time, in order), so emptying the tables cannot race it.
    """
    settings.NOJACKAL_SECRETS_KEY = worker.secrets_key
    yield worker
    last = Source.objects.create(name="drain", platform="sandbox", terms=["nothing"])
    poll_source.apply_async((last.pk,), queue=worker.queue)
    wait_for(
        lambda: Source.objects.filter(pk=last.pk, last_success_at__isnull=False).exists(),
        timeout=POLL_TIMEOUT,
        what="the worker to finish the test's tasks",
        log=worker.log,
    )


@dataclass
class Case:
    """A source pointed at the local server, and what polling it must leave behind."""

    source: Source
    search_path: str
    expected_ids: list[str]
    cursor: dict[str, Any]
    resumed: Callable[[Request], bool]  # the second search request carried the cursor
    authorised: Callable[[Request], bool] = lambda request: True


def base_url(server: HTTPServer) -> str:
    return server.url_for("/").rstrip("/")


def mastodon_case(server: HTTPServer) -> Case:
    """Mastodon full-text search as an account: the recorded statuses in the recorded envelope."""
    statuses = sorted(pool(), key=lambda s: id_key(s["id"]), reverse=True)
    doc = {**recorded.body("mastodon", "search_v2_type_statuses_empty"), "statuses": statuses}
    server.expect_request("/api/v2/search").respond_with_json(
        doc, headers=mastodon_headers("search_v2_type_statuses_empty")
    )
    account = Account(
        platform="mastodon", handle="admin", options={"api_base_url": base_url(server)}
    )
    account.set_credentials({"access_token": "mastodon-token-e2e"})
    account.save()
    source = Source.objects.create(
        name="mastodon", platform="mastodon", account=account, terms=["mastodonpy"],
        options={"mode": "search", "timeout": 5},
    )  # fmt: skip
    newest = statuses[0]["id"]
    return Case(
        source=source,
        search_path="/api/v2/search",
        expected_ids=[s["id"] for s in statuses],
        cursor={"terms": {"mastodonpy": {"min": newest}}},
        resumed=lambda request: request.args.get("min_id") == newest,
        authorised=lambda request: (
            request.headers.get("Authorization") == "Bearer mastodon-token-e2e"
        ),
    )


def bluesky_case(server: HTTPServer) -> Case:
    """Bluesky searchPosts after an app-password login, both recorded (tokens stood in)."""
    session = recorded.body("bluesky", "create_session")
    # The recorded tokens were blanked upstream; unsigned stand-ins let the SDK read expiry.
    session["accessJwt"], session["refreshJwt"] = fake_jwt(3600), fake_jwt(86400)
    session["didDoc"]["service"][0]["serviceEndpoint"] = base_url(server)
    server.expect_request(
        "/xrpc/com.atproto.server.createSession", method="POST"
    ).respond_with_json(session, headers=recorded.headers("bluesky", "create_session"))
    doc = recorded.body("bluesky", "search_posts")
    server.expect_request("/xrpc/app.bsky.feed.searchPosts").respond_with_json(
        doc, headers=recorded.headers("bluesky", "search_posts")
    )
    account = Account(
        platform="bluesky", handle="bskyr.bsky.social", options={"base_url": base_url(server)}
    )
    account.set_credentials({"identifier": "bskyr.bsky.social", "password": "app-pass-e2e"})
    account.save()
    source = Source.objects.create(
        name="bluesky", platform="bluesky", account=account, terms=["redistricting"],
        options={"timeout": 5},
    )  # fmt: skip
    newest = max(doc["posts"], key=sort_at)
    return Case(
        source=source,
        search_path="/xrpc/app.bsky.feed.searchPosts",
        expected_ids=[p["uri"] for p in doc["posts"]],
        cursor={"since": sort_at(newest), "seen": [newest["uri"]]},
        resumed=lambda request: request.args.get("since") == sort_at(newest),
        authorised=lambda request: request.headers.get("Authorization", "").startswith(
            "Bearer " + session["accessJwt"]
        ),
    )


def reddit_case(server: HTTPServer) -> Case:
    """Reddit search as a script app: the recorded token, the recorded submissions by date."""
    server.expect_request("/api/v1/access_token", method="POST").respond_with_json(
        recorded.body("reddit", "oauth_access_token")
    )
    # Recorded sorted by relevance; sort=new lists the same three newest first.
    names = ["t3_3x4kt2", "t3_3gpbiu", "t3_3b4erh"]
    server.expect_request("/search/").respond_with_json(
        listing([thing("search_all", name) for name in names])
    )
    url = server.url_for("/")
    account = Account(
        platform="reddit", handle="nojackal_e2e", options={"base_url": url, "auth_url": url}
    )
    account.set_credentials(REDDIT_CREDENTIALS)
    account.save()
    source = Source.objects.create(
        name="reddit", platform="reddit", account=account, terms=["praw"], options={"timeout": 5}
    )
    newest = thing("search_all", names[0])["data"]
    token = recorded.body("reddit", "oauth_access_token")["access_token"]
    return Case(
        source=source,
        search_path="/search/",
        expected_ids=names,
        cursor={"before": newest["name"], "ts": newest["created_utc"], "seen": [newest["name"]]},
        resumed=lambda request: request.args.get("before") == newest["name"],
        authorised=lambda request: request.headers.get("Authorization") == f"bearer {token}",
    )


def x_case(server: HTTPServer) -> Case:
    """X recent search with the source's own bearer token: recorded tweets and users."""
    tweets = sorted(tweet_pool(), key=lambda t: int(t["id"]), reverse=True)
    meta = {
        "result_count": len(tweets),
        "newest_id": tweets[0]["id"],
        "oldest_id": tweets[-1]["id"],
    }
    server.expect_request("/2/tweets/search/recent").respond_with_json(
        envelope(tweets, meta), headers=recorded.headers("x", "search_recent")
    )
    source = Source(
        name="x", platform="x", terms=["tweepy"],
        options={"api_base_url": base_url(server), "timeout": 5},
    )  # fmt: skip
    source.set_credentials({"bearer_token": "x-bearer-e2e"})
    source.save()
    newest = tweets[0]["id"]
    return Case(
        source=source,
        search_path="/2/tweets/search/recent",
        expected_ids=[t["id"] for t in tweets],
        cursor={"since_id": newest},
        resumed=lambda request: request.args.get("since_id") == newest,
        authorised=lambda request: request.headers.get("Authorization") == "Bearer x-bearer-e2e",
    )


def hackernews_case(server: HTTPServer) -> Case:
    """Algolia HN search: the three recorded hits (one per recording) in one recorded envelope."""
    hits = [hit(COMMENT), hit(STORY), hit(ASK)]  # newest first, as search_by_date lists
    server.expect_request("/api/v1/search_by_date").respond_with_json(answer(hits))
    source = Source.objects.create(
        name="hn", platform="hackernews", terms=["apple", "fibonacci", "ask hn"],
        options={"base_url": server.url_for("/"), "timeout": 5},
    )  # fmt: skip
    newest = hits[0]
    return Case(
        source=source,
        search_path="/api/v1/search_by_date",
        expected_ids=[h["objectID"] for h in hits],
        cursor={"ts": newest["created_at_i"], "seen": [newest["objectID"]]},
        resumed=lambda request: (
            f"created_at_i>={newest['created_at_i']}" in request.args.get("numericFilters", "")
        ),
    )


def rss_case(server: HTTPServer) -> Case:
    """An RSS feed: the recorded item, and two copies of it with other guids and dates."""
    body = feed_with(
        extra_item("nojackal-2", "Sun, 27 Dec 2009 10:00:00 +0000", "Third item"),
        extra_item("nojackal-1", "Sat, 26 Dec 2009 10:00:00 +0000", "Second item"),
    )
    # An ETag the second poll sends back; this server answers 200 with the whole feed anyway.
    server.expect_request("/feed.xml").respond_with_data(
        body, content_type="application/rss+xml", headers={"ETag": '"feed-v1"'}
    )
    feed_url = server.url_for("/feed.xml")
    source = Source.objects.create(
        name="rss", platform="rss", terms=[], options={"feed_url": feed_url, "timeout": 5}
    )
    newest = f"{feed_url}#nojackal-2"  # guids that are not links are scoped to their feed
    recorded_guid = "http://delicious.com/url/174603f9d836a1aafac49e28ace1c19e#wearehugh"
    return Case(
        source=source,
        search_path="/feed.xml",
        expected_ids=[recorded_guid, f"{feed_url}#nojackal-1", newest],
        cursor={
            "etag": '"feed-v1"',
            "modified": "",
            "ts": int(dt.datetime(2009, 12, 27, 10, tzinfo=dt.UTC).timestamp()),
            "seen": [newest],
            "undated": [],
        },
        resumed=lambda request: request.headers.get("If-None-Match") == '"feed-v1"',
    )


CASES: dict[str, Callable[[HTTPServer], Case]] = {
    "mastodon": mastodon_case,
    "bluesky": bluesky_case,
    "reddit": reddit_case,
    "x": x_case,
    "hackernews": hackernews_case,
    "rss": rss_case,
}


def poll_and_wait(source: Source, worker: Worker) -> Source:
    """Queue one poll on the worker's queue and wait until the worker has recorded it."""
    before = Source.objects.get(pk=source.pk).last_polled_at
    poll_source.apply_async((source.pk,), queue=worker.queue)
    wait_for(
        lambda: Source.objects.get(pk=source.pk).last_polled_at != before,
        timeout=POLL_TIMEOUT,
        what=f"the worker to poll the {source.platform} source",
        log=worker.log,
    )
    return Source.objects.get(pk=source.pk)


def assert_healthy(source: Source) -> None:
    assert source.last_error == "" and source.disabled_reason == ""
    assert source.enabled and source.failure_count == 0
    assert source.last_success_at == source.last_polled_at


def stored_ids(platform: str) -> list[str]:
    return sorted(Post.objects.filter(platform=platform).values_list("external_id", flat=True))


@pytest.mark.parametrize("platform", list(CASES))
def test_a_real_worker_stores_each_recorded_post_once_across_two_polls(
    platform: str, queue: Worker, httpserver: HTTPServer
) -> None:
    # given a source pointed at a local server answering with the recorded payloads
    case = CASES[platform](httpserver)
    assert len(set(case.expected_ids)) == len(case.expected_ids) > 1

    # when a real worker polls it
    first = poll_and_wait(case.source, queue)

    # then every recorded post is stored once, for this source, raw payload kept
    assert_healthy(first)
    assert stored_ids(platform) == sorted(case.expected_ids)
    assert first.posts_ingested == len(case.expected_ids)
    posts = Post.objects.filter(platform=platform)
    assert all(post.source_id == case.source.pk and post.raw for post in posts)
    # and the cursor moved to the newest post
    assert json.loads(first.cursor) == case.cursor
    searches = [req for req, _ in httpserver.log if req.path == case.search_path]
    assert len(searches) == 1 and case.authorised(searches[0])

    # when it polls again and the server answers with the same page
    second = poll_and_wait(case.source, queue)

    # then the request resumed from the cursor and nothing was stored twice
    searches = [req for req, _ in httpserver.log if req.path == case.search_path]
    assert len(searches) == 2 and case.resumed(searches[1]) and case.authorised(searches[1])
    assert_healthy(second)
    assert stored_ids(platform) == sorted(case.expected_ids)
    assert second.posts_ingested == len(case.expected_ids)
    assert json.loads(second.cursor) == case.cursor
