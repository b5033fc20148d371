"""X adapter against recorded X API v2 payloads (tweepy's own recordings), served by a local
HTTP server or replayed from tweepy's vcrpy cassettes, so tweepy does the HTTP and parsing.

The recordings asked for no tweet.fields, so their tweets carry only id and text. Where
a test needs what our requests ask for (author_id and the expanded users), it adds them
from the recorded users (liking_users.json); created_at is then derived from the
snowflake id, as the adapter does when X leaves it out.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
import vcr
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from monitoring.platforms.base import (
    NotificationKind,
    PermanentError,
    PersonData,
    PostData,
    SearchQuery,
    TransientError,
    UnknownOutcome,
)
from monitoring.platforms.x import XPlatform
from tests.monitoring.platforms import faults, recorded

OWN_ID = "1072250532645998596"  # @TweepyDev in users_me.json
SECRETS = {
    "bearer_token": "bearer-secret-never-logged",
    "consumer_key": "ck",
    "consumer_secret": "cs-secret",
    "access_token": f"{OWN_ID}-at",
    "access_token_secret": "ats-secret",
}
QUERY = SearchQuery(terms=["tweepy"])
TOO_MANY = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank"}


def body(name: str) -> Any:
    return recorded.body("x", name)


def headers(name: str) -> dict[str, str]:
    return recorded.headers("x", name)


def users() -> list[dict[str, Any]]:
    return body("liking_users")["data"]


def attributed(tweets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Recorded tweets with the author_id our requests ask for, from recorded users."""
    pool = users()
    return [{**t, "author_id": pool[i % len(pool)]["id"]} for i, t in enumerate(tweets)]


def tweet_pool() -> list[dict[str, Any]]:
    return attributed(body("search_recent")["data"] + body("users_mentions")["data"])


def envelope(tweets: list[dict[str, Any]], meta: dict[str, Any] | None = None) -> dict:
    return {
        "data": tweets,
        "includes": {"users": users()},
        "meta": meta or {"result_count": len(tweets)},
    }


def key(tweet: dict[str, Any]) -> int:
    return int(tweet["id"])


def timeline_server(tweets: list[dict[str, Any]], token: str) -> Callable[[Request], Response]:
    """Recent search / mentions as X answers them: newest first, since_id, a page token."""

    def handle(request: Request) -> Response:
        found = sorted(tweets, key=key, reverse=True)
        if "since_id" in request.args:
            found = [t for t in found if key(t) > int(request.args["since_id"])]
        offset = int(request.args.get(token, "0"))
        size = int(request.args.get("max_results", "10"))
        page = found[offset : offset + size]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta.update(newest_id=page[0]["id"], oldest_id=page[-1]["id"])
        if offset + size < len(found):
            meta["next_token"] = str(offset + size)
        doc = envelope(page, meta) if page else {"meta": meta}
        return Response(
            json.dumps(doc), headers=headers("search_recent"), content_type="application/json"
        )

    return handle


@pytest.fixture
def make(httpserver: HTTPServer) -> Callable[..., XPlatform]:
    def build(credentials: dict[str, str] | None = None, **options: Any) -> XPlatform:
        return XPlatform(
            credentials=SECRETS if credentials is None else credentials,
            options={
                "api_base_url": httpserver.url_for("/").rstrip("/"),
                "timeout": 2,
                "handle": "TweepyDev",
                "user_id": OWN_ID,
                **options,
            },
        )

    return build


@pytest.fixture
def platform(make: Callable[..., XPlatform]) -> XPlatform:
    return make()


def ids(items: Any) -> list[str]:
    return [p.external_id for p in items]


# --- search ---------------------------------------------------------------------------------


