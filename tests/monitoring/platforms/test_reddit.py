"""Reddit adapter against recorded Reddit API answers.

Two ways, both with real recorded bytes: PRAW's betamax cassettes replayed at the
transport level (requests' adapter), and the normalised recordings
(shared/data/platform_payloads/reddit) served from a local HTTP server. Listings
with other items than were recorded are assembled from recorded things, and each
test says so.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
from betamax import Betamax
from betamax.serializers import JSONSerializer
from pytest_httpserver import HTTPServer
from pytest_httpserver.httpserver import QueryMatcher

from monitoring.platforms.base import (
    NotificationKind,
    NotSupported,
    PermanentError,
    SearchQuery,
    Sent,
    TransientError,
    UnknownOutcome,
)
from monitoring.platforms.reddit import RedditPlatform
from tests.monitoring.platforms import faults, recorded

CREDENTIALS = {
    "client_id": "test-client",
    "client_secret": "test-secret",
    "username": "<USERNAME>",
    "password": "test-password",
    "user_agent": "nojackal tests",
}
TOKEN = "/api/v1/access_token"


class Has(QueryMatcher):
    """Matches when the query string holds these parameters (others may be there too)."""

    def __init__(self, **expected: str | None) -> None:
        self.expected = expected

    def get_comparing_values(self, request_query_string: bytes) -> tuple[Any, Any]:
        query = dict(parse_qsl(request_query_string.decode("utf-8"), keep_blank_values=True))
        return {key: query.get(key) for key in self.expected}, self.expected


class PrawCassette(JSONSerializer):
    """Reads PRAW's betamax cassettes ("interactions" instead of "http_interactions")."""

    name = "praw-json"

    def deserialize(self, cassette_data: str) -> dict[str, Any]:
        data: dict[str, Any] = super().deserialize(cassette_data)
        if "interactions" in data:
            data["http_interactions"] = data.pop("interactions")
        for interaction in data.get("http_interactions", []):
            for side in ("request", "response"):
                body = interaction[side].get("body")
                if not isinstance(body, dict):  # PRAW stores request bodies as plain text
                    interaction[side]["body"] = {"encoding": "utf-8", "string": body or ""}
                interaction[side]["body"].setdefault("encoding", "utf-8")
            # PRAW replays with its placeholders ("<ACCESS_TOKEN>") swapped back for the
            # recorded secrets; we replay the placeholders, so the length must follow.
            response = interaction["response"]
            if "Content-Length" in response["headers"]:
                size = len(response["body"]["string"].encode(response["body"]["encoding"]))
                response["headers"]["Content-Length"] = [str(size)]
        return data

    def serialize(self, cassette_data: dict[str, Any]) -> str:
        raise AssertionError("recorded cassettes are never rewritten")


Betamax.register_serializer(PrawCassette)


def listing(children: list[Any], *, before: str | None = None) -> dict[str, Any]:
    """A Listing in the recorded envelope (search_all's), holding the given things."""
    body = recorded.body("reddit", "search_all")
    body["data"].update(children=children, before=before, after=None)
    return body


def things(filename: str) -> list[dict[str, Any]]:
    return recorded.body("reddit", filename)["data"]["children"]


def thing(filename: str, name: str) -> dict[str, Any]:
    return next(t for t in things(filename) if t["data"]["name"] == name)


@pytest.fixture
def server(httpserver: HTTPServer) -> HTTPServer:
    """The local server answering the token endpoint with the recorded token."""
    httpserver.expect_request(TOKEN, method="POST").respond_with_json(
        recorded.body("reddit", "oauth_access_token")
    )
    return httpserver


@pytest.fixture
def reddit(server: HTTPServer) -> RedditPlatform:
    url = server.url_for("/")
    return RedditPlatform(
        credentials=CREDENTIALS, options={"base_url": url, "auth_url": url, "timeout": 2}
    )


@pytest.fixture
def offline_reddit() -> Iterator[RedditPlatform]:
    """An adapter on the real Reddit URLs, for cassettes (betamax refuses any unrecorded call)."""
    yield RedditPlatform(credentials=CREDENTIALS)


