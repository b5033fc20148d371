"""Mastodon adapter against recorded Mastodon payloads, served by a local HTTP server
(pytest-httpserver) or replayed from Mastodon.py's own vcrpy cassettes, so that
Mastodon.py itself does the HTTP and the parsing."""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
from collections.abc import Callable, Iterable
from typing import Any

import pytest
import vcr
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from monitoring.platforms.base import (
    NotificationKind,
    PermanentError,
    SearchQuery,
    TransientError,
    UnknownOutcome,
)
from monitoring.platforms.mastodon import MastodonPlatform
from tests.monitoring.platforms import faults, recorded

TOKEN = "secret-token-never-logged"
OWN_ID = "117020565693913441"  # @admin in the recordings (verify_credentials.json)


def body(name: str) -> Any:
    return recorded.body("mastodon", name)


def headers(name: str) -> dict[str, str]:
    """Recorded headers minus the Link header (it points at the recording host)."""
    return {k: v for k, v in recorded.headers("mastodon", name).items() if k != "link"}


def pool() -> list[dict[str, Any]]:
    """Every distinct recorded Status, as Mastodon would index them."""
    statuses: dict[str, dict[str, Any]] = {}
    for status in [
        *body("account_statuses_page"),
        *body("hashtag_timeline"),
        body("status_post"),
        body("status_reply"),
        *body("status_context")["ancestors"],
        *body("status_context")["descendants"],
    ]:
        statuses[status["id"]] = status
    return list(statuses.values())


def id_key(value: str) -> tuple[int, str]:
    return (len(value), value)


def search_server(statuses: list[dict[str, Any]]) -> Callable[[Request], Response]:
    """/api/v2/search as Mastodon's search backend answers it: newest first, min/max_id bounds."""

    def handle(request: Request) -> Response:
        assert request.args["type"] == "statuses"
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        found = sorted(statuses, key=lambda s: id_key(s["id"]), reverse=True)
        if "min_id" in request.args:
            found = [s for s in found if id_key(s["id"]) > id_key(request.args["min_id"])]
        if "max_id" in request.args:
            found = [s for s in found if id_key(s["id"]) < id_key(request.args["max_id"])]
        found = found[: int(request.args.get("limit", 20))]
        envelope = {**body("search_v2_type_statuses_empty"), "statuses": found}
        return Response(
            json.dumps(envelope),
            headers=headers("search_v2_type_statuses_empty"),
            content_type="application/json",
        )

    return handle


def ids(posts: Iterable[Any]) -> list[str]:
    return [p.external_id for p in posts]


@pytest.fixture
def make(httpserver: HTTPServer) -> Callable[..., MastodonPlatform]:
    def build(**options: Any) -> MastodonPlatform:
        return MastodonPlatform(
            credentials={"access_token": TOKEN},
            options={"api_base_url": httpserver.url_for("/").rstrip("/"), "timeout": 2, **options},
        )

    return build


@pytest.fixture
def platform(make: Callable[..., MastodonPlatform]) -> MastodonPlatform:
    return make()


QUERY = SearchQuery(terms=["mastodonpy"])


# --- search -----------------------------------------------------------------------------


def test_search_walks_two_pages_down_without_skipping(
    httpserver: HTTPServer, make: Callable[..., MastodonPlatform]
) -> None:
    # given a source that already stored the older thread, then 8 new statuses arrive
    older = body("status_context")["descendants"]
    statuses = pool()
    newer = [s for s in statuses if id_key(s["id"]) > id_key(older[0]["id"])]
    assert len(newer) == 8
    httpserver.expect_request("/api/v2/search").respond_with_handler(search_server(statuses))
    platform = make(page_size=5)
    cursor = json.dumps({"terms": {"mastodonpy": {"min": older[0]["id"]}}})
    # when the source polls twice
    first = platform.search(QUERY, cursor)
    second = platform.search(QUERY, first.cursor)
    # then the two pages hold every new status exactly once, each page oldest first
    assert first.has_more and not second.has_more
    assert len(first.posts) == 5 and len(second.posts) == 3
    assert sorted(ids(first.posts) + ids(second.posts)) == sorted(s["id"] for s in newer)
    for page in (first, second):
        assert [p.posted_at for p in page.posts] == sorted(p.posted_at for p in page.posts)
    # and the gap walk asked below the first page, above the stored cursor
    request, _ = httpserver.log[-1]
    assert request.args["min_id"] == older[0]["id"]
    assert request.args["max_id"] == min(ids(first.posts), key=id_key)
    # and a third poll resumes after the newest one: nothing new
    third = platform.search(QUERY, second.cursor)
    assert third.posts == [] and not third.has_more
    newest = max(ids(first.posts), key=id_key)
    assert json.loads(third.cursor) == {"terms": {"mastodonpy": {"min": newest}}}