def test_search_walks_two_pages_without_skipping(
    httpserver: HTTPServer, make: Callable[..., XPlatform]
) -> None:
    # given a source that stored the oldest recorded tweet; 19 newer ones are found
    tweets = tweet_pool()
    oldest = min(tweets, key=key)["id"]
    httpserver.expect_request("/2/tweets/search/recent").respond_with_handler(
        timeline_server(tweets, "next_token")
    )
    platform = make(page_size=10)
    first = platform.search(QUERY, json.dumps({"since_id": oldest}))
    second = platform.search(QUERY, first.cursor)
    # then two pages bring every newer tweet once, each oldest first
    assert first.has_more and not second.has_more
    assert (len(first.posts), len(second.posts)) == (10, 9)
    got = ids(first.posts) + ids(second.posts)
    assert sorted(got) == sorted(t["id"] for t in tweets if t["id"] != oldest)
    assert [p.posted_at for p in first.posts] == sorted(p.posted_at for p in first.posts)
    # and the second request walked down with the page token, still bounded by since_id
    request, _ = httpserver.log[-1]
    assert (request.args["since_id"], request.args["next_token"]) == (oldest, "10")
    # and the next poll starts after the newest tweet
    third = platform.search(QUERY, second.cursor)
    assert third.posts == [] and not third.has_more
    newest = max(tweets, key=key)["id"]
    assert json.loads(third.cursor) == {"since_id": newest}


def test_failed_poll_half_way_keeps_the_walk(
    httpserver: HTTPServer, make: Callable[..., XPlatform]
) -> None:
    tweets = tweet_pool()
    oldest = min(tweets, key=key)["id"]
    handler = timeline_server(tweets, "next_token")
    httpserver.expect_request("/2/tweets/search/recent").respond_with_handler(handler)
    platform = make(page_size=10)
    first = platform.search(QUERY, json.dumps({"since_id": oldest}))
    httpserver.clear()
    httpserver.expect_oneshot_request("/2/tweets/search/recent").respond_with_json(
        {"title": "Service Unavailable", "detail": "Service Unavailable", "type": "about:blank"},
        status=503,
    )
    with pytest.raises(TransientError):
        platform.search(QUERY, first.cursor)
    httpserver.expect_request("/2/tweets/search/recent").respond_with_handler(handler)
    second = platform.search(QUERY, first.cursor)
    assert len(set(ids(first.posts)) | set(ids(second.posts))) == 19


def test_recorded_tweet_maps_to_post_and_person(
    httpserver: HTTPServer, platform: XPlatform
) -> None:
    doc = envelope(tweet_pool()[:10], body("search_recent")["meta"])
    httpserver.expect_request("/2/tweets/search/recent").respond_with_json(
        doc, headers=headers("search_recent")
    )
    page = platform.search(QUERY, "")
    newest = page.posts[-1]
    assert newest.external_id == "1578516068309794817"
    assert newest.text == "2022-10-07 22:42:12.637103 tweepy"
    # X leaves created_at out unless asked; the snowflake id still dates the tweet
    assert newest.posted_at == dt.datetime(2022, 10, 7, 22, 42, 12, 752000, tzinfo=dt.UTC)
    assert newest.author == PersonData(
        external_id=users()[0]["id"],
        handle=users()[0]["username"],
        display_name=users()[0]["name"],
        profile_url=f"https://x.com/{users()[0]['username']}",
    )
    assert newest.url == f"https://x.com/{users()[0]['username']}/status/1578516068309794817"
    assert page.rate_limit is not None and (page.rate_limit.limit, page.rate_limit.remaining) == (
        450,
        448,
    )
    assert json.loads(page.cursor) == {"since_id": "1578516068309794817"}
    request, _ = httpserver.log[-1]
    assert request.headers["Authorization"] == f"Bearer {SECRETS['bearer_token']}"
    assert "author_id" in request.args["tweet.fields"]


def test_recorded_cassette_replays_through_tweepy() -> None:
    # given tweepy's own recorded recent search (no tweet.fields were asked: no authors)
    platform = XPlatform(credentials={"bearer_token": "x"}, options={"timeout": 2})
    cassette = recorded.cassette("x", "test_client_search_recent_tweets.yaml")
    with vcr.use_cassette(str(cassette), record_mode="none", match_on=["method", "path"]):
        page = platform.search(QUERY, "")
    # then tweets that cannot be attributed are skipped, and the cursor still moves past them
    assert page.posts == [] and page.skipped == 10
    assert json.loads(page.cursor) == {"since_id": "1578516068309794817"}
    assert page.rate_limit is not None and page.rate_limit.limit == 450


def test_entities_in_text_are_decoded(httpserver: HTTPServer, platform: XPlatform) -> None:
    tweet = {**tweet_pool()[0], "text": "Q&amp;A &lt;3 @TweepyDev"}
    httpserver.expect_request("/2/tweets/search/recent").respond_with_json(envelope([tweet]))
    (post,) = platform.search(QUERY, "").posts
    assert post.text == "Q&A <3 @TweepyDev"