def cassette(platform: RedditPlatform, name: str):
    recorder = Betamax(
        platform.session, cassette_library_dir=str(recorded.PAYLOADS_DIR / "reddit" / "cassettes")
    )
    return recorder.use_cassette(name, serialize_with="praw-json", record="none")


QUERY = SearchQuery(terms=["praw"])


# --- search ---------------------------------------------------------------------------


def test_search_reads_two_pages_with_a_cursor_oldest_first(
    server: HTTPServer, reddit: RedditPlatform
):
    # given the three recorded search results, ordered newest first as sort=new gives
    # them and split in two pages (only one page, sorted by relevance, was recorded)
    newest, middle, oldest = (
        thing("search_all", "t3_3x4kt2"),
        thing("search_all", "t3_3gpbiu"),
        thing("search_all", "t3_3b4erh"),
    )
    server.expect_oneshot_request(
        "/search/", query_string=Has(q='"praw"', sort="new", raw_json="1")
    ).respond_with_json(listing([oldest]))
    server.expect_oneshot_request(
        "/search/", query_string=Has(before="t3_3b4erh")
    ).respond_with_json(listing([newest, middle], before="t3_3x4kt2"))
    server.expect_oneshot_request(
        "/search/", query_string=Has(before="t3_3x4kt2")
    ).respond_with_json(listing([]))
    # (an empty answer to ``before`` is checked against the newest page, see below)
    server.expect_oneshot_request("/search/", query_string=Has(before=None)).respond_with_json(
        listing([newest, middle, oldest])
    )
    # when we poll three times, each from the cursor the last poll gave
    first = reddit.search(QUERY, "")
    second = reddit.search(QUERY, first.cursor)
    third = reddit.search(QUERY, second.cursor)
    # then every post comes once, oldest first, and the empty page keeps the cursor
    assert [p.external_id for p in first.posts] == ["t3_3b4erh"]
    assert json.loads(first.cursor) == {
        "before": "t3_3b4erh",
        "ts": 1435268798.0,
        "seen": ["t3_3b4erh"],
    }
    assert [p.external_id for p in second.posts] == ["t3_3gpbiu", "t3_3x4kt2"]
    assert second.has_more is True
    assert third.posts == [] and third.cursor == second.cursor and third.has_more is False
    assert [entry[0].path for entry in server.log].count("/search/") == 4
    server.check_assertions()


def test_recorded_submission_is_mapped_with_text_and_raw(
    server: HTTPServer, reddit: RedditPlatform
):
    server.expect_request("/search/").respond_with_json(recorded.body("reddit", "search_all"))
    page = reddit.search(QUERY, "")
    post = next(p for p in page.posts if p.external_id == "t3_3b4erh")
    assert post.author.handle == "Ouiski"
    assert post.author.profile_url == "https://www.reddit.com/user/Ouiski"
    assert post.url.startswith(
        "https://www.reddit.com/r/learnpython/comments/3b4erh/collecting_submission_data_from_reddit/"
    )
    assert post.posted_at == dt.datetime.fromtimestamp(1435268798, dt.UTC)
    assert post.text.startswith("Collecting submission data from Reddit\n\nFirst off, I don't")
    assert "&#39;" not in post.text and "<p>" not in post.text and "SC_OFF" not in post.text
    assert post.raw == thing("search_all", "t3_3b4erh")
    assert post.in_reply_to == ""


def test_search_in_a_subreddit_restricts_to_it(server: HTTPServer, reddit: RedditPlatform):
    server.expect_request(
        "/r/redditdev/search/", query_string=Has(restrict_sr="on", sort="new")
    ).respond_with_json(listing([thing("search_all", "t3_3gpbiu")]))
    query = SearchQuery(
        terms=["praw", "oauth"], exclusions=["spam"], options={"subreddit": "r/redditdev"}
    )
    page = reddit.search(query, "")
    assert [p.external_id for p in page.posts] == ["t3_3gpbiu"]
    [(request, _)] = [entry for entry in server.log if entry[0].path != TOKEN]
    assert request.args["q"] == '("praw" OR "oauth") NOT "spam"'