def test_gap_cursor_survives_a_failed_poll(
    httpserver: HTTPServer, make: Callable[..., MastodonPlatform]
) -> None:
    # given a first page that left a gap
    statuses = pool()
    older = body("status_context")["descendants"][0]["id"]
    httpserver.expect_request("/api/v2/search").respond_with_handler(search_server(statuses))
    platform = make(page_size=3)
    first = platform.search(QUERY, json.dumps({"terms": {"mastodonpy": {"min": older}}}))
    # when the next poll fails half way (a 502) and is retried later with the same cursor
    httpserver.clear()
    httpserver.expect_oneshot_request("/api/v2/search").respond_with_json(
        {"error": "Bad gateway"}, status=502
    )
    with pytest.raises(TransientError):
        platform.search(QUERY, first.cursor)
    httpserver.expect_request("/api/v2/search").respond_with_handler(search_server(statuses))
    second = platform.search(QUERY, first.cursor)
    third = platform.search(QUERY, second.cursor)
    # then the gap is still filled, each status once
    assert first.has_more and second.has_more and not third.has_more
    got = ids(first.posts) + ids(second.posts) + ids(third.posts)
    assert len(got) == len(set(got)) == 8


def test_first_poll_starts_from_the_newest_page(
    httpserver: HTTPServer, make: Callable[..., MastodonPlatform]
) -> None:
    httpserver.expect_request("/api/v2/search").respond_with_handler(search_server(pool()))
    page = make(page_size=3).search(QUERY, "")
    assert len(page.posts) == 3 and not page.has_more
    newest = max((s["id"] for s in pool()), key=id_key)
    assert json.loads(page.cursor)["terms"]["mastodonpy"] == {"min": newest}


