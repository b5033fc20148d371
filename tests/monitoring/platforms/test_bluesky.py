"""Bluesky adapter against recorded bsky.social payloads served by a local XRPC server
(pytest-httpserver), so the atproto SDK does the HTTP, the login and the model parsing."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from monitoring.platforms import bluesky
from monitoring.platforms.base import (
    NotificationKind,
    PermanentError,
    SearchQuery,
    TransientError,
    UnknownOutcome,
)
from monitoring.platforms.bluesky import BlueskyPlatform, record_key_for
from tests.monitoring.platforms import faults, recorded

PASSWORD = "app-pass-word-never-logged"
OWN_DID = "did:plc:5c2r73erhng4bszmxlfdtscf"  # bskyr.bsky.social in the recordings
QUERY = SearchQuery(terms=["redistricting"])


def body(name: str) -> Any:
    return recorded.body("bluesky", name)


def headers(name: str) -> dict[str, str]:
    return recorded.headers("bluesky", name)


def xrpc(nsid: str) -> str:
    return f"/xrpc/{nsid}"


def fake_jwt(lifetime: int) -> str:
    """An unsigned JWT-shaped token: the local server never checks it, the SDK reads ``exp``."""

    def part(doc: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")

    now = int(dt.datetime.now(dt.UTC).timestamp())
    claims = {"sub": OWN_DID, "iat": now, "exp": now + lifetime, "scope": "com.atproto.appPass"}
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.c2ln"


@pytest.fixture(autouse=True)
def fresh_sessions() -> Iterator[None]:
    bluesky._SESSIONS.clear()
    yield
    bluesky._SESSIONS.clear()


@pytest.fixture
def server(httpserver: HTTPServer) -> HTTPServer:
    """A local PDS answering createSession with the recorded session.

    The recorded DID document names the real PDS; it is pointed at this server,
    as a local PDS would name itself.
    """
    session = body("create_session")
    # The recorded tokens were blanked upstream; unsigned stand-ins let the SDK read expiry.
    session["accessJwt"], session["refreshJwt"] = fake_jwt(3600), fake_jwt(86400)
    session["didDoc"]["service"][0]["serviceEndpoint"] = httpserver.url_for("/").rstrip("/")
    httpserver.expect_request(
        xrpc("com.atproto.server.createSession"), method="POST"
    ).respond_with_json(session, headers=headers("create_session"))
    return httpserver


@pytest.fixture
def make(server: HTTPServer) -> Callable[..., BlueskyPlatform]:
    def build(**options: Any) -> BlueskyPlatform:
        return BlueskyPlatform(
            credentials={"identifier": "bskyr.bsky.social", "password": PASSWORD},
            options={"base_url": server.url_for("/").rstrip("/"), "timeout": 2, **options},
        )

    return build


@pytest.fixture
def platform(make: Callable[..., BlueskyPlatform]) -> BlueskyPlatform:
    return make()


def sort_at(view: dict[str, Any]) -> str:
    return bluesky.BlueskyPlatform._sort_at(view)


def search_server(posts: list[dict[str, Any]]) -> Callable[[Request], Response]:
    """searchPosts as the AppView answers it: newest first, since inclusive, offset cursor."""

    def handle(request: Request) -> Response:
        assert request.args["sort"] == "latest"
        found = sorted(posts, key=sort_at, reverse=True)
        if "since" in request.args:
            found = [p for p in found if sort_at(p) >= request.args["since"]]
        offset = int(request.args.get("cursor", 0))
        limit = int(request.args.get("limit", 25))
        page = found[offset : offset + limit]
        doc: dict[str, Any] = {"posts": page}
        if offset + limit < len(found):
            doc["cursor"] = str(offset + limit)
        return Response(
            json.dumps(doc), headers=headers("search_posts"), content_type="application/json"
        )

    return handle


def uris(items: Any) -> list[str]:
    return [p.external_id for p in items]


# --- search ----------------------------------------------------------------------------------


def test_search_walks_two_pages_without_skipping(
    server: HTTPServer, make: Callable[..., BlueskyPlatform]
) -> None:
    # given a source that stored the oldest recorded post, then four newer ones are indexed
    posts = body("search_posts")["posts"]
    oldest = min(posts, key=sort_at)
    server.expect_request(xrpc("app.bsky.feed.searchPosts")).respond_with_handler(
        search_server(posts)
    )
    platform = make(page_size=3)
    cursor = json.dumps({"since": sort_at(oldest), "seen": [oldest["uri"]]})
    # when the source polls twice
    first = platform.search(QUERY, cursor)
    second = platform.search(QUERY, first.cursor)
    # then every new post arrives exactly once, each page oldest first
    assert first.has_more and not second.has_more
    got = uris(first.posts) + uris(second.posts)
    assert sorted(got) == sorted(p["uri"] for p in posts if p is not oldest)
    assert [p.posted_at for p in first.posts] == sorted(p.posted_at for p in first.posts)
    # and the third poll finds nothing new, though the server repeats the newest (inclusive since)
    third = platform.search(QUERY, second.cursor)
    assert third.posts == [] and not third.has_more
    newest = max(posts, key=sort_at)
    assert json.loads(third.cursor) == {"since": sort_at(newest), "seen": [newest["uri"]]}


def test_failed_poll_half_way_resumes_the_walk(
    server: HTTPServer, make: Callable[..., BlueskyPlatform]
) -> None:
    posts = body("search_posts")["posts"]
    oldest = min(posts, key=sort_at)
    server.expect_request(xrpc("app.bsky.feed.searchPosts")).respond_with_handler(
        search_server(posts)
    )
    platform = make(page_size=2)
    first = platform.search(QUERY, json.dumps({"since": sort_at(oldest), "seen": [oldest["uri"]]}))
    server.clear()
    server.expect_oneshot_request(xrpc("app.bsky.feed.searchPosts")).respond_with_json(
        {"error": "InternalServerError", "message": "Internal Server Error"}, status=500
    )
    with pytest.raises(TransientError):
        platform.search(QUERY, first.cursor)
    server.expect_request(xrpc("app.bsky.feed.searchPosts")).respond_with_handler(
        search_server(posts)
    )
    pages = [first]
    while pages[-1].has_more:
        pages.append(platform.search(QUERY, pages[-1].cursor))
    got = [u for page in pages for u in uris(page.posts)]
    assert len(got) == len(set(got)) == 4


def test_recorded_post_maps_to_post_and_person(
    server: HTTPServer, platform: BlueskyPlatform
) -> None:
    server.expect_request(xrpc("app.bsky.feed.searchPosts")).respond_with_json(
        body("search_posts"), headers=headers("search_posts")
    )
    page = platform.search(QUERY, "")
    newest = page.posts[-1]
    assert newest.external_id == (
        "at://did:plc:kkergqgbhb56ptpwj2wenkje/app.bsky.feed.post/3lpk2u6qo222m"
    )
    assert newest.author.external_id == "did:plc:kkergqgbhb56ptpwj2wenkje"
    assert newest.author.handle == "socpaperbot.bsky.social"
    assert newest.url == "https://bsky.app/profile/socpaperbot.bsky.social/post/3lpk2u6qo222m"
    assert newest.posted_at == dt.datetime(2025, 5, 19, 17, 10, 9, 561858, tzinfo=dt.UTC)
    assert "https://osf.io/v87fn" in newest.text
    assert newest.raw == body("search_posts")["posts"][0]
    assert page.rate_limit is not None and page.rate_limit.limit == 3000
    assert page.rate_limit.remaining == 2983


def test_first_poll_takes_the_newest_page_only(
    server: HTTPServer, platform: BlueskyPlatform
) -> None:
    server.expect_request(xrpc("app.bsky.feed.searchPosts")).respond_with_json(body("search_posts"))
    page = platform.search(QUERY, "")
    assert len(page.posts) == 5 and not page.has_more
    request, _ = server.log[-1]
    assert "since" not in request.args and request.args["q"] == "redistricting"


def test_terms_and_exclusions_build_one_query(
    server: HTTPServer, platform: BlueskyPlatform
) -> None:
    server.expect_request(xrpc("app.bsky.feed.searchPosts")).respond_with_json({"posts": []})
    platform.search(SearchQuery(terms=["acme", "acme cloud"], exclusions=["jobs"]), "")
    request, _ = server.log[-1]
    assert request.args["q"] == 'acme OR "acme cloud" -"jobs"'


def test_empty_page_keeps_the_cursor(server: HTTPServer, platform: BlueskyPlatform) -> None:
    envelope = {**body("search_posts"), "posts": []}
    envelope.pop("cursor")
    server.expect_request(xrpc("app.bsky.feed.searchPosts")).respond_with_json(envelope)
    cursor = json.dumps({"since": "2025-05-19T17:10:09.561858Z", "seen": ["at://x/y/z"]})
    page = platform.search(QUERY, cursor)
    assert page.posts == [] and not page.has_more and page.skipped == 0
    assert json.loads(page.cursor) == json.loads(cursor)


def test_malformed_posts_are_logged_and_skipped(
    server: HTTPServer, platform: BlueskyPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    doc = body("search_posts")
    del doc["posts"][1]["author"]
    doc["posts"][3]["record"] = {"$type": "app.bsky.feed.like"}
    server.expect_request(xrpc("app.bsky.feed.searchPosts")).respond_with_json(doc)
    with caplog.at_level(logging.WARNING):
        page = platform.search(QUERY, "")
    assert page.skipped == 2 and len(page.posts) == 3
    assert "malformed" in caplog.text and PASSWORD not in caplog.text


def test_429_with_retry_after_is_transient(server: HTTPServer, platform: BlueskyPlatform) -> None:
    server.expect_request(xrpc("app.bsky.feed.searchPosts")).respond_with_json(
        {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        status=429,
        headers={**headers("search_posts"), "ratelimit-remaining": "0", "retry-after": "120"},
    )
    with pytest.raises(TransientError) as caught:
        platform.search(QUERY, "")
    assert caught.value.retry_after == 120.0


def test_429_without_retry_after_waits_for_the_reset(
    server: HTTPServer, platform: BlueskyPlatform
) -> None:
    reset = int(dt.datetime.now(dt.UTC).timestamp()) + 300
    server.expect_request(xrpc("app.bsky.feed.searchPosts")).respond_with_json(
        {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        status=429,
        headers={
            "ratelimit-limit": "3000",
            "ratelimit-remaining": "0",
            "ratelimit-reset": str(reset),
        },
    )
    with pytest.raises(TransientError) as caught:
        platform.search(QUERY, "")
    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 300


def test_401_bad_app_password_is_permanent(httpserver: HTTPServer) -> None:
    httpserver.expect_request(xrpc("com.atproto.server.createSession")).respond_with_json(
        {"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
        status=401,
    )
    platform = BlueskyPlatform(
        credentials={"identifier": "bskyr.bsky.social", "password": PASSWORD},
        options={"base_url": httpserver.url_for("/").rstrip("/"), "timeout": 2},
    )
    with pytest.raises(PermanentError, match="Invalid identifier or password") as caught:
        platform.search(QUERY, "")
    assert PASSWORD not in str(caught.value)


def test_suspended_account_is_permanent(httpserver: HTTPServer) -> None:
    httpserver.expect_request(xrpc("com.atproto.server.createSession")).respond_with_json(
        {"error": "AccountTakedown", "message": "Account has been taken down"}, status=401
    )
    platform = BlueskyPlatform(
        credentials={"identifier": "x.bsky.social", "password": PASSWORD},
        options={"base_url": httpserver.url_for("/").rstrip("/"), "timeout": 2},
    )
    with pytest.raises(PermanentError, match="taken down"):
        platform.check()


def test_expired_session_is_transient_and_forgotten(
    server: HTTPServer, make: Callable[..., BlueskyPlatform]
) -> None:
    server.expect_request(xrpc("app.bsky.feed.searchPosts")).respond_with_json(
        {"error": "ExpiredToken", "message": "Token has expired"}, status=400
    )
    with pytest.raises(TransientError, match="expired"):
        make().search(QUERY, "")
    assert bluesky._SESSIONS == {}


def test_one_login_serves_many_adapters(
    server: HTTPServer, make: Callable[..., BlueskyPlatform]
) -> None:
    server.expect_request(xrpc("app.bsky.feed.searchPosts")).respond_with_json({"posts": []})
    make().search(QUERY, "")
    make().search(QUERY, "")
    logins = [r for r, _ in server.log if r.path.endswith("createSession")]
    assert len(logins) == 1


def test_500_then_success(server: HTTPServer, platform: BlueskyPlatform) -> None:
    server.expect_oneshot_request(xrpc("app.bsky.feed.searchPosts")).respond_with_json(
        {"error": "InternalServerError", "message": "Internal Server Error"}, status=500
    )
    server.expect_request(xrpc("app.bsky.feed.searchPosts")).respond_with_json(body("search_posts"))
    with pytest.raises(TransientError, match="Internal Server Error"):
        platform.search(QUERY, "")
    assert len(platform.search(QUERY, "").posts) == 5


def test_network_fault_is_transient() -> None:
    platform = BlueskyPlatform(options={"base_url": "http://127.0.0.1:9", "timeout": 1})
    with pytest.raises(TransientError):
        platform.search(QUERY, "")


@pytest.mark.parametrize(
    ("options", "query", "cursor"),
    [
        ({"base_url": "bsky.social"}, QUERY, ""),
        ({}, SearchQuery(terms=[" "]), ""),
        ({"page_size": "lots"}, QUERY, ""),
        ({"timeout": "forever"}, QUERY, ""),
        ({}, QUERY, "[broken"),
    ],
)
def test_malformed_source_config_is_permanent(
    options: dict[str, Any], query: SearchQuery, cursor: str
) -> None:
    with pytest.raises(PermanentError):
        BlueskyPlatform(options=options).search(query, cursor)


# --- thread, reply, find_reply, follow --------------------------------------------------------


def test_recorded_thread_is_mapped(server: HTTPServer, platform: BlueskyPlatform) -> None:
    doc = body("get_post_thread")
    server.expect_request(xrpc("app.bsky.feed.getPostThread")).respond_with_json(doc)
    (post,) = platform.thread(doc["thread"]["post"]["uri"])
    assert post.external_id == doc["thread"]["post"]["uri"]


def test_thread_with_parent_and_media_embed_is_in_order(
    server: HTTPServer, platform: BlueskyPlatform
) -> None:
    # given the SDK's recorded thread (a recordWithMedia embed) answering the recorded post
    child = body("sdk_thread_view_post_with_embed_media")
    child = child.get("thread", child)
    parent = body("get_post_thread")["thread"]
    thread = {**parent, "replies": [child]}
    server.expect_request(xrpc("app.bsky.feed.getPostThread")).respond_with_json({"thread": thread})
    posts = platform.thread(parent["post"]["uri"])
    assert uris(posts) == [parent["post"]["uri"], child["post"]["uri"]]


def not_found(server: HTTPServer) -> None:
    server.expect_request(xrpc("com.atproto.repo.getRecord")).respond_with_json(
        {"error": "RecordNotFound", "message": "Could not locate record"}, status=400
    )


def test_reply_uses_the_record_key_chosen_from_the_idempotency_key(
    server: HTTPServer, platform: BlueskyPlatform
) -> None:
    # given the recorded post we answer, and no record under our key yet
    parent = body("get_posts")["posts"][0]
    not_found(server)
    server.expect_request(xrpc("app.bsky.feed.getPosts")).respond_with_json(body("get_posts"))
    server.expect_request(xrpc("com.atproto.repo.createRecord"), method="POST").respond_with_json(
        body("create_record_post_reply"), headers=headers("create_record_post_reply")
    )
    # when
    sent = platform.reply(
        in_reply_to=parent["uri"], text="That sounds rough.", idempotency_key="a1"
    )
    # then the recorded answer comes back and the request carried our key and the strong refs
    assert sent.external_id == body("create_record_post_reply")["uri"]
    assert sent.url.endswith("/post/3lprdue7ggw26")
    created = json.loads(server.log[-1][0].get_data())
    assert created["rkey"] == record_key_for("a1")
    assert created["repo"] == OWN_DID
    assert created["record"]["text"] == "That sounds rough."
    for end in ("root", "parent"):  # the post has no parent: it is its own thread's root
        ref = created["record"]["reply"][end]
        assert (ref["uri"], ref["cid"]) == (parent["uri"], parent["cid"])
    lookup = next(r for r, _ in server.log if r.path.endswith("getRecord"))
    assert lookup.args["rkey"] == record_key_for("a1")


def test_reply_retry_finds_the_record_instead_of_posting_twice(
    server: HTTPServer, platform: BlueskyPlatform
) -> None:
    parent = body("get_posts")["posts"][0]
    existing = body("get_record_post")
    existing["value"]["reply"] = {
        "root": {"uri": parent["uri"], "cid": parent["cid"]},
        "parent": {"uri": parent["uri"], "cid": parent["cid"]},
    }
    server.expect_request(xrpc("com.atproto.repo.getRecord")).respond_with_json(existing)
    sent = platform.reply(in_reply_to=parent["uri"], text="again", idempotency_key="a1")
    assert sent.external_id == existing["uri"]
    assert not any(r.path.endswith("createRecord") for r, _ in server.log)


def test_recorded_too_long_reply_is_permanent_with_the_message(
    server: HTTPServer, platform: BlueskyPlatform
) -> None:
    not_found(server)
    server.expect_request(xrpc("app.bsky.feed.getPosts")).respond_with_json(body("get_posts"))
    server.expect_request(xrpc("com.atproto.repo.createRecord")).respond_with_json(
        body("error_400_text_too_long"), status=400
    )
    with pytest.raises(PermanentError, match="300 graphemes"):
        platform.reply(
            in_reply_to=body("get_posts")["posts"][0]["uri"], text="x" * 400, idempotency_key="k"
        )


def test_find_reply_by_record_key(server: HTTPServer, platform: BlueskyPlatform) -> None:
    parent = "at://did:plc:other/app.bsky.feed.post/3aaaaaaaaaaaa"
    existing = body("get_record_post")
    existing["value"]["reply"] = {
        "root": {
            "uri": parent,
            "cid": "bafyreid4i763c2iyr6adhmgriiisz2p7gleztu7tn66pfrl3qhe4hgoyny",
        },
        "parent": {
            "uri": parent,
            "cid": "bafyreid4i763c2iyr6adhmgriiisz2p7gleztu7tn66pfrl3qhe4hgoyny",
        },
    }
    server.expect_request(xrpc("com.atproto.repo.getRecord")).respond_with_json(existing)
    found = platform.find_reply(in_reply_to=parent, idempotency_key="k")
    assert found is not None and found.external_id == existing["uri"]


def test_find_reply_in_the_thread_when_the_key_finds_nothing(
    server: HTTPServer, platform: BlueskyPlatform
) -> None:
    # given a thread where one reply is ours (the recorded post re-authored by our DID)
    thread = body("get_post_thread")["thread"]
    ours = copy.deepcopy(body("get_posts")["posts"][0])
    ours["uri"] = f"at://{OWN_DID}/app.bsky.feed.post/3lprdue7ggw26"
    ours["author"] = {**ours["author"], "did": OWN_DID, "handle": "bskyr.bsky.social"}
    thread["replies"] = [{"$type": "app.bsky.feed.defs#threadViewPost", "post": ours}]
    not_found(server)
    server.expect_request(xrpc("app.bsky.feed.getPostThread")).respond_with_json({"thread": thread})
    found = platform.find_reply(in_reply_to=thread["post"]["uri"], idempotency_key="k")
    assert found is not None and found.external_id == ours["uri"]


def test_find_reply_in_our_recent_records(server: HTTPServer, platform: BlueskyPlatform) -> None:
    records = body("list_records_posts")
    target = records["records"][2]["value"]["reply"]["parent"]["uri"]
    not_found(server)
    server.expect_request(xrpc("app.bsky.feed.getPostThread")).respond_with_json(
        body("get_post_thread")
    )
    server.expect_request(xrpc("com.atproto.repo.listRecords")).respond_with_json(records)
    found = platform.find_reply(in_reply_to=target, idempotency_key="k")
    assert found is not None and found.external_id == records["records"][2]["uri"]
    # our reply already recorded (a first reply, when a later one is sought) is skipped
    skipped = platform.find_reply(
        in_reply_to=target, idempotency_key="k", exclude=[found.external_id]
    )
    assert skipped is None
    missing = platform.find_reply(in_reply_to="at://did:plc:nobody/x/1", idempotency_key="k")
    assert missing is None


def test_follow_creates_a_follow_record(server: HTTPServer, platform: BlueskyPlatform) -> None:
    server.expect_request(xrpc("com.atproto.repo.createRecord"), method="POST").respond_with_json(
        body("create_record_follow"), headers=headers("create_record_follow")
    )
    sent = platform.follow("did:plc:kkergqgbhb56ptpwj2wenkje")
    assert sent.external_id == body("create_record_follow")["uri"]
    created = json.loads(server.log[-1][0].get_data())
    assert created["collection"] == "app.bsky.graph.follow"
    assert created["record"]["subject"] == "did:plc:kkergqgbhb56ptpwj2wenkje"


def test_follow_needs_a_did(platform: BlueskyPlatform) -> None:
    with pytest.raises(PermanentError):
        platform.follow("@someone.bsky.social")


# --- notifications ---------------------------------------------------------------------------


def test_recorded_notifications_of_every_kind(
    server: HTTPServer, platform: BlueskyPlatform
) -> None:
    # given the recorded notifications plus a reply (a recorded mention answering our post)
    doc = body("list_notifications")
    mention = next(n for n in doc["notifications"] if n["reason"] == "mention")
    ours = f"at://{OWN_DID}/app.bsky.feed.post/3lprdue7ggw26"
    reply = copy.deepcopy(mention)
    reply.update(
        reason="reply",
        uri=mention["uri"][:-3] + "zzz",
        indexedAt="2025-05-18T00:00:00.000Z",
    )
    reply["record"]["reply"] = {
        "root": {"uri": ours, "cid": "bafyreia7fptlcy32gmdmtxlqnd3cwjcq7bxae4sdunq5c5i6yr7y72cqmu"},
        "parent": {
            "uri": ours,
            "cid": "bafyreia7fptlcy32gmdmtxlqnd3cwjcq7bxae4sdunq5c5i6yr7y72cqmu",
        },
    }
    doc["notifications"].insert(0, reply)
    del doc["cursor"]
    server.expect_request(xrpc("app.bsky.notification.listNotifications")).respond_with_json(
        doc, headers=headers("list_notifications")
    )
    # when
    page = platform.notifications("")
    # then every reason maps to a kind
    kinds = {n.kind for n in page.notifications}
    assert kinds == {
        NotificationKind.FAVOURITE,
        NotificationKind.BOOST,
        NotificationKind.FOLLOW,
        NotificationKind.MENTION,
        NotificationKind.REPLY,
    }
    assert len(page.notifications) == 11 and page.skipped == 0
    by_uri = {n.external_id: n for n in page.notifications}
    assert by_uri[reply["uri"]].kind == NotificationKind.REPLY
    assert by_uri[reply["uri"]].subject_id == ours
    like = next(n for n in page.notifications if n.kind == NotificationKind.FAVOURITE)
    assert like.subject_id.startswith("at://") and like.post is None
    quote = next(n for n in doc["notifications"] if n["reason"] == "quote")
    assert by_uri[quote["uri"]].kind == NotificationKind.MENTION
    assert by_uri[quote["uri"]].post is not None
    created = [n.created_at for n in page.notifications]
    assert created == sorted(created)
    # and polling again finds nothing new
    again = platform.notifications(page.cursor)
    assert again.notifications == [] and not again.has_more


def test_malformed_notification_is_skipped(server: HTTPServer, platform: BlueskyPlatform) -> None:
    doc = body("list_notifications")
    doc["notifications"][0]["author"] = "nobody"
    doc["notifications"][1].pop("indexedAt")
    del doc["cursor"]
    server.expect_request(xrpc("app.bsky.notification.listNotifications")).respond_with_json(doc)
    page = platform.notifications("")
    assert page.skipped == 2 and len(page.notifications) == 8


# --- limits, keys, check ---------------------------------------------------------------------


def test_limits_are_300_graphemes_with_notes(platform: BlueskyPlatform) -> None:
    limits = platform.limits()
    assert (limits.reply_max_length, limits.length_unit) == (300, "graphemes")
    assert "Direct messages" in limits.notes


def test_record_keys_are_stable_valid_tids() -> None:
    tid = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
    keys = {record_key_for(f"outbox-{n}") for n in range(500)}
    assert len(keys) == 500 and all(tid.match(k) for k in keys)
    assert record_key_for("outbox-1") == record_key_for("outbox-1")
    assert record_key_for("3lprdue7ggw26") == "3lprdue7ggw26"  # already a TID


def test_empty_idempotency_key_is_refused() -> None:
    with pytest.raises(PermanentError):
        record_key_for("")


def test_check_reports_the_account(
    server: HTTPServer, make: Callable[..., BlueskyPlatform]
) -> None:
    summary = make(handle="someone-else.bsky.social").check()
    assert "@bskyr.bsky.social" in summary and OWN_DID in summary
    assert "not the configured" in summary


# --- outcomes of writes (issue #14) ------------------------------------------------------------


def ready_to_reply(server: HTTPServer) -> str:
    """No record under our key yet, and the recorded post to answer; returns its uri."""
    not_found(server)
    server.expect_request(xrpc("app.bsky.feed.getPosts")).respond_with_json(body("get_posts"))
    return str(body("get_posts")["posts"][0]["uri"])


@pytest.mark.parametrize("fault", faults.AFTER_POSTING)
def test_a_reply_answered_by_a_recording_cut_short_or_a_fault_is_an_unknown_outcome(
    server: HTTPServer, make: Callable[..., BlueskyPlatform], fault: str
) -> None:
    platform = make(timeout=faults.TIMEOUT)
    platform.client()  # log in first, with the fixture's session
    parent = ready_to_reply(server)
    handler = faults.answer(fault, body("create_record_post_reply"))
    server.expect_request(
        xrpc("com.atproto.repo.createRecord"), method="POST"
    ).respond_with_handler(handler)
    with pytest.raises(UnknownOutcome):
        platform.reply(in_reply_to=parent, text="That sounds rough.", idempotency_key="a1")
    handler.settle()


def test_a_follow_cut_short_is_an_unknown_outcome(
    server: HTTPServer, platform: BlueskyPlatform
) -> None:
    server.expect_request(
        xrpc("com.atproto.repo.createRecord"), method="POST"
    ).respond_with_handler(faults.answer("cut_short", body("create_record_follow")))
    with pytest.raises(UnknownOutcome):
        platform.follow("did:plc:kkergqgbhb56ptpwj2wenkje")


def test_a_refused_connection_is_transient_not_unknown() -> None:
    platform = BlueskyPlatform(
        credentials={"identifier": "bskyr.bsky.social", "password": PASSWORD},
        options={"base_url": faults.closed_port(), "timeout": faults.TIMEOUT},
    )
    with pytest.raises(TransientError) as caught:
        platform.follow("did:plc:kkergqgbhb56ptpwj2wenkje")
    assert not isinstance(caught.value, UnknownOutcome)


def test_recorded_too_long_reply_is_permanent_not_unknown(
    server: HTTPServer, platform: BlueskyPlatform
) -> None:
    parent = ready_to_reply(server)
    server.expect_request(xrpc("com.atproto.repo.createRecord")).respond_with_json(
        body("error_400_text_too_long"), status=400
    )
    with pytest.raises(PermanentError) as caught:
        platform.reply(in_reply_to=parent, text="x" * 400, idempotency_key="k")
    assert not isinstance(caught.value, TransientError)


def test_a_search_page_cut_short_is_transient_with_the_raw_answer(
    server: HTTPServer, platform: BlueskyPlatform
) -> None:
    server.expect_request(xrpc("app.bsky.feed.searchPosts")).respond_with_handler(
        faults.answer("cut_short", body("search_posts"))
    )
    with pytest.raises(TransientError) as caught:
        platform.search(QUERY, "")
    assert not isinstance(caught.value, UnknownOutcome)
    assert caught.value.raw