def test_local_filter_drops_results_that_do_not_say_the_term(
    server: HTTPServer, reddit: RedditPlatform
):
    server.expect_request("/search/").respond_with_json(recorded.body("reddit", "search_all"))
    page = reddit.search(SearchQuery(terms=["praw"], exclusions=["OAuth2Util"]), "")
    assert "t3_3gpbiu" not in [p.external_id for p in page.posts]
    # the cursor moves to the newest item read, matched or not
    assert json.loads(page.cursor) == {
        "before": "t3_3gpbiu",
        "ts": 1439370514.0,
        "seen": ["t3_3gpbiu"],
    }


def test_malformed_item_is_skipped_and_the_rest_of_the_page_kept(
    server: HTTPServer, reddit: RedditPlatform
):
    broken = thing("search_all", "t3_3x4kt2")
    broken["data"]["created_utc"] = "yesterday"
    server.expect_request("/search/").respond_with_json(
        listing([broken, {"kind": "t3"}, thing("search_all", "t3_3b4erh")])
    )
    page = reddit.search(QUERY, "")
    assert [p.external_id for p in page.posts] == ["t3_3b4erh"]
    assert page.skipped == 2
    # the newest item is unreadable, so the cursor rests on the newest readable one
    assert json.loads(page.cursor) == {
        "before": "t3_3b4erh",
        "ts": 1435268798.0,
        "seen": ["t3_3b4erh"],
    }


def test_rate_limit_headers_are_read(server: HTTPServer, reddit: RedditPlatform):
    doc = recorded.load("reddit", "inbox_mentions")
    server.expect_request("/search/").respond_with_json(
        listing([]), headers={k: v for k, v in doc["response"]["headers"].items() if "rate" in k}
    )
    limit = reddit.search(QUERY, "").rate_limit
    assert limit is not None
    assert (limit.limit, limit.remaining) == (10000, 9324)  # used 676 + remaining 9324
    assert limit.reset_at is not None


def test_429_is_transient_with_retry_after(server: HTTPServer, reddit: RedditPlatform):
    # Reddit's documented 429: {"message": "Too Many Requests", "error": 429} and the
    # x-ratelimit headers (the recordings have no 429)
    server.expect_request("/search/").respond_with_json(
        {"message": "Too Many Requests", "error": 429},
        status=429,
        headers={
            "Retry-After": "42",
            "x-ratelimit-remaining": "0.0",
            "x-ratelimit-used": "1000",
            "x-ratelimit-reset": "42",
        },
    )
    with pytest.raises(TransientError, match="Too Many Requests") as caught:
        reddit.search(QUERY, "")
    assert caught.value.retry_after == 42


def test_429_without_retry_after_waits_for_the_window_reset(
    server: HTTPServer, reddit: RedditPlatform
):
    server.expect_request("/search/").respond_with_json(
        {"message": "Too Many Requests", "error": 429},
        status=429,
        headers={"x-ratelimit-remaining": "0.0", "x-ratelimit-reset": "300"},
    )
    with pytest.raises(TransientError) as caught:
        reddit.search(QUERY, "")
    assert caught.value.retry_after is not None and 290 <= caught.value.retry_after <= 300


@pytest.mark.parametrize("recording", ["error_401_invalid_token", "error_403_forbidden"])
def test_401_and_403_are_permanent_with_reddits_message(
    server: HTTPServer, reddit: RedditPlatform, recording: str
):
    doc = recorded.load("reddit", recording)
    server.expect_request("/search/").respond_with_json(
        doc["response"]["body"], status=doc["response"]["status"]
    )
    with pytest.raises(PermanentError, match=doc["response"]["body"]["message"]):
        reddit.search(QUERY, "")