def test_debug_logging_never_writes_credentials(
    httpserver: HTTPServer, platform: XPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    httpserver.expect_request("/2/tweets/search/recent").respond_with_json(
        envelope(tweet_pool()[:10])
    )
    with caplog.at_level(logging.DEBUG):
        platform.search(QUERY, "")
    assert caplog.records  # something was logged at debug level
    for secret in SECRETS.values():
        assert secret not in caplog.text


def test_empty_page_keeps_the_cursor(httpserver: HTTPServer, platform: XPlatform) -> None:
    httpserver.expect_request("/2/tweets/search/recent").respond_with_json(
        {"meta": {"result_count": 0}}, headers=headers("search_recent")
    )
    cursor = json.dumps({"since_id": "1578516068309794817"})
    page = platform.search(QUERY, cursor)
    assert page.posts == [] and not page.has_more
    assert json.loads(page.cursor) == json.loads(cursor)


def test_malformed_tweets_are_logged_and_skipped(
    httpserver: HTTPServer, platform: XPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    tweets = tweet_pool()[:10]
    del tweets[2]["author_id"]
    del tweets[5]["text"]
    httpserver.expect_request("/2/tweets/search/recent").respond_with_json(envelope(tweets))
    with caplog.at_level(logging.WARNING):
        page = platform.search(QUERY, "")
    assert page.skipped == 2 and len(page.posts) == 8
    assert json.loads(page.cursor) == {"since_id": max(t["id"] for t in tweets)}
    for secret in SECRETS.values():
        assert secret not in caplog.text


def test_429_with_retry_after(httpserver: HTTPServer, platform: XPlatform) -> None:
    httpserver.expect_request("/2/tweets/search/recent").respond_with_json(
        {**TOO_MANY, "status": 429},
        status=429,
        headers={
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(int(dt.datetime.now(dt.UTC).timestamp()) + 900),
            "retry-after": "120",
        },
    )
    with pytest.raises(TransientError, match="Too Many Requests") as caught:
        platform.search(QUERY, "")
    assert caught.value.retry_after == 120.0


def test_429_waits_for_the_reset(httpserver: HTTPServer, platform: XPlatform) -> None:
    reset = int(dt.datetime.now(dt.UTC).timestamp()) + 300
    httpserver.expect_request("/2/tweets/search/recent").respond_with_json(
        {**TOO_MANY, "status": 429},
        status=429,
        headers={
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset),
        },
    )
    with pytest.raises(TransientError) as caught:
        platform.search(QUERY, "")
    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 300


def test_401_is_permanent_with_xs_message(httpserver: HTTPServer, platform: XPlatform) -> None:
    httpserver.expect_request("/2/tweets/search/recent").respond_with_json(
        {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
        status=401,
    )
    with pytest.raises(PermanentError, match="401 Unauthorized") as caught:
        platform.search(QUERY, "")
    assert SECRETS["bearer_token"] not in str(caught.value)


def test_500_then_success(httpserver: HTTPServer, platform: XPlatform) -> None:
    httpserver.expect_oneshot_request("/2/tweets/search/recent").respond_with_json(
        {"title": "Internal Server Error", "detail": "Internal Server Error", "status": 500},
        status=500,
    )
    httpserver.expect_request("/2/tweets/search/recent").respond_with_json(
        envelope(tweet_pool()[:10])
    )
    with pytest.raises(TransientError, match="500"):
        platform.search(QUERY, "")
    assert len(platform.search(QUERY, "").posts) == 10


def test_network_fault_is_transient() -> None:
    platform = XPlatform(
        credentials=SECRETS, options={"api_base_url": "http://127.0.0.1:9", "timeout": 1}
    )
    with pytest.raises(TransientError, match="unreachable"):
        platform.search(QUERY, "")


def test_query_ors_terms_and_drops_exclusions_and_retweets() -> None:
    query = SearchQuery(
        terms=["acme", "acme cloud"], exclusions=["jobs", "hiring now"], language="en"
    )
    assert XPlatform.build_query(query) == (
        '(acme OR "acme cloud") -jobs -"hiring now" -is:retweet lang:en'
    )


@pytest.mark.parametrize(
    ("credentials", "query", "cursor"),
    [
        ({}, QUERY, ""),
        (SECRETS, SearchQuery(terms=[""]), ""),
        (SECRETS, SearchQuery(terms=["word"] * 200), ""),
        (SECRETS, QUERY, "{oops"),
    ],
)
def test_malformed_source_config_is_permanent(
    credentials: dict[str, str], query: SearchQuery, cursor: str
) -> None:
    with pytest.raises(PermanentError):
        XPlatform(credentials=credentials).search(query, cursor)


# --- replies --------------------------------------------------------------------------------


def parent_tweet(**extra: Any) -> dict[str, Any]:
    return {**attributed([body("get_tweet")["data"]])[0], **extra}


def post_of(tweet: dict[str, Any]) -> PostData:
    return XPlatform().post(tweet, {u["id"]: u for u in users()})


def test_reply_is_allowed_when_the_author_mentioned_us(platform: XPlatform) -> None:
    post = post_of(parent_tweet(entities={"mentions": [{"username": "tweepydev", "id": OWN_ID}]}))
    allowed, why = platform.reply_allowed(post)
    assert allowed and "mentioned @TweepyDev" in why


def test_reply_is_refused_without_mention_or_quote(platform: XPlatform) -> None:
    allowed, why = platform.reply_allowed(post_of(parent_tweet()))
    assert not allowed and "mentioned or quoted @TweepyDev" in why


def test_reply_is_allowed_when_the_author_quoted_our_post(
    httpserver: HTTPServer, platform: XPlatform
) -> None:
    ours = body("create_tweet")["data"]
    httpserver.expect_request("/2/tweets").respond_with_json(
        {"data": [{**ours, "author_id": OWN_ID, "edit_history_tweet_ids": [ours["id"]]}]}
    )
    post = post_of(parent_tweet(referenced_tweets=[{"type": "quoted", "id": ours["id"]}]))
    allowed, why = platform.reply_allowed(post)
    assert allowed and "quoted" in why
    request, _ = httpserver.log[-1]
    assert request.args["ids"] == ours["id"]


def test_unrestricted_plan_may_reply_to_anything(make: Callable[..., XPlatform]) -> None:
    assert make(reply_access="unrestricted").reply_allowed(post_of(parent_tweet()))[0]


def test_reply_posts_when_allowed(httpserver: HTTPServer, platform: XPlatform) -> None:
    parent = parent_tweet(entities={"mentions": [{"username": "TweepyDev"}]})
    httpserver.expect_request(f"/2/tweets/{parent['id']}").respond_with_json(
        {"data": parent, "includes": {"users": users()}}, headers=headers("get_tweet")
    )
    httpserver.expect_request("/2/tweets", method="POST").respond_with_json(
        body("create_tweet"), status=201, headers=headers("create_tweet")
    )
    sent = platform.reply(in_reply_to=parent["id"], text="Sorry about that.", idempotency_key="k")
    assert sent.external_id == "1456012973835788293"
    assert sent.url == "https://x.com/TweepyDev/status/1456012973835788293"
    request, _ = httpserver.log[-1]
    assert request.get_json() == {
        "text": "Sorry about that.",
        "reply": {"in_reply_to_tweet_id": parent["id"]},
    }
    assert request.headers["Authorization"].startswith("OAuth ")


def test_reply_refused_locally_never_posts(httpserver: HTTPServer, platform: XPlatform) -> None:
    parent = parent_tweet()
    httpserver.expect_request(f"/2/tweets/{parent['id']}").respond_with_json(
        {"data": parent, "includes": {"users": users()}}
    )
    with pytest.raises(PermanentError, match="mentioned or quoted"):
        platform.reply(in_reply_to=parent["id"], text="hi", idempotency_key="k")
    assert all(r.method == "GET" for r, _ in httpserver.log)


def test_xs_own_reply_refusal_is_permanent_with_its_message(
    httpserver: HTTPServer, make: Callable[..., XPlatform]
) -> None:
    detail = (
        "Reply to this conversation is not allowed because you have not been mentioned or "
        "otherwise engaged by the author of the post you are replying to."
    )
    httpserver.expect_request("/2/tweets", method="POST").respond_with_json(
        {"detail": detail, "type": "about:blank", "title": "Forbidden", "status": 403}, status=403
    )
    with pytest.raises(PermanentError, match="not been mentioned"):
        make(reply_access="unrestricted").reply(in_reply_to="1", text="hi", idempotency_key="k")


def test_reply_replays_tweepys_create_tweet_cassette() -> None:
    platform = XPlatform(
        credentials=SECRETS,
        options={"handle": "TweepyDev", "user_id": OWN_ID, "reply_access": "unrestricted"},
    )
    cassette = recorded.cassette("x", "test_client_create_and_delete_tweet.yaml")
    with vcr.use_cassette(str(cassette), record_mode="none"):
        sent = platform.reply(in_reply_to="1293593516040269825", text="hi", idempotency_key="k")
    assert sent.external_id == "1456012973835788293"


def test_find_reply_finds_our_reply_in_our_timeline(
    httpserver: HTTPServer, platform: XPlatform
) -> None:
    timeline = copy.deepcopy(body("search_recent"))
    timeline["data"][3]["referenced_tweets"] = [{"type": "replied_to", "id": "1293593516040269825"}]
    httpserver.expect_request(f"/2/users/{OWN_ID}/tweets").respond_with_json(timeline)
    found = platform.find_reply(in_reply_to="1293593516040269825", idempotency_key="k")
    assert found is not None and found.external_id == timeline["data"][3]["id"]
    assert platform.find_reply(in_reply_to="42", idempotency_key="k") is None
    # our reply already recorded (a first reply, when a later one is sought) is never returned
    again = platform.find_reply(
        in_reply_to="1293593516040269825", idempotency_key="k", exclude=[found.external_id]
    )
    assert again is None


def test_follow_replays_tweepys_cassette() -> None:
    platform = XPlatform(credentials=SECRETS, options={"user_id": OWN_ID})
    cassette = recorded.cassette("x", "test_client_follow_and_unfollow_user.yaml")
    with vcr.use_cassette(str(cassette), record_mode="none"):
        sent = platform.follow("17874544")
    assert sent.external_id == "17874544"


def test_follow_against_the_recorded_answer(httpserver: HTTPServer, platform: XPlatform) -> None:
    httpserver.expect_request(f"/2/users/{OWN_ID}/following", method="POST").respond_with_json(
        body("follow_user"), headers=headers("follow_user")
    )
    platform.follow("17874544")
    request, _ = httpserver.log[-1]
    assert request.get_json() == {"target_user_id": "17874544"}


def test_follow_needs_a_user_id(platform: XPlatform) -> None:
    with pytest.raises(PermanentError):
        platform.follow("@someone")


# --- notifications --------------------------------------------------------------------------


def test_recorded_mentions_become_mentions_and_replies(
    httpserver: HTTPServer, platform: XPlatform
) -> None:
    mentions = attributed(body("users_mentions")["data"])
    mentions[0]["referenced_tweets"] = [{"type": "replied_to", "id": "1456012973835788293"}]
    httpserver.expect_request(f"/2/users/{OWN_ID}/mentions").respond_with_json(
        envelope(mentions, {**body("users_mentions")["meta"], "next_token": None}),
        headers=headers("users_mentions"),
    )
    page = platform.notifications("")
    assert len(page.notifications) == 10 and page.skipped == 0
    kinds = {n.external_id: n.kind for n in page.notifications}
    assert kinds.pop(mentions[0]["id"]) == NotificationKind.REPLY
    assert set(kinds.values()) == {NotificationKind.MENTION}
    reply = next(n for n in page.notifications if n.kind == NotificationKind.REPLY)
    assert reply.subject_id == "1456012973835788293" and reply.post is not None
    assert json.loads(page.cursor) == {"since_id": "1578516295611748353"}


def test_mentions_walk_pages_with_pagination_token(
    httpserver: HTTPServer, make: Callable[..., XPlatform]
) -> None:
    tweets = tweet_pool()
    oldest = min(tweets, key=key)["id"]
    httpserver.expect_request(f"/2/users/{OWN_ID}/mentions").respond_with_handler(
        timeline_server(tweets, "pagination_token")
    )
    platform = make(page_size=10)
    first = platform.notifications(json.dumps({"since_id": oldest}))
    second = platform.notifications(first.cursor)
    assert first.has_more and not second.has_more
    got = ids(first.notifications) + ids(second.notifications)
    assert len(got) == len(set(got)) == 19
    assert set(got) == {t["id"] for t in tweets if t["id"] != oldest}
    request, _ = httpserver.log[-1]
    assert request.args["pagination_token"] == "10"


def test_mentions_cassette_replays_through_tweepy() -> None:
    platform = XPlatform(credentials=SECRETS, options={"user_id": "783214"})
    cassette = recorded.cassette("x", "test_client_get_users_mentions.yaml")
    with vcr.use_cassette(str(cassette), record_mode="none", match_on=["method", "path"]):
        page = platform.notifications("")
    # the recording asked for no author_id: nothing attributable, but the cursor moves on
    assert page.skipped == 10
    assert json.loads(page.cursor) == {"since_id": "1578516295611748353"}


# --- limits and check -----------------------------------------------------------------------


def test_limits_are_280_weighted_with_notes(platform: XPlatform) -> None:
    limits = platform.limits()
    assert (limits.reply_max_length, limits.length_unit) == (280, "weighted")
    assert "mentioned or quoted" in limits.notes and "23" in limits.notes


def test_check_reports_the_recorded_account(httpserver: HTTPServer, platform: XPlatform) -> None:
    httpserver.expect_request("/2/users/me").respond_with_json(
        body("users_me"), headers=headers("users_me")
    )
    assert platform.check() == f"Authenticated as @TweepyDev (id {OWN_ID})"


@pytest.mark.parametrize("timeout", ["soon", 0, 10_000])
def test_bad_timeout_is_permanent(timeout: Any) -> None:
    with pytest.raises(PermanentError, match="timeout"):
        XPlatform(credentials=SECRETS, options={"timeout": timeout}).search(QUERY, "")


# --- outcomes of writes (issue #14) ------------------------------------------------------------


@pytest.mark.parametrize("fault", faults.AFTER_POSTING)
def test_a_reply_answered_by_a_recording_cut_short_or_a_fault_is_an_unknown_outcome(
    httpserver: HTTPServer, make: Callable[..., XPlatform], fault: str
) -> None:
    handler = faults.answer(fault, body("create_tweet"), status=201)
    httpserver.expect_request("/2/tweets", method="POST").respond_with_handler(handler)
    platform = make(reply_access="unrestricted", timeout=faults.TIMEOUT)
    with pytest.raises(UnknownOutcome):
        platform.reply(in_reply_to="1", text="Sorry about that.", idempotency_key="k")
    handler.settle()


@pytest.mark.parametrize("mode", ["reset", "cut_on_the_wire"])
def test_a_reply_whose_connection_broke_is_an_unknown_outcome(mode: str) -> None:
    with faults.raw_server(mode) as (url, received):
        platform = XPlatform(
            credentials=SECRETS,
            options={
                "api_base_url": url,
                "timeout": faults.TIMEOUT,
                "reply_access": "unrestricted",
                "user_id": OWN_ID,
            },
        )
        with pytest.raises(UnknownOutcome):
            platform.reply(in_reply_to="1", text="Sorry about that.", idempotency_key="k")
    assert received


def test_a_reply_to_a_refused_connection_is_transient_not_unknown() -> None:
    platform = XPlatform(
        credentials=SECRETS,
        options={"api_base_url": faults.closed_port(), "reply_access": "unrestricted"},
    )
    with pytest.raises(TransientError) as caught:
        platform.reply(in_reply_to="1", text="Sorry about that.", idempotency_key="k")
    assert not isinstance(caught.value, UnknownOutcome)


def test_a_follow_cut_short_is_an_unknown_outcome(
    httpserver: HTTPServer, platform: XPlatform
) -> None:
    httpserver.expect_request(f"/2/users/{OWN_ID}/following", method="POST").respond_with_handler(
        faults.answer("cut_short", body("follow_user"))
    )
    with pytest.raises(UnknownOutcome):
        platform.follow("17874544")


def test_a_search_page_cut_short_is_transient_with_the_raw_answer(
    httpserver: HTTPServer, platform: XPlatform
) -> None:
    httpserver.expect_request("/2/tweets/search/recent").respond_with_handler(
        faults.answer("cut_short", body("search_recent"))
    )
    with pytest.raises(TransientError) as caught:
        platform.search(QUERY, "")
    assert not isinstance(caught.value, UnknownOutcome)
    assert caught.value.raw == faults.cut(body("search_recent")).decode()
