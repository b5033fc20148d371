"""Hacker News adapter against recorded Algolia HN Search answers served from a local server.

The recordings (shared/data/platform_payloads/hackernews, 2014) hold one hit per
answer; pages of several hits are assembled from those recorded hits inside the
recorded envelope, and each test says so.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
from typing import Any
from urllib.parse import parse_qsl

import pytest
from pytest_httpserver import HTTPServer
from pytest_httpserver.httpserver import QueryMatcher

from monitoring.platforms.base import (
    NotSupported,
    PermanentError,
    SearchQuery,
    TransientError,
)
from monitoring.platforms.hackernews import HackerNewsPlatform
from tests.monitoring.platforms import recorded

SEARCH = "/api/v1/search_by_date"


class Has(QueryMatcher):
    """Matches when the query string holds these parameters (others may be there too)."""

    def __init__(self, **expected: str) -> None:
        self.expected = expected

    def get_comparing_values(self, request_query_string: bytes) -> tuple[Any, Any]:
        query = dict(parse_qsl(request_query_string.decode("utf-8"), keep_blank_values=True))
        return {key: query.get(key) for key in self.expected}, self.expected


def hit(filename: str) -> dict[str, Any]:
    """The one recorded hit of a recorded search answer."""
    return recorded.body("hackernews", filename)["hits"][0]


def answer(
    hits: list[Any], *, page: int = 0, nb_pages: int = 1, per_page: int = 0, nb_hits: int = 0
) -> dict:
    """A search answer in the recorded envelope, carrying the given (recorded) hits."""
    body = recorded.body("hackernews", "search_by_date_story_query")
    per_page = per_page or max(1, len(hits))
    nb_hits = nb_hits or nb_pages * per_page
    body.update(hits=hits, page=page, nbPages=nb_pages, hitsPerPage=per_page, nbHits=nb_hits)
    return body


def cursor(ts: int, *seen: str) -> str:
    return json.dumps({"ts": ts, "seen": list(seen)})


@pytest.fixture
def hn(httpserver: HTTPServer) -> HackerNewsPlatform:
    return HackerNewsPlatform(options={"base_url": httpserver.url_for("/"), "timeout": 2})


STORY = "search_by_date_story_query"  # 7919424, 1403235346, "Judge says ... Apple ..."
COMMENT = "search_by_date_comments"  # 7919431, 1403235595, "A perennial HN favorite ..."
ASK = "search_by_date_page2"  # 7915384, 1403171610, "Ask HN: ..."


def test_first_poll_maps_the_recorded_story(httpserver: HTTPServer, hn: HackerNewsPlatform):
    # given Algolia's recorded answer for "apple"
    httpserver.expect_request(SEARCH, query_string=Has(query="apple", page="0")).respond_with_json(
        recorded.body("hackernews", STORY)
    )
    # when we poll for the first time
    page = hn.search(SearchQuery(terms=["apple"]), "")
    # then the story is mapped, its raw hit kept, and the cursor sits on it
    [post] = page.posts
    assert post.external_id == "7919424"
    assert post.author.handle == "bradleyjg"
    assert post.author.profile_url == "https://news.ycombinator.com/user?id=bradleyjg"
    assert post.url == "https://news.ycombinator.com/item?id=7919424"
    assert post.posted_at == dt.datetime(2014, 6, 20, 3, 35, 46, tzinfo=dt.UTC)
    assert post.text.startswith("Judge says concerned about Apple, Google hiring settlement")
    assert "http://in.reuters.com/article/2014/06/19/apple-google" in post.text
    assert post.in_reply_to == ""
    assert post.raw == hit(STORY)
    assert json.loads(page.cursor) == {"ts": 1403235346, "seen": ["7919424"]}
    assert page.has_more is False
    httpserver.check_assertions()


def test_comment_html_becomes_text_with_entities_decoded_and_link_kept(
    httpserver: HTTPServer, hn: HackerNewsPlatform
):
    httpserver.expect_request(SEARCH).respond_with_json(recorded.body("hackernews", COMMENT))
    [post] = hn.search(SearchQuery(terms=["fibonacci"]), "").posts
    assert "<p>" not in post.text and "&#x27;" not in post.text and "<a" not in post.text
    assert "What's fascinating about this topic" in post.text
    assert "https://hn.algolia.com/?q=Fibonacci+Flim-Flam" in post.text
    assert post.in_reply_to == "7919207"


def test_backlog_of_two_pages_is_read_oldest_page_first_then_resumed(
    httpserver: HTTPServer, hn: HackerNewsPlatform
):
    # given a cursor before two new hits that Algolia spreads over two pages; the
    # pages are assembled from recorded hits (the 2014 recording has one hit per answer)
    since = 1403000000
    newest, oldest = hit(COMMENT), hit(ASK)
    httpserver.expect_ordered_request(SEARCH, query_string=Has(page="0")).respond_with_json(
        answer([newest], page=0, nb_pages=2, per_page=1)
    )
    httpserver.expect_ordered_request(
        SEARCH,
        query_string=Has(
            page="1", numericFilters=f"created_at_i>={since},created_at_i<=1403235595"
        ),
    ).respond_with_json(answer([oldest], page=1, nb_pages=2, per_page=1))
    # when we poll: the oldest page comes first and the cursor stops there
    first = hn.search(SearchQuery(terms=["HN"]), cursor(since))
    assert [p.external_id for p in first.posts] == ["7915384"]
    assert first.has_more is True
    assert json.loads(first.cursor) == {"ts": 1403171610, "seen": ["7915384"]}
    # and when we poll again from that cursor, Algolia now answers both in one page
    httpserver.expect_ordered_request(
        SEARCH, query_string=Has(page="0", numericFilters="created_at_i>=1403171610")
    ).respond_with_json(answer([newest, oldest]))
    second = hn.search(SearchQuery(terms=["HN"]), first.cursor)
    # then the newer hit comes, and the one already seen does not come twice
    assert [p.external_id for p in second.posts] == ["7919431"]
    assert second.has_more is False
    assert json.loads(second.cursor) == {"ts": 1403235595, "seen": ["7919431"]}
    httpserver.check_assertions()


def test_backlog_past_algolias_pagination_limit_narrows_the_window_instead_of_skipping(
    httpserver: HTTPServer, hn: HackerNewsPlatform
):
    # given three new hits but Algolia serves only two pages of one (its pagination
    # limit, as nbPages=1000 in the recordings); pages assembled from recorded hits
    since = 1403000000
    httpserver.expect_ordered_request(SEARCH, query_string=Has(page="0")).respond_with_json(
        answer([hit(COMMENT)], page=0, nb_pages=2, per_page=1, nb_hits=3)
    )
    httpserver.expect_ordered_request(SEARCH, query_string=Has(page="1")).respond_with_json(
        answer([hit(STORY)], page=1, nb_pages=2, per_page=1, nb_hits=3)
    )
    # then the adapter narrows to hits no newer than the oldest it reached, from page 0
    httpserver.expect_ordered_request(
        SEARCH,
        query_string=Has(
            page="0", numericFilters=f"created_at_i>={since},created_at_i<=1403235346"
        ),
    ).respond_with_json(answer([hit(STORY), hit(ASK)]))
    page = hn.search(SearchQuery(terms=["apple", "HN"]), cursor(since))
    assert [p.external_id for p in page.posts] == ["7915384", "7919424"]
    assert page.has_more is True
    assert json.loads(page.cursor) == {"ts": 1403235346, "seen": ["7919424"]}
    httpserver.check_assertions()


def test_window_that_shrank_between_requests_is_read_from_its_own_last_page(
    httpserver: HTTPServer, hn: HackerNewsPlatform
):
    # given a first answer of three pages, but the pinned window holds two (pages
    # assembled from recorded hits)
    httpserver.expect_ordered_request(SEARCH, query_string=Has(page="0")).respond_with_json(
        answer([hit(COMMENT)], page=0, nb_pages=3, per_page=1)
    )
    httpserver.expect_ordered_request(SEARCH, query_string=Has(page="2")).respond_with_json(
        answer([], page=2, nb_pages=2, per_page=1)
    )
    httpserver.expect_ordered_request(SEARCH, query_string=Has(page="1")).respond_with_json(
        answer([hit(ASK)], page=1, nb_pages=2, per_page=1)
    )
    page = hn.search(SearchQuery(terms=["HN"]), cursor(1403000000))
    assert [p.external_id for p in page.posts] == ["7915384"]
    httpserver.check_assertions()


def test_hits_in_the_cursor_second_not_yet_seen_are_kept(
    httpserver: HTTPServer, hn: HackerNewsPlatform
):
    # given the cursor saw one hit at second T and another hit shares that second
    twin = hit(STORY) | {"objectID": "7919425", "title": "Apple again"}
    httpserver.expect_request(SEARCH).respond_with_json(answer([twin, hit(STORY)]))
    page = hn.search(SearchQuery(terms=["apple"]), cursor(1403235346, "7919424"))
    assert [p.external_id for p in page.posts] == ["7919425"]
    assert json.loads(page.cursor) == {"ts": 1403235346, "seen": ["7919424", "7919425"]}


def test_empty_page_leaves_the_cursor_where_it_was(httpserver: HTTPServer, hn: HackerNewsPlatform):
    httpserver.expect_request(SEARCH).respond_with_json(answer([], nb_pages=0))
    before = cursor(1403235346, "7919424")
    page = hn.search(SearchQuery(terms=["apple"]), before)
    assert page.posts == [] and page.cursor == before and page.skipped == 0


def test_prefix_only_match_is_dropped_but_the_cursor_moves_past_it(
    httpserver: HTTPServer, hn: HackerNewsPlatform
):
    # given Algolia's recorded prefix match: "apple" highlighted inside "appreciate"
    httpserver.expect_request(SEARCH).respond_with_json(recorded.body("hackernews", ASK))
    page = hn.search(SearchQuery(terms=["apple"]), cursor(1403000000))
    assert page.posts == []
    assert json.loads(page.cursor)["ts"] == 1403171610


def test_exclusions_drop_a_hit(httpserver: HTTPServer, hn: HackerNewsPlatform):
    httpserver.expect_request(SEARCH).respond_with_json(recorded.body("hackernews", STORY))
    page = hn.search(SearchQuery(terms=["apple"], exclusions=["google"]), "")
    assert page.posts == []


def test_malformed_hit_is_skipped_and_the_rest_of_the_page_kept(
    httpserver: HTTPServer, hn: HackerNewsPlatform
):
    broken = hit(STORY) | {"objectID": "7919426", "author": None}
    httpserver.expect_request(SEARCH).respond_with_json(
        answer([hit(COMMENT), broken, "not a hit", hit(STORY)])
    )
    page = hn.search(SearchQuery(terms=["apple", "HN"]), cursor(1403000000))
    assert sorted(p.external_id for p in page.posts) == ["7919424", "7919431"]
    assert [p.external_id for p in page.posts] == ["7919424", "7919431"]  # oldest first
    assert page.skipped == 2


def test_several_terms_are_sent_as_optional_words(httpserver: HTTPServer, hn: HackerNewsPlatform):
    httpserver.expect_request(
        SEARCH, query_string=Has(query='apple "big corp"', optionalWords='apple "big corp"')
    ).respond_with_json(answer([]))
    hn.search(SearchQuery(terms=["apple", "big corp"]), "")
    httpserver.check_assertions()


def test_429_is_transient_with_retry_after(httpserver: HTTPServer, hn: HackerNewsPlatform):
    # Algolia's documented error body shape; the recordings have no 429
    httpserver.expect_request(SEARCH).respond_with_json(
        {"message": "Too many requests", "status": 429},
        status=429,
        headers={"Retry-After": "30"},
    )
    with pytest.raises(TransientError) as caught:
        hn.search(SearchQuery(terms=["apple"]), "")
    assert caught.value.retry_after == 30
    assert "Too many requests" in str(caught.value)


def test_500_is_transient_and_the_same_cursor_succeeds_next_time(
    httpserver: HTTPServer, hn: HackerNewsPlatform
):
    before = cursor(1403000000)
    httpserver.expect_ordered_request(SEARCH).respond_with_data("oops", status=500)
    httpserver.expect_ordered_request(SEARCH).respond_with_json(answer([hit(STORY)]))
    with pytest.raises(TransientError):
        hn.search(SearchQuery(terms=["apple"]), before)
    page = hn.search(SearchQuery(terms=["apple"]), before)
    assert [p.external_id for p in page.posts] == ["7919424"]


def test_bad_request_is_permanent_with_algolia_message(
    httpserver: HTTPServer, hn: HackerNewsPlatform
):
    httpserver.expect_request(SEARCH).respond_with_json(
        {"message": "invalid numericFilters", "status": 400}, status=400
    )
    with pytest.raises(PermanentError, match="invalid numericFilters"):
        hn.search(SearchQuery(terms=["apple"]), "")


def test_network_fault_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    hn = HackerNewsPlatform(options={"base_url": f"http://127.0.0.1:{port}", "timeout": 1})
    with pytest.raises(TransientError):
        hn.search(SearchQuery(terms=["apple"]), "")


def test_non_json_answer_is_transient(httpserver: HTTPServer, hn: HackerNewsPlatform):
    httpserver.expect_request(SEARCH).respond_with_data("<html>maintenance</html>")
    with pytest.raises(TransientError):
        hn.search(SearchQuery(terms=["apple"]), "")


@pytest.mark.parametrize("bad", ["not json", '{"seen": []}', '{"ts": "soon"}', "[]"])
def test_unreadable_cursor_is_permanent(hn: HackerNewsPlatform, bad: str):
    with pytest.raises(PermanentError):
        hn.search(SearchQuery(terms=["apple"]), bad)


def test_search_without_terms_is_a_configuration_error(hn: HackerNewsPlatform):
    with pytest.raises(PermanentError):
        hn.search(SearchQuery(terms=["  "]), "")


def test_thread_flattens_the_recorded_item_tree(httpserver: HTTPServer, hn: HackerNewsPlatform):
    # given the recorded item 17 with two replies; its parent 15 is not recorded and
    # answers 404 here, as a deleted item does: the chain of ancestors stops there
    httpserver.expect_request("/api/v1/items/17").respond_with_json(
        recorded.body("hackernews", "item_17_thread")
    )
    httpserver.expect_request("/api/v1/items/15").respond_with_json(
        {"error": "Not Found"}, status=404
    )
    posts = hn.thread("17")
    assert [p.external_id for p in posts] == ["17", "1079", "454426"]
    assert posts[0].text == "Is there anywhere to eat on Sandhill Road?"
    assert posts[0].in_reply_to == "15" and posts[1].in_reply_to == "17"
    assert posts[2].text == "This is why we can't have nice things."
    assert "children" not in posts[0].raw


def test_thread_puts_ancestors_first(httpserver: HTTPServer, hn: HackerNewsPlatform):
    # given item 17's recorded parent chain, with the parent built from item 17's own
    # fields (not recorded) and the story root 1 answering 404
    item = recorded.body("hackernews", "item_17_thread")
    parent = {k: v for k, v in item.items() if k != "children"} | {"id": 15, "parent_id": 1}
    httpserver.expect_request("/api/v1/items/17").respond_with_json(item)
    httpserver.expect_request("/api/v1/items/15").respond_with_json(parent)
    httpserver.expect_request("/api/v1/items/1").respond_with_json({}, status=404)
    assert [p.external_id for p in hn.thread("17")] == ["15", "17", "1079", "454426"]


def test_check_runs_one_small_search(httpserver: HTTPServer, hn: HackerNewsPlatform):
    httpserver.expect_request(SEARCH, query_string=Has(hitsPerPage="1")).respond_with_json(
        recorded.body("hackernews", STORY)
    )
    assert hn.check() == "Algolia HN search answers; 23818 stories indexed"


def test_thread_rejects_an_id_that_is_not_an_item(hn: HackerNewsPlatform):
    with pytest.raises(PermanentError):
        hn.thread("../users/pg")


def test_everything_but_search_and_thread_is_not_supported(hn: HackerNewsPlatform):
    limits = hn.limits()
    assert limits.can_search and limits.can_thread
    assert not (limits.can_reply or limits.can_follow or limits.can_read_notifications)
    assert "no public write API" in limits.notes
    with pytest.raises(NotSupported):
        hn.reply(in_reply_to="17", text="hi", idempotency_key="k")
    with pytest.raises(NotSupported):
        hn.find_reply(in_reply_to="17", idempotency_key="k")
    with pytest.raises(NotSupported):
        hn.follow("pg")
    with pytest.raises(NotSupported):
        hn.notifications("")