def test_wrong_password_is_permanent(httpserver: HTTPServer):
    # Reddit answers a bad password grant with 200 {"error": "invalid_grant"}
    httpserver.expect_request(TOKEN).respond_with_json({"error": "invalid_grant"})
    url = httpserver.url_for("/")
    reddit = RedditPlatform(credentials=CREDENTIALS, options={"base_url": url, "auth_url": url})
    with pytest.raises(PermanentError, match="invalid_grant"):
        reddit.search(QUERY, "")


def test_check_reports_the_platforms_refusal(server: HTTPServer, reddit: RedditPlatform):
    doc = recorded.load("reddit", "error_401_invalid_token")  # recorded GET /api/v1/me
    server.expect_request("/api/v1/me").respond_with_json(doc["response"]["body"], status=401)
    with pytest.raises(PermanentError, match="401 Unauthorized"):
        reddit.check()


def test_check_names_our_account(server: HTTPServer, reddit: RedditPlatform):
    server.expect_request("/api/v1/me").respond_with_json(
        {"name": "nojackal_bot", "total_karma": 3}
    )
    assert reddit.check() == "logged in as u/nojackal_bot (3 karma)"


def test_default_user_agent_follows_reddits_rule(server: HTTPServer):
    url = server.url_for("/")
    credentials = {k: v for k, v in CREDENTIALS.items() if k != "user_agent"}
    reddit = RedditPlatform(credentials=credentials, options={"base_url": url, "auth_url": url})
    server.expect_request("/search/").respond_with_json(listing([]))
    reddit.search(QUERY, "")
    assert server.log[-1][0].headers["User-Agent"] == "python:nojackal:0.1 (by /u/<USERNAME>)"


def test_missing_credentials_are_named_without_values():
    reddit = RedditPlatform(credentials={"client_id": "abc", "password": "hunter2"})
    with pytest.raises(PermanentError) as caught:
        reddit.search(QUERY, "")
    assert "client_secret" in str(caught.value) and "username" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_deleted_cursor_post_does_not_stall_the_source(server: HTTPServer, reddit: RedditPlatform):
    # given a cursor on a post since removed: Reddit answers ``before`` with nothing
    cursor = json.dumps({"before": "t3_gone1", "ts": 1439370514.0, "seen": ["t3_gone1"]})
    server.expect_oneshot_request(
        "/search/", query_string=Has(before="t3_gone1")
    ).respond_with_json(listing([]))
    # and the newest page holds the recorded results (ordered as sort=new would)
    server.expect_oneshot_request("/search/", query_string=Has(before=None)).respond_with_json(
        listing(
            [
                thing("search_all", "t3_3x4kt2"),
                thing("search_all", "t3_3gpbiu"),
                thing("search_all", "t3_3b4erh"),
            ]
        )
    )
    page = reddit.search(QUERY, cursor)
    # then the posts newer than the lost cursor come, and its second's unseen ones
    assert [p.external_id for p in page.posts] == ["t3_3gpbiu", "t3_3x4kt2"]
    assert json.loads(page.cursor) == {
        "before": "t3_3x4kt2",
        "ts": 1450299786.0,
        "seen": ["t3_3x4kt2"],
    }
    server.check_assertions()


def test_quiet_poll_does_not_repeat_posts_of_the_cursors_second(
    server: HTTPServer, reddit: RedditPlatform
):
    # given two recorded posts made to share one second, both already delivered
    first = thing("search_all", "t3_3x4kt2")
    twin = thing("search_all", "t3_3gpbiu")
    twin["data"]["created_utc"] = first["data"]["created_utc"]
    cursor = json.dumps(
        {"before": "t3_3x4kt2", "ts": 1450299786.0, "seen": ["t3_3gpbiu", "t3_3x4kt2"]}
    )
    server.expect_oneshot_request(
        "/search/", query_string=Has(before="t3_3x4kt2")
    ).respond_with_json(listing([]))
    server.expect_oneshot_request("/search/", query_string=Has(before=None)).respond_with_json(
        listing([first, twin])
    )
    page = reddit.search(QUERY, cursor)
    assert page.posts == [] and page.cursor == cursor