def test_recorded_status_maps_to_post_and_person(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    httpserver.expect_request("/api/v2/search").respond_with_handler(
        search_server([body("status_reply")])
    )
    (post,) = platform.search(QUERY, "").posts
    assert post.external_id == "117020583258292382"
    assert post.text == "@mastodonpy_test_2 same!"
    assert post.url == "http://localhost:3000/@admin/117020583258292382"
    assert post.in_reply_to == "117020583245459824"
    assert post.posted_at == dt.datetime(2026, 8, 1, 13, 53, 15, 910000, tzinfo=dt.UTC)
    assert post.lang == "en"
    assert post.author.external_id == OWN_ID
    assert post.author.handle == "admin@localhost"
    assert post.raw == body("status_reply")  # the payload exactly as the server sent it
    json.dumps(post.raw)  # and storable as JSON


def test_empty_recorded_search_keeps_the_cursor(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    # given the recorded empty search answer (an instance without a search backend)
    httpserver.expect_request("/api/v2/search").respond_with_json(
        body("search_v2_type_statuses_empty"), headers=headers("search_v2_type_statuses_empty")
    )
    cursor = json.dumps({"terms": {"mastodonpy": {"min": "42"}}})
    page = platform.search(QUERY, cursor)
    assert page.posts == [] and page.skipped == 0 and not page.has_more
    assert json.loads(page.cursor) == json.loads(cursor)
    assert page.rate_limit is not None and page.rate_limit.limit == 300


def test_a_page_in_another_encoding_than_utf8_is_read_as_requests_reads_it(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    # The fast reader takes UTF-8 only; a page it refuses is read the way requests reads
    # it, from the encoding the server names, never dropped as unreadable.
    answer = json.dumps({"accounts": [], "statuses": pool()[:3], "hashtags": []})
    for encoding in ("utf-8", "utf-16"):
        httpserver.expect_oneshot_request("/api/v2/search").respond_with_data(
            answer.encode(encoding), content_type=f"application/json; charset={encoding}"
        )
    in_utf8, in_utf16 = platform.search(QUERY, ""), platform.search(QUERY, "")
    assert ids(in_utf8.posts) and ids(in_utf16.posts) == ids(in_utf8.posts)
    assert [p.text for p in in_utf16.posts] == [p.text for p in in_utf8.posts]


def test_hashtag_mode_reads_the_tag_timeline(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    httpserver.expect_request("/api/v1/timelines/tag/hoot").respond_with_json(
        body("hashtag_timeline"), headers=recorded.headers("mastodon", "hashtag_timeline")
    )
    page = platform.search(SearchQuery(terms=["#hoot"], options={"mode": "hashtag"}), "")
    assert ids(page.posts) == ["117020593741189701"]
    assert page.rate_limit is not None and page.rate_limit.remaining == 299


def tag_timeline_server(statuses: list[dict[str, Any]]) -> Callable[[Request], Response]:
    """/api/v1/timelines/tag/:tag as Mastodon pages it: min_id gives the statuses just above."""

    def handle(request: Request) -> Response:
        found = sorted(statuses, key=lambda s: id_key(s["id"]))
        if "min_id" in request.args:
            found = [s for s in found if id_key(s["id"]) > id_key(request.args["min_id"])]
            found = found[: int(request.args.get("limit", 20))]
        else:
            found = found[-int(request.args.get("limit", 20)) :]
        return Response(
            json.dumps(list(reversed(found))),
            headers=headers("hashtag_timeline"),
            content_type="application/json",
        )

    return handle


def test_hashtag_mode_pages_forward_without_skipping(
    httpserver: HTTPServer, make: Callable[..., MastodonPlatform]
) -> None:
    # given a tag source that stored the older thread, then 8 new statuses arrive
    older = body("status_context")["descendants"][0]["id"]
    statuses = pool()
    httpserver.expect_request("/api/v1/timelines/tag/hoot").respond_with_handler(
        tag_timeline_server(statuses)
    )
    platform = make(page_size=5, mode="hashtag")
    query = SearchQuery(terms=["hoot"])
    first = platform.search(query, json.dumps({"terms": {"hoot": {"min": older}}}))
    second = platform.search(query, first.cursor)
    third = platform.search(query, second.cursor)
    # then two pages bring all 8 once, oldest first, and the third is empty
    assert first.has_more and not second.has_more
    got = ids(first.posts) + ids(second.posts)
    assert got == sorted(got, key=id_key) and len(got) == len(set(got)) == 8
    assert third.posts == []
    assert json.loads(third.cursor) == {"terms": {"hoot": {"min": got[-1]}}}


def test_exclusions_drop_posts_but_the_cursor_moves_past_them(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    httpserver.expect_request("/api/v2/search").respond_with_handler(
        search_server([body("status_reply"), body("status_post")])
    )
    page = platform.search(SearchQuery(terms=["mastodonpy"], exclusions=["SAME!"]), "")
    assert ids(page.posts) == ["117020583245459824"]
    assert json.loads(page.cursor)["terms"]["mastodonpy"]["min"] == "117020583258292382"


def test_malformed_status_is_logged_and_skipped_not_the_page(
    httpserver: HTTPServer, platform: MastodonPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    # given a recorded page where one status lost its account and another its date
    statuses = body("account_statuses_page")
    del statuses[1]["account"]
    statuses[3]["created_at"] = "yesterday-ish"
    httpserver.expect_request("/api/v2/search").respond_with_handler(search_server(statuses))
    # when
    with caplog.at_level(logging.WARNING):
        page = platform.search(QUERY, "")
    # then the other three are kept, the two are counted, and the cursor passes them all
    assert page.skipped == 2
    assert len(page.posts) == 3
    assert json.loads(page.cursor)["terms"]["mastodonpy"]["min"] == statuses[0]["id"]
    assert "malformed" in caplog.text and TOKEN not in caplog.text


def test_429_with_retry_after_is_transient_with_the_wait(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    # given Mastodon's documented throttled answer (rack-attack) plus Retry-After
    reset = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).isoformat()
    httpserver.expect_request("/api/v2/search").respond_with_json(
        {"error": "Too many requests"},
        status=429,
        headers={
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset,
            "Retry-After": "120",
        },
    )
    with pytest.raises(TransientError) as caught:
        platform.search(QUERY, "")
    assert caught.value.retry_after == 120.0


def test_429_without_retry_after_waits_for_the_reset(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    reset = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).isoformat()
    httpserver.expect_request("/api/v2/search").respond_with_json(
        {"error": "Too many requests"},
        status=429,
        headers={
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset,
        },
    )
    with pytest.raises(TransientError) as caught:
        platform.search(QUERY, "")
    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 300


def test_recorded_401_is_permanent_with_mastodons_message(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    recording = recorded.load("mastodon", "error_401_invalid_token")
    httpserver.expect_request("/api/v2/search").respond_with_json(
        recording["response"]["body"], status=401, headers=headers("error_401_invalid_token")
    )
    with pytest.raises(PermanentError) as caught:
        platform.search(QUERY, "")
    assert "The access token is invalid" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_403_suspended_account_is_permanent(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    httpserver.expect_request("/api/v2/search").respond_with_json(
        {"error": "Your login is currently disabled"}, status=403
    )
    with pytest.raises(PermanentError, match="currently disabled"):
        platform.search(QUERY, "")


def test_500_then_success_on_the_next_poll(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    httpserver.expect_oneshot_request("/api/v2/search").respond_with_json(
        {"error": "We're sorry, but something went wrong on our end."}, status=500
    )
    httpserver.expect_request("/api/v2/search").respond_with_handler(search_server(pool()))
    with pytest.raises(TransientError, match="500"):
        platform.search(QUERY, "")
    assert len(platform.search(QUERY, "").posts) == len(pool())


def test_network_fault_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    platform = MastodonPlatform(
        credentials={"access_token": TOKEN},
        options={"api_base_url": f"http://127.0.0.1:{port}", "timeout": 1},
    )
    with pytest.raises(TransientError):
        platform.search(QUERY, "")


@pytest.mark.parametrize(
    ("options", "query"),
    [
        ({"api_base_url": ""}, QUERY),
        ({"api_base_url": "ftp://example.org"}, QUERY),
        ({"api_base_url": "http://x", "mode": "firehose"}, QUERY),
        ({"api_base_url": "http://x"}, SearchQuery(terms=["  "])),
        ({"api_base_url": "http://x", "mode": "hashtag"}, SearchQuery(terms=["two words"])),
        ({"api_base_url": "http://x", "page_size": "many"}, QUERY),
        ({"api_base_url": "http://x", "timeout": "soon"}, QUERY),
        ({"api_base_url": "http://x", "timeout": -1}, QUERY),
    ],
)
def test_malformed_source_config_is_permanent(options: dict[str, Any], query: SearchQuery) -> None:
    with pytest.raises(PermanentError):
        MastodonPlatform(credentials={"access_token": TOKEN}, options=options).search(query, "")


def test_unreadable_cursor_is_permanent(platform: MastodonPlatform) -> None:
    with pytest.raises(PermanentError, match="cursor"):
        platform.search(QUERY, "{not json")


# --- thread, reply, find_reply, follow -------------------------------------------------------


def test_thread_is_ancestors_post_descendants(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    context = body("status_context")
    parent = "110446983926957470"
    status = {**context["ancestors"][0], "id": parent, "in_reply_to_id": "110446983178245440"}
    httpserver.expect_request(f"/api/v1/statuses/{parent}").respond_with_json(status)
    httpserver.expect_request(f"/api/v1/statuses/{parent}/context").respond_with_json(context)
    thread = platform.thread(parent)
    assert ids(thread) == ["110446983178245440", parent, "110446984249325790"]


def test_reply_mentions_the_author_and_sends_the_idempotency_key(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    # given the recorded parent status by @mastodonpy_test_2
    parent = body("status_post")
    httpserver.expect_request(f"/api/v1/statuses/{parent['id']}").respond_with_json(parent)
    httpserver.expect_request(
        "/api/v1/statuses", method="POST", headers={"Idempotency-Key": "case-7-reply"}
    ).respond_with_json(body("status_reply"), headers=headers("status_reply"))
    # when we reply without the mention
    sent = platform.reply(in_reply_to=parent["id"], text="same!", idempotency_key="case-7-reply")
    # then the recorded reply comes back and the request carried the mention and parent
    assert sent.external_id == "117020583258292382"
    assert sent.url == "http://localhost:3000/@admin/117020583258292382"
    request, _ = httpserver.log[-1]
    assert request.form["status"] == "@mastodonpy_test_2 same!"
    assert request.form["in_reply_to_id"] == parent["id"]


def test_private_message_is_a_direct_status_mentioning_only_the_person(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    # given the person's recorded message to us; the server echoes a direct status
    theirs = body("status_post")
    direct = body("status_reply") | {"visibility": "direct"}
    httpserver.expect_request(
        "/api/v1/statuses", method="POST", headers={"Idempotency-Key": "case-7-dm"}
    ).respond_with_json(direct, headers=headers("status_reply"))
    # when we answer privately
    sent = platform.private_message(
        person_external_id=theirs["account"]["id"],
        handle="@mastodonpy_test_2",
        in_reply_to=theirs["id"],
        text="Sorry about that, the refund is on its way.",
        idempotency_key="case-7-dm",
    )
    # then one direct status went out, in their thread, addressed to them alone
    assert sent.external_id == direct["id"]
    request, _ = httpserver.log[-1]
    assert request.form["visibility"] == "direct"
    assert request.form["in_reply_to_id"] == theirs["id"]
    assert request.form["status"] == (
        "@mastodonpy_test_2 Sorry about that, the refund is on its way."
    )


def test_private_message_answered_as_a_public_status_is_a_permanent_error(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    # An instance that ignored the visibility must not pass for a private message sent.
    httpserver.expect_request("/api/v1/statuses", method="POST").respond_with_json(
        body("status_reply")
    )
    with pytest.raises(PermanentError, match="as public"):
        platform.private_message(
            person_external_id="1",
            handle="mastodonpy_test_2",
            in_reply_to="",
            text="hello",
            idempotency_key="k",
        )
    request, _ = httpserver.log[-1]
    assert "in_reply_to_id" not in request.form


def test_private_message_without_a_handle_is_refused_before_any_request(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    with pytest.raises(PermanentError, match="no handle"):
        platform.private_message(
            person_external_id="1", handle=" @ ", in_reply_to="", text="hi", idempotency_key="k"
        )
    assert httpserver.log == []


def test_reply_that_already_mentions_is_sent_unchanged(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    parent = body("status_post")
    httpserver.expect_request(f"/api/v1/statuses/{parent['id']}").respond_with_json(parent)
    httpserver.expect_request("/api/v1/statuses", method="POST").respond_with_json(
        body("status_reply")
    )
    platform.reply(in_reply_to=parent["id"], text="@mastodonpy_test_2 same!", idempotency_key="k")
    request, _ = httpserver.log[-1]
    assert request.form["status"] == "@mastodonpy_test_2 same!"


def test_reply_to_a_deleted_post_is_permanent(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    httpserver.expect_request("/api/v1/statuses/404404").respond_with_json(
        recorded.body("mastodon", "error_404_not_found"), status=404
    )
    with pytest.raises(PermanentError, match="Record not found"):
        platform.reply(in_reply_to="404404", text="sorry to hear", idempotency_key="k")


def test_find_reply_finds_our_reply_in_the_thread(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    parent = body("status_post")
    httpserver.expect_request("/api/v1/accounts/verify_credentials").respond_with_json(
        body("verify_credentials")
    )
    httpserver.expect_request(f"/api/v1/statuses/{parent['id']}/context").respond_with_json(
        {"ancestors": [], "descendants": [body("status_reply")]}
    )
    found = platform.find_reply(in_reply_to=parent["id"], idempotency_key="ignored")
    assert found is not None and found.external_id == "117020583258292382"


def test_find_reply_falls_back_to_our_recent_statuses(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    # given a thread that does not show our reply (someone else's reply only)
    parent = body("status_post")
    others = {**body("status_reply"), "id": "117020583258290000"}
    others["account"] = body("status_post")["account"]
    httpserver.expect_request("/api/v1/accounts/verify_credentials").respond_with_json(
        body("verify_credentials")
    )
    httpserver.expect_request(f"/api/v1/statuses/{parent['id']}/context").respond_with_json(
        {"ancestors": [], "descendants": [others]}
    )
    httpserver.expect_request(f"/api/v1/accounts/{OWN_ID}/statuses").respond_with_json(
        [*body("account_statuses_page"), body("status_reply")]
    )
    found = platform.find_reply(in_reply_to=parent["id"], idempotency_key="ignored")
    assert found is not None and found.external_id == "117020583258292382"


def test_find_reply_skips_our_replies_already_recorded(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    # given our first reply (recorded) and a later one of ours under the same post
    parent = body("status_post")
    first = body("status_reply")
    later = {**first, "id": "117020583258299999"}
    httpserver.expect_request("/api/v1/accounts/verify_credentials").respond_with_json(
        body("verify_credentials")
    )
    httpserver.expect_request(f"/api/v1/statuses/{parent['id']}/context").respond_with_json(
        {"ancestors": [], "descendants": [first, later]}
    )
    httpserver.expect_request(f"/api/v1/accounts/{OWN_ID}/statuses").respond_with_json([first])
    found = platform.find_reply(
        in_reply_to=parent["id"], idempotency_key="k", exclude=[first["id"]]
    )
    assert found is not None and found.external_id == later["id"]
    both = [first["id"], later["id"]]
    assert platform.find_reply(in_reply_to=parent["id"], idempotency_key="k", exclude=both) is None


def test_find_reply_says_none_when_we_never_replied(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    parent = body("status_post")
    httpserver.expect_request("/api/v1/accounts/verify_credentials").respond_with_json(
        body("verify_credentials")
    )
    httpserver.expect_request(f"/api/v1/statuses/{parent['id']}/context").respond_with_json(
        {"ancestors": [], "descendants": []}
    )
    httpserver.expect_request(f"/api/v1/accounts/{OWN_ID}/statuses").respond_with_json(
        body("account_statuses_page")
    )
    assert platform.find_reply(in_reply_to=parent["id"], idempotency_key="k") is None


def test_follow_returns_the_followed_account(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    httpserver.expect_request(
        "/api/v1/accounts/117020457624302809/follow", method="POST"
    ).respond_with_json(body("account_follow"), headers=headers("account_follow"))
    assert platform.follow("117020457624302809").external_id == "117020457624302809"


def test_check_and_follow_replay_mastodon_py_cassette() -> None:
    # given Mastodon.py's own recorded follow/unfollow session, replayed at the transport level
    platform = MastodonPlatform(
        credentials={"access_token": TOKEN},
        options={"api_base_url": "http://localhost:3000", "timeout": 2},
    )
    cassette = recorded.cassette("mastodon", "test_account_follow_unfollow.yaml")
    with vcr.use_cassette(str(cassette), record_mode="none"):
        summary = platform.check()
        sent = platform.follow("117020457624302809")
    assert "@admin@localhost (id 117020457624302809)" in summary
    assert sent.external_id == "117020457624302809"


# --- notifications ------------------------------------------------------------------------


def test_recorded_notifications_replay_as_mention_and_follow() -> None:
    platform = MastodonPlatform(
        credentials={"access_token": TOKEN},
        options={"api_base_url": "http://localhost:3000", "timeout": 2},
    )
    cassette = recorded.cassette("mastodon", "test_notifications.yaml")
    # our request adds limit and types[]: match on method and path only
    with vcr.use_cassette(str(cassette), record_mode="none", match_on=["method", "path"]):
        page = platform.notifications("")
    kinds = [(n.external_id, n.kind) for n in page.notifications]
    assert sorted(kinds) == [("19", NotificationKind.FOLLOW), ("22", NotificationKind.MENTION)]
    mention = next(n for n in page.notifications if n.kind == NotificationKind.MENTION)
    assert mention.post is not None and mention.post.external_id == "115045577646096554"
    assert mention.person.handle.startswith("admin@")
    assert page.cursor == "22"


def notification(kind: str, nid: str, account: dict[str, Any], status: Any = None) -> dict:
    """A v1 notification assembled from recorded accounts and statuses."""
    return {
        "id": nid,
        "type": kind,
        "created_at": "2026-08-01T13:55:00.000Z",
        "account": account,
        "status": status,
    }


def test_each_notification_kind_is_mapped(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    # given one notification of each kind, built from the recorded entities
    favouriter = body("status_favourited_by")[0]
    booster = body("status_reblogged_by")[0]
    ours = body("status_favourite")
    reply = body("status_post") | {"in_reply_to_id": ours["id"]}
    direct = body("status_post") | {"visibility": "direct", "id": "117020583245459900"}
    recorded_mention, recorded_follow = body("notifications_mention_follow")
    items = [
        notification("favourite", "31", favouriter, ours),
        notification("reblog", "32", booster, ours),
        notification("mention", "33", reply["account"], reply),
        notification("mention", "34", direct["account"], direct),
        notification("poll", "35", favouriter, ours),  # not something a person did to us
        recorded_mention,
        recorded_follow,
    ]
    httpserver.expect_request("/api/v1/notifications").respond_with_json(
        items, headers=headers("notifications_mention_follow")
    )
    page = platform.notifications("18")
    kinds = {n.external_id: n.kind for n in page.notifications}
    assert kinds == {
        "31": NotificationKind.FAVOURITE,
        "32": NotificationKind.BOOST,
        "33": NotificationKind.REPLY,
        "34": NotificationKind.PRIVATE_MESSAGE,
        "22": NotificationKind.MENTION,
        "19": NotificationKind.FOLLOW,
    }
    by_id = {n.external_id: n for n in page.notifications}
    assert (
        by_id["31"].subject_id == ours["id"] and by_id["31"].person.external_id == favouriter["id"]
    )
    assert by_id["33"].subject_id == ours["id"]
    assert by_id["19"].subject_id == ""
    assert page.cursor == "35"
    request, _ = httpserver.log[-1]
    assert request.args["min_id"] == "18"


def test_malformed_notification_is_skipped_and_passed(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    recorded_mention, recorded_follow = body("notifications_mention_follow")
    broken = {**recorded_mention, "id": "23", "account": None}
    httpserver.expect_request("/api/v1/notifications").respond_with_json(
        [broken, recorded_mention, recorded_follow]
    )
    page = platform.notifications("")
    assert page.skipped == 1
    assert {n.external_id for n in page.notifications} == {"22", "19"}
    assert page.cursor == "23"


def test_empty_notifications_keep_the_cursor(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    httpserver.expect_request("/api/v1/notifications").respond_with_json([])
    page = platform.notifications("22")
    assert page.notifications == [] and page.cursor == "22" and not page.has_more


# --- limits and check ----------------------------------------------------------------------


def test_limits_come_from_the_recorded_instance(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    httpserver.expect_request("/api/v2/instance/").respond_with_json(body("instance_v2"))
    limits = platform.limits()
    assert limits.reply_max_length == 500 and limits.length_unit == "characters"
    assert [response.status_code for _, response in httpserver.log] == [200]
    assert "23" in limits.notes and "hashtag" in limits.notes


def test_limits_follow_an_instance_with_longer_posts(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    instance = body("instance_v2")
    instance["configuration"]["statuses"]["max_characters"] = 5000
    httpserver.expect_request("/api/v2/instance/").respond_with_json(instance)
    assert platform.limits().reply_max_length == 5000


def test_limits_default_to_500_when_the_instance_does_not_say(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    httpserver.expect_request("/api/v2/instance/").respond_with_json({"error": "boom"}, status=500)
    assert platform.limits().reply_max_length == 500


def test_check_reports_the_logged_in_account(
    httpserver: HTTPServer, make: Callable[..., MastodonPlatform]
) -> None:
    httpserver.expect_request("/api/v1/accounts/verify_credentials").respond_with_json(
        body("verify_credentials")
    )
    summary = make(handle="@somebody-else").check()
    assert "@admin@localhost" in summary and OWN_ID in summary
    assert "not the configured @somebody-else" in summary


@pytest.mark.django_db
def test_lone_surrogate_in_a_status_is_stored_and_the_cursor_advances(
    httpserver: HTTPServer, make: Callable[..., MastodonPlatform]
) -> None:
    from monitoring.ingest import store_page
    from monitoring.models import Post
    from tests.factories import SourceFactory

    # given a recorded search page where one status carries "\ud800" (json.dumps escapes it)
    statuses = pool()
    bad = statuses[0]
    statuses[0] = {
        **bad,
        "content": "<p>broken \ud800 text</p>",
        "account": {**bad["account"], "display_name": "name \ud800"},
    }
    httpserver.expect_request("/api/v2/search").respond_with_handler(search_server(statuses))
    source = SourceFactory(platform="mastodon")
    # when the page is read and stored
    page = make().search(QUERY, "")
    stored = store_page(source, page)
    # then every status is stored, the broken one with a replacement character, and the cursor moved
    assert stored == len(statuses)
    post = Post.objects.get(platform="mastodon", external_id=bad["id"])
    assert post.text == "broken \ufffd text"
    assert post.author.display_name == "name \ufffd"
    source.refresh_from_db()
    assert source.cursor and source.cursor == page.cursor


# --- outcomes of writes (issue #14) ------------------------------------------------------------


@pytest.mark.parametrize("fault", faults.AFTER_POSTING)
def test_a_reply_answered_by_a_recording_cut_short_or_a_fault_is_an_unknown_outcome(
    httpserver: HTTPServer, make: Callable[..., MastodonPlatform], fault: str
) -> None:
    handler = faults.answer(fault, body("status_reply"))
    httpserver.expect_request("/api/v1/statuses", method="POST").respond_with_handler(handler)
    platform = make(timeout=faults.TIMEOUT, mention_author=False)
    with pytest.raises(UnknownOutcome):
        platform.reply(in_reply_to="110", text="same!", idempotency_key="k")
    handler.settle()


@pytest.mark.parametrize("mode", ["reset", "cut_on_the_wire"])
def test_a_reply_whose_connection_broke_is_an_unknown_outcome(mode: str) -> None:
    with faults.raw_server(mode) as (url, received):
        platform = MastodonPlatform(
            credentials={"access_token": TOKEN},
            options={"api_base_url": url, "timeout": faults.TIMEOUT, "mention_author": False},
        )
        with pytest.raises(UnknownOutcome):
            platform.reply(in_reply_to="110", text="same!", idempotency_key="k")
    assert received


def test_a_reply_to_a_refused_connection_is_transient_not_unknown() -> None:
    platform = MastodonPlatform(
        credentials={"access_token": TOKEN},
        options={"api_base_url": faults.closed_port(), "mention_author": False},
    )
    with pytest.raises(TransientError) as caught:
        platform.reply(in_reply_to="110", text="same!", idempotency_key="k")
    assert not isinstance(caught.value, UnknownOutcome)


def test_recorded_validation_error_on_a_reply_is_permanent(
    httpserver: HTTPServer, make: Callable[..., MastodonPlatform]
) -> None:
    httpserver.expect_request("/api/v1/statuses", method="POST").respond_with_json(
        body("error_422_validation"), status=422
    )
    with pytest.raises(PermanentError):
        make(mention_author=False).reply(in_reply_to="110", text="same!", idempotency_key="k")


def test_a_follow_cut_short_is_an_unknown_outcome(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    httpserver.expect_request("/api/v1/accounts/42/follow", method="POST").respond_with_handler(
        faults.answer("cut_short", body("account_follow"))
    )
    with pytest.raises(UnknownOutcome):
        platform.follow("42")


def test_a_search_page_cut_short_is_transient_with_the_raw_answer(
    httpserver: HTTPServer, platform: MastodonPlatform
) -> None:
    httpserver.expect_request("/api/v2/search").respond_with_handler(
        faults.answer("cut_short", body("search_v2"))
    )
    with pytest.raises(TransientError) as caught:
        platform.search(QUERY, "")
    assert not isinstance(caught.value, UnknownOutcome)
    assert caught.value.raw == faults.cut(body("search_v2")).decode()


@pytest.mark.django_db
def test_hostile_oversize_and_broken_statuses_are_stored_safely_or_skipped_not_the_page(
    httpserver: HTTPServer, make: Callable[..., MastodonPlatform]
) -> None:
    from monitoring.ingest import store_page
    from monitoring.models import Post
    from tests.factories import SourceFactory

    # given a recorded search page with hostile HTML, oversize fields and broken statuses
    statuses = pool()
    script, huge, long_fields, no_account, bad_account, no_date = statuses[:6]
    statuses[0] = {
        **script,
        "content": '<p>down again <script>alert("x")</script><style>p{}</style>'
        '<a href="javascript:alert(1)">here</a> &lt;b&gt;&amp;</p><iframe src="x">i</iframe>',
    }
    statuses[1] = {**huge, "content": "<p>" + "outage " * 20_000 + "</p>"}
    statuses[2] = {
        **long_fields,
        "url": "https://example.org/" + "u" * 2_000,
        "language": "x" * 40,
        "in_reply_to_id": "9" * 300,
        "account": {
            **long_fields["account"],
            "id": "424242",  # an author of its own
            "display_name": "n" * 400,
            "url": "https://example.org/@" + "p" * 600,
        },
    }
    statuses[3] = {k: v for k, v in no_account.items() if k != "account"}
    statuses[4] = {**bad_account, "account": ["not", "an", "account"]}
    statuses[5] = {k: v for k, v in no_date.items() if k != "created_at"}
    httpserver.expect_request("/api/v2/search").respond_with_handler(search_server(statuses))
    source = SourceFactory(platform="mastodon")
    # when the page is read and stored
    page = make().search(QUERY, "")
    stored = store_page(source, page)
    # then the three broken statuses are skipped, every other one is stored
    assert page.skipped == 3
    assert stored == len(statuses) - 3
    # the hostile HTML is text: no script, no style, no frame, entities decoded once
    text = Post.objects.get(platform="mastodon", external_id=script["id"]).text
    assert text == "down again here <b>&"
    # the oversize text is kept whole; the fields with a length are cut to it
    assert len(Post.objects.get(platform="mastodon", external_id=huge["id"]).text) > 100_000
    long_post = Post.objects.select_related("author").get(
        platform="mastodon", external_id=long_fields["id"]
    )
    assert len(long_post.url) == 1000 and len(long_post.lang) == 10
    assert long_post.in_reply_to == ""
    assert len(long_post.author.display_name) == 255
    assert len(long_post.author.profile_url) == 500
    source.refresh_from_db()
    assert source.cursor == page.cursor