def test_500_is_transient_and_the_same_cursor_succeeds_next_time(
    server: HTTPServer, reddit: RedditPlatform
):
    cursor = json.dumps({"before": "t3_3b4erh"})
    server.expect_oneshot_request("/search/").respond_with_data("upstream", status=502)
    server.expect_oneshot_request(
        "/search/", query_string=Has(before="t3_3b4erh")
    ).respond_with_json(listing([thing("search_all", "t3_3gpbiu")]))
    with pytest.raises(TransientError):
        reddit.search(QUERY, cursor)
    assert [p.external_id for p in reddit.search(QUERY, cursor).posts] == ["t3_3gpbiu"]


def test_token_is_fetched_once_and_reused(server: HTTPServer, reddit: RedditPlatform):
    server.expect_request("/search/").respond_with_json(listing([]))
    reddit.search(QUERY, "")
    reddit.search(QUERY, "")
    assert [entry[0].path for entry in server.log].count(TOKEN) == 1
    token_request = server.log[0][0]
    assert token_request.form["grant_type"] == "password"
    assert token_request.authorization is not None
    assert token_request.authorization.username == "test-client"


def test_missing_subreddit_redirect_is_permanent(server: HTTPServer, reddit: RedditPlatform):
    # Reddit sends a missing subreddit to its subreddit search page
    server.expect_request("/r/nosuchsub123/search/").respond_with_data(
        "", status=302, headers={"Location": "/subreddits/search.json?q=nosuchsub123"}
    )
    with pytest.raises(PermanentError, match="not found"):
        reddit.search(SearchQuery(terms=["praw"], options={"subreddit": "nosuchsub123"}), "")


def test_banned_subreddit_404_is_permanent(server: HTTPServer, reddit: RedditPlatform):
    server.expect_request("/r/gone/search/").respond_with_json(
        {"reason": "banned", "message": "Not Found", "error": 404}, status=404
    )
    with pytest.raises(PermanentError, match="Not Found"):
        reddit.search(SearchQuery(terms=["praw"], options={"subreddit": "gone"}), "")


@pytest.mark.parametrize("name", ["../api/v1/me", "a", "with space", "x" * 30])
def test_invalid_subreddit_name_is_a_configuration_error(reddit: RedditPlatform, name: str):
    with pytest.raises(PermanentError, match="subreddit"):
        reddit.search(SearchQuery(terms=["praw"], options={"subreddit": name}), "")


def test_network_fault_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    reddit = RedditPlatform(
        credentials=CREDENTIALS, options={"base_url": url, "auth_url": url, "timeout": 1}
    )
    with pytest.raises(TransientError):
        reddit.search(QUERY, "")


@pytest.mark.parametrize("bad", ["nope", '{"before": "DROP TABLE"}', "[]"])
def test_unreadable_cursor_is_permanent(reddit: RedditPlatform, bad: str):
    with pytest.raises(PermanentError):
        reddit.search(QUERY, bad)


# --- thread ---------------------------------------------------------------------------


def test_thread_flattens_the_recorded_submission_and_comment_tree(
    server: HTTPServer, reddit: RedditPlatform
):
    server.expect_request("/comments/2gmzqe/").respond_with_json(
        recorded.body("reddit", "submission_comments_thread")
    )
    posts = reddit.thread("t3_2gmzqe")
    assert [p.external_id for p in posts] == ["t3_2gmzqe", "t1_cklfmye", "t1_cklhv0f"]
    assert [p.in_reply_to for p in posts] == ["", "t3_2gmzqe", "t1_cklfmye"]
    assert posts[0].text.startswith("[PRAW] HTTPS enabled PRAW testing needed\n\nPRAW client")
    assert "https://github.com/praw-dev/praw/issues" in posts[0].text
    assert posts[2].author.handle == "bboe"


def test_thread_of_a_comment_asks_for_its_submission_with_context(
    server: HTTPServer, reddit: RedditPlatform
):
    # given our recorded reply (a comment on submission 4b1tfm) as /api/info's answer,
    # and the recorded thread body standing in for that submission's comments
    ours = recorded.body("reddit", "comment_reply_to_comment")["json"]["data"]["things"][0]
    server.expect_request("/api/info/", query_string=Has(id="t1_d1680wu")).respond_with_json(
        listing([ours])
    )
    server.expect_request(
        "/comments/4b1tfm/", query_string=Has(comment="d1680wu", context="8")
    ).respond_with_json(recorded.body("reddit", "submission_comments_thread"))
    posts = reddit.thread("t1_d1680wu")
    assert [p.external_id for p in posts] == ["t3_2gmzqe", "t1_cklfmye", "t1_cklhv0f"]
    server.check_assertions()


@pytest.mark.parametrize("bad", ["t2_abc", "t3_../../x", ""])
def test_thread_of_something_that_is_not_a_post_is_refused(reddit: RedditPlatform, bad: str):
    with pytest.raises(PermanentError):
        reddit.thread(bad)


# --- reply and find_reply -------------------------------------------------------------


def test_reply_replays_praws_recorded_cassette(offline_reddit: RedditPlatform):
    # given PRAW's betamax cassette: the password grant, then POST /api/comment
    with cassette(offline_reddit, "TestComment.test_reply"):
        sent = offline_reddit.reply(
            in_reply_to="t1_d1616q2", text="Comment reply", idempotency_key="k1"
        )
    assert sent == Sent(
        external_id="t1_d1680wu", url="https://www.reddit.com/comments/4b1tfm/_/d1680wu"
    )


def test_reply_to_a_submission_sends_the_form_reddit_expects(
    server: HTTPServer, reddit: RedditPlatform
):
    doc = recorded.load("reddit", "comment_reply_to_submission")
    server.expect_request("/api/comment/", method="POST").respond_with_json(
        doc["response"]["body"], headers=doc["response"]["headers"]
    )
    sent = reddit.reply(in_reply_to="t3_4b1tfm", text="Test reply", idempotency_key="k2")
    assert sent.external_id == "t1_d162ara"
    [request] = [entry[0] for entry in server.log if entry[0].path == "/api/comment/"]
    assert dict(request.form) == dict(parse_qsl(doc["request"]["body"]))
    assert request.headers["Authorization"] == "bearer <ACCESS_TOKEN>"


def test_reply_over_10000_characters_is_refused_before_sending(
    server: HTTPServer, reddit: RedditPlatform
):
    with pytest.raises(PermanentError, match="10000"):
        reddit.reply(in_reply_to="t3_4b1tfm", text="x" * 10_001, idempotency_key="k")
    assert all(entry[0].path != "/api/comment/" for entry in server.log)
    assert reddit.limits().reply_max_length == 10_000


@pytest.mark.parametrize("target", ["", "t2_abc", "4b1tfm", "t3_../x"])
def test_reply_to_something_that_is_not_a_post_is_refused(reddit: RedditPlatform, target: str):
    with pytest.raises(PermanentError):
        reddit.reply(in_reply_to=target, text="hello", idempotency_key="k")


def test_reply_ratelimit_error_is_transient_with_its_wait(
    server: HTTPServer, reddit: RedditPlatform
):
    # Reddit's documented RATELIMIT answer (200 with json.errors); not recorded
    server.expect_request("/api/comment/").respond_with_json(
        {
            "json": {
                "errors": [
                    [
                        "RATELIMIT",
                        "Looks like you've been doing that a lot. Take a break for 5 minutes "
                        "before trying again.",
                        "ratelimit",
                    ]
                ]
            }
        }
    )
    with pytest.raises(TransientError) as caught:
        reddit.reply(in_reply_to="t3_4b1tfm", text="hello", idempotency_key="k")
    assert caught.value.retry_after == 300


def test_reply_to_a_locked_thread_is_permanent(server: HTTPServer, reddit: RedditPlatform):
    server.expect_request("/api/comment/").respond_with_json(
        {"json": {"errors": [["THREAD_LOCKED", "Comments are locked.", "parent"]]}}
    )
    with pytest.raises(PermanentError, match="THREAD_LOCKED"):
        reddit.reply(in_reply_to="t3_4b1tfm", text="hello", idempotency_key="k")


def test_find_reply_finds_our_comment_under_the_post(server: HTTPServer, reddit: RedditPlatform):
    # given our recent comments, assembled from the two recorded replies we sent
    ours = [
        recorded.body("reddit", "comment_reply_to_comment")["json"]["data"]["things"][0],
        recorded.body("reddit", "comment_reply_to_submission")["json"]["data"]["things"][0],
    ]
    server.expect_request(
        "/user/<USERNAME>/comments/", query_string=Has(sort="new")
    ).respond_with_json(listing(ours))
    found = reddit.find_reply(in_reply_to="t3_4b1tfm", idempotency_key="k")
    missing = reddit.find_reply(in_reply_to="t3_other", idempotency_key="k")
    assert found is not None and found.external_id == "t1_d162ara"
    assert missing is None
    # our comment already recorded (a first reply, when a later one is sought) is skipped
    skipped = reddit.find_reply(
        in_reply_to="t3_4b1tfm", idempotency_key="k", exclude=["t1_d162ara"]
    )
    assert skipped is None


# --- notifications --------------------------------------------------------------------


def test_inbox_gives_replies_and_private_messages_oldest_first(
    server: HTTPServer, reddit: RedditPlatform
):
    server.expect_request("/message/inbox/").respond_with_json(
        recorded.body("reddit", "inbox_unread")
    )
    page = reddit.notifications("")
    got = [(n.external_id, n.kind, n.subject_id) for n in page.notifications]
    assert got == [
        ("t4_2ap1zhj", NotificationKind.PRIVATE_MESSAGE, ""),
        ("t4_2izsnl2", NotificationKind.PRIVATE_MESSAGE, ""),
        ("t1_m30xcs6", NotificationKind.REPLY, "t3_1hirfbl"),  # post_reply
        ("t4_2r17c8r", NotificationKind.PRIVATE_MESSAGE, ""),
        ("t1_myngt77", NotificationKind.REPLY, "t1_mynfuan"),  # comment_reply
    ]
    message = page.notifications[-2]
    assert message.person.handle == "Lil_SpazTest" and message.post is not None
    assert message.post.text == "test"
    assert message.created_at == dt.datetime.fromtimestamp(1747841818, dt.UTC)
    assert json.loads(page.cursor) == {
        "before": "t1_myngt77",
        "ts": 1750348671.0,
        "seen": ["t1_myngt77"],
    }


def test_inbox_mentions_are_mentions_about_no_post_of_ours(
    server: HTTPServer, reddit: RedditPlatform
):
    server.expect_request("/message/inbox/").respond_with_json(
        recorded.body("reddit", "inbox_mentions")
    )
    page = reddit.notifications("")
    assert {n.kind for n in page.notifications} == {NotificationKind.MENTION}
    assert all(n.subject_id == "" for n in page.notifications)
    first = page.notifications[-1]
    assert first.post is not None and first.post.in_reply_to == "t3_bb24k7"
    assert first.post.url.startswith("https://www.reddit.com/r/RemovedByBotter/comments/")
    assert "Your submission (https://redd.it/bb1sep) was removed" in first.post.text


def test_inbox_comment_replies_point_at_our_comment_and_resume_from_cursor(
    server: HTTPServer, reddit: RedditPlatform
):
    server.expect_oneshot_request("/message/inbox/").respond_with_json(
        recorded.body("reddit", "inbox_comment_replies")
    )
    server.expect_oneshot_request(
        "/message/inbox/", query_string=Has(before="t1_mynqwvd")
    ).respond_with_json(listing([]))
    server.expect_oneshot_request("/message/inbox/").respond_with_json(
        recorded.body("reddit", "inbox_comment_replies")
    )
    page = reddit.notifications("")
    assert {(n.kind, n.subject_id) for n in page.notifications} == {
        (NotificationKind.REPLY, "t1_myngt77")
    }
    assert page.notifications[-1].external_id == "t1_mynqwvd"
    again = reddit.notifications(page.cursor)
    assert again.notifications == [] and again.cursor == page.cursor
    server.check_assertions()


def test_unknown_inbox_item_is_skipped(server: HTTPServer, reddit: RedditPlatform):
    odd = thing("inbox_mentions", "t1_ekftbox")
    odd["data"].update(type="mod_note", subject="something new")
    server.expect_request("/message/inbox/").respond_with_json(
        listing([odd, thing("inbox_mentions", "t1_ekftage")])
    )
    page = reddit.notifications("")
    assert [n.external_id for n in page.notifications] == ["t1_ekftage"]
    assert page.skipped == 1


# --- what Reddit does not allow -------------------------------------------------------


def test_follow_is_not_supported_and_limits_say_so(reddit: RedditPlatform):
    limits = reddit.limits()
    assert limits.can_follow is False and "follow is not supported" in limits.notes
    with pytest.raises(NotSupported):
        reddit.follow("t2_6c1xj")


# --- outcomes of writes (issue #14) ------------------------------------------------------------


@pytest.mark.parametrize("fault", faults.AFTER_POSTING)
def test_a_reply_answered_by_a_recording_cut_short_or_a_fault_is_an_unknown_outcome(
    server: HTTPServer, fault: str
) -> None:
    url = server.url_for("/")
    reddit = RedditPlatform(
        credentials=CREDENTIALS,
        options={"base_url": url, "auth_url": url, "timeout": faults.TIMEOUT},
    )
    handler = faults.answer(fault, recorded.body("reddit", "comment_reply_to_submission"))
    server.expect_request("/api/comment/", method="POST").respond_with_handler(handler)
    with pytest.raises(UnknownOutcome):
        reddit.reply(in_reply_to="t3_4b1tfm", text="Test reply", idempotency_key="k2")
    handler.settle()


def test_a_reply_answered_2xx_without_the_comment_is_an_unknown_outcome(
    server: HTTPServer, reddit: RedditPlatform
) -> None:
    answer = recorded.body("reddit", "comment_reply_to_submission")
    answer["json"]["data"]["things"] = []
    server.expect_request("/api/comment/", method="POST").respond_with_json(answer)
    with pytest.raises(UnknownOutcome):
        reddit.reply(in_reply_to="t3_4b1tfm", text="Test reply", idempotency_key="k2")


@pytest.mark.parametrize("mode", ["reset", "cut_on_the_wire"])
def test_a_reply_whose_connection_broke_is_an_unknown_outcome(
    server: HTTPServer, reddit: RedditPlatform, mode: str
) -> None:
    reddit._access_token()  # logged in on the recorded token server
    with faults.raw_server(mode) as (url, received):
        reddit.opts = reddit.Options.parse({**reddit.options, "base_url": url})
        with pytest.raises(UnknownOutcome):
            reddit.reply(in_reply_to="t3_4b1tfm", text="Test reply", idempotency_key="k2")
    assert received


def test_a_login_that_breaks_is_transient_not_unknown() -> None:
    # The token request is a POST, but it creates nothing: never an unknown outcome.
    with faults.raw_server("reset") as (url, _):
        reddit = RedditPlatform(
            credentials=CREDENTIALS,
            options={"base_url": url, "auth_url": url, "timeout": faults.TIMEOUT},
        )
        with pytest.raises(TransientError) as caught:
            reddit.reply(in_reply_to="t3_4b1tfm", text="Test reply", idempotency_key="k2")
    assert not isinstance(caught.value, UnknownOutcome)


def test_a_search_page_cut_short_is_transient_with_the_raw_answer(
    server: HTTPServer, reddit: RedditPlatform
) -> None:
    server.expect_request("/search/").respond_with_handler(
        faults.answer("cut_short", recorded.body("reddit", "search_all"))
    )
    with pytest.raises(TransientError) as caught:
        reddit.search(SearchQuery(terms=["praw"]), "")
    assert not isinstance(caught.value, UnknownOutcome)
    # what Reddit sent, as far as the admin keeps it
    assert caught.value.raw
    assert faults.cut(recorded.body("reddit", "search_all")).decode().startswith(caught.value.raw)
