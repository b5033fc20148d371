"""RSS/Atom adapter against feedparser's own recorded test feeds, served from a local server.

The recorded feeds (shared/data/platform_payloads/rss) hold one entry each; feeds
with several entries are built by copying the recorded ``<item>`` of
``rss2.0withAtomNS.xml`` with another guid, date and title, and each test says so.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from monitoring.platforms.base import NotSupported, PermanentError, SearchQuery, TransientError
from monitoring.platforms.rss import RssPlatform
from tests.monitoring.platforms import recorded

FEEDS = recorded.PAYLOADS_DIR / "rss"
BASE = "rss2.0withAtomNS.xml"  # one dated item by wearehugh, 25 Dec 2009 03:30:22 +0000


def feed_bytes(name: str) -> bytes:
    return recorded.path("rss", name).read_bytes()


def recorded_headers(name: str) -> dict[str, str]:
    """The HTTP headers feedparser's test file declares in its leading comment."""
    text = feed_bytes(name).decode("utf-8", "replace")
    return dict(re.findall(r"^Header:\s*([\w-]+):\s*(.+?)\s*$", text, re.MULTILINE))


def recorded_item() -> str:
    text = feed_bytes(BASE).decode()
    match = re.search(r"<item>.*?</item>", text, re.DOTALL)
    assert match
    return match.group(0)


def extra_item(guid: str, pub_date: str, title: str, description: str = "") -> str:
    """The recorded item with another guid, date and title (and optionally a description)."""
    item = recorded_item()
    item = re.sub(r"<guid[^>]*>.*?</guid>", f'<guid isPermaLink="false">{guid}</guid>', item)
    item = re.sub(r"<pubDate>.*?</pubDate>", f"<pubDate>{pub_date}</pubDate>", item)
    item = re.sub(r"<title>.*?</title>", f"<title>{title}</title>", item)
    if description:
        item = item.replace("</item>", f"<description>{description}</description></item>")
    return item


def feed_with(*items: str, keep_recorded: bool = True) -> bytes:
    """The recorded feed with extra items first (feeds list newest first)."""
    text = feed_bytes(BASE).decode()
    if not keep_recorded:
        text = text.replace(recorded_item(), "")
    return text.replace("<channel>", "<channel>" + "".join(items), 1).encode()


def serve(httpserver: HTTPServer, body: bytes, **headers: str) -> None:
    httpserver.expect_ordered_request("/feed.xml").respond_with_data(
        body, content_type="application/rss+xml", headers=headers
    )


@pytest.fixture
def rss() -> RssPlatform:
    return RssPlatform(options={"timeout": 2})


@pytest.fixture
def query(httpserver: HTTPServer) -> SearchQuery:
    return SearchQuery(terms=[], options={"feed_url": httpserver.url_for("/feed.xml")})


def with_terms(query: SearchQuery, terms: list[str], exclusions: list[str] | None = None):
    return SearchQuery(terms=terms, exclusions=exclusions or [], options=query.options)


# --- every recorded feed ---------------------------------------------------------------

# file -> (posts, skipped), or "error" for a feed that yields nothing and is ill-formed
EXPECTED: dict[str, tuple[int, int] | str] = {
    "aaa_illformed.xml": "error",
    "atomthreadingwithentry.xml": (1, 0),
    "entry_id.xml": (1, 0),
    "entry_published_parsed.xml": (0, 1),  # an entry with a date and nothing else
    "headers_etag.xml": (0, 0),
    "headers_last_modified-modified.xml": (0, 0),
    "item_guid.xml": (1, 0),
    "item_guid_not_permalink.xml": (1, 0),
    "item_pubDate.xml": (0, 1),
    "rss1.0withModules.xml": (1, 0),
    "rss2.0NSwithModules.xml": (1, 0),
    "rss2.0withAtomNS.xml": (1, 0),
    "rss_item_link_corrupted_ampersands.xml": (1, 0),  # ill-formed but has an entry: used
}


@pytest.mark.parametrize("name", sorted(p.name for p in Path(FEEDS).glob("*.xml")))
def test_every_recorded_feed_parses_without_crashing(
    httpserver: HTTPServer, rss: RssPlatform, query: SearchQuery, name: str
):
    serve(httpserver, feed_bytes(name), **recorded_headers(name))
    expected = EXPECTED.get(name)
    if expected == "error":
        with pytest.raises(PermanentError, match="not a readable RSS/Atom feed"):
            rss.search(query, "")
        return
    page = rss.search(query, "")
    for post in page.posts:
        assert post.external_id and post.posted_at.tzinfo is not None
        json.dumps(post.raw)  # the raw entry must be storable as JSON
    if expected is not None:
        assert (len(page.posts), page.skipped) == expected


def test_recorded_atom_comment_maps_author_date_link_and_parent(
    httpserver: HTTPServer, rss: RssPlatform, query: SearchQuery
):
    serve(httpserver, feed_bytes("atomthreadingwithentry.xml"))
    [post] = rss.search(query, "").posts
    assert (
        post.external_id == "tag:blogger.com,1999:blog-893591374313312737.post-4788628857625737701"
    )
    assert post.author.handle == "John"
    assert post.author.profile_url == "http://www.blogger.com/profile/12344017489797258795"
    assert post.posted_at == dt.datetime(2009, 12, 9, 0, 59, 2, tzinfo=dt.UTC)
    assert post.url.endswith("test-post.html?showComment=1260320342544#c4788628857625737701")
    assert (
        post.in_reply_to == "tag:blogger.com,1999:blog-893591374313312737.post-3861663258538857954"
    )
    # the entry's HTML became text, the link's target kept since its text is shortened
    assert post.text.startswith("bloffo bliff by te...\n\nbloffo bliff by te...")
    assert "http://example.org/profile/te..." in post.text
    assert "<a" not in post.text


def test_recorded_rss_item_maps_creator_and_bare_guid(
    httpserver: HTTPServer, rss: RssPlatform, query: SearchQuery
):
    serve(httpserver, feed_bytes(BASE))
    page = rss.search(query, "")
    [post] = page.posts
    assert post.external_id == "http://delicious.com/url/174603f9d836a1aafac49e28ace1c19e#wearehugh"
    assert post.author.handle == "wearehugh"
    assert post.url == "http://www.kylev.com/2005/03/29/rsync-and-vfat/"
    assert post.posted_at == dt.datetime(2009, 12, 25, 3, 30, 22, tzinfo=dt.UTC)
    assert post.text == "rsync and vfat | Geek at Play"
    assert post.raw["title"] == "rsync and vfat | Geek at Play"
    assert json.loads(page.cursor)["ts"] == int(post.posted_at.timestamp())


def test_ill_formed_feed_with_an_entry_is_used(
    httpserver: HTTPServer, rss: RssPlatform, query: SearchQuery
):
    serve(httpserver, feed_bytes("rss_item_link_corrupted_ampersands.xml"))
    [post] = rss.search(query, "").posts
    assert post.url == "http://link/get?a=1&b=2"


def test_html_page_instead_of_a_feed_is_a_configuration_error(
    httpserver: HTTPServer, rss: RssPlatform, query: SearchQuery
):
    httpserver.expect_request("/feed.xml").respond_with_data(
        "<!doctype html><html><body><p>Welcome</p></body></html>", content_type="text/html"
    )
    with pytest.raises(PermanentError):
        rss.search(query, "")


# --- cursor ---------------------------------------------------------------------------


def test_second_poll_returns_only_the_entry_newer_than_the_cursor(
    httpserver: HTTPServer, rss: RssPlatform, query: SearchQuery
):
    # given the recorded feed, then the same feed with one newer item (built from the
    # recorded item) and one backdated item older than the cursor
    newer = extra_item("urn:new-1", "Sat, 26 Dec 2009 10:00:00 +0000", "A newer bookmark")
    older = extra_item("urn:old-1", "Thu, 24 Dec 2009 10:00:00 +0000", "An older bookmark")
    serve(httpserver, feed_bytes(BASE))
    serve(httpserver, feed_with(newer, older))
    first = rss.search(query, "")
    second = rss.search(query, first.cursor)
    assert [p.external_id for p in second.posts] == ["urn:new-1"]
    assert json.loads(second.cursor)["ts"] == int(
        dt.datetime(2009, 12, 26, 10, tzinfo=dt.UTC).timestamp()
    )
    httpserver.check_assertions()


def test_entries_in_the_cursor_second_are_kept_unless_seen(
    httpserver: HTTPServer, rss: RssPlatform, query: SearchQuery
):
    # given a second item published in the same second as the recorded one (built)
    twin = extra_item("urn:twin", "Fri, 25 Dec 2009 03:30:22 +0000", "Same second")
    serve(httpserver, feed_bytes(BASE))
    serve(httpserver, feed_with(twin))
    serve(httpserver, feed_with(twin))
    first = rss.search(query, "")
    second = rss.search(query, first.cursor)
    third = rss.search(query, second.cursor)
    assert [p.external_id for p in second.posts] == ["urn:twin"]
    assert third.posts == []


def test_entries_come_oldest_first(httpserver: HTTPServer, rss: RssPlatform, query: SearchQuery):
    newest = extra_item("urn:c", "Mon, 28 Dec 2009 10:00:00 +0000", "third")
    middle = extra_item("urn:b", "Sun, 27 Dec 2009 10:00:00 +0000", "second")
    serve(httpserver, feed_with(newest, middle))
    page = rss.search(query, "")
    assert [p.text for p in page.posts] == ["rsync and vfat | Geek at Play", "second", "third"]


def test_feed_without_dates_is_followed_by_guid(
    httpserver: HTTPServer, rss: RssPlatform, query: SearchQuery
):
    # given the recorded undated item, then the same feed with a second undated item
    original = feed_bytes("item_guid.xml")
    grown = original.replace(
        b"<item>", b"<item><guid>http://guid.example.com/2</guid></item><item>"
    )
    serve(httpserver, original)
    serve(httpserver, original)
    serve(httpserver, grown)
    first = rss.search(query, "")
    again = rss.search(query, first.cursor)
    grown_page = rss.search(query, again.cursor)
    assert [p.external_id for p in first.posts] == ["http://guid.example.com/"]
    assert again.posts == []
    assert [p.external_id for p in grown_page.posts] == ["http://guid.example.com/2"]


def test_conditional_get_304_gives_an_empty_page_and_keeps_the_cursor(
    httpserver: HTTPServer, rss: RssPlatform, query: SearchQuery
):
    # given a feed that sent the validators feedparser's recordings declare
    etag = recorded_headers("headers_etag.xml")["ETag"]
    modified = recorded_headers("headers_last_modified-modified.xml")["Last-Modified"]
    serve(httpserver, feed_bytes(BASE), ETag=etag, **{"Last-Modified": modified})
    first = rss.search(query, "")
    assert json.loads(first.cursor)["etag"] == "foo"
    # when we poll again, we ask conditionally and the server says nothing changed
    httpserver.expect_ordered_request(
        "/feed.xml", headers={"If-None-Match": "foo", "If-Modified-Since": modified}
    ).respond_with_data("", status=304)
    second = rss.search(query, first.cursor)
    assert second.posts == [] and second.cursor == first.cursor
    httpserver.check_assertions()


# --- filter and text ------------------------------------------------------------------


def test_terms_match_whole_words_case_insensitively_in_title_and_summary(
    httpserver: HTTPServer, rss: RssPlatform, query: SearchQuery
):
    # given items built from the recorded one
    items = [
        extra_item("urn:1", "Sat, 26 Dec 2009 10:00:00 +0000", "ACME broke my laptop"),
        extra_item("urn:2", "Sat, 26 Dec 2009 10:00:01 +0000", "acmeville news"),
        extra_item("urn:3", "Sat, 26 Dec 2009 10:00:02 +0000", "Review", "Support at Acme Corp."),
        extra_item("urn:4", "Sat, 26 Dec 2009 10:00:03 +0000", "Acme job ad"),
    ]
    serve(httpserver, feed_with(*items))
    page = rss.search(with_terms(query, ["acme"], exclusions=["job ad"]), "")
    assert [p.external_id for p in page.posts] == ["urn:1", "urn:3"]
    # the cursor still moves past the entries that did not match
    assert json.loads(page.cursor)["seen"] == ["urn:4"]


def test_hostile_html_in_an_entry_is_stripped_to_text(
    httpserver: HTTPServer, rss: RssPlatform, query: SearchQuery
):
    hostile = (
        "&lt;script&gt;alert('x')&lt;/script&gt;"
        '&lt;p onclick="steal()"&gt;Acme &amp;amp; friends &lt;b&gt;lost&lt;/b&gt; my data'
        "&lt;img src=x onerror=alert(1)&gt;&lt;/p&gt;"
        '&lt;a href="javascript:alert(2)"&gt;click&lt;/a&gt;'
        '&lt;iframe src="https://evil.example"&gt;frame text&lt;/iframe&gt;'
        "&lt;style&gt;body{display:none}&lt;/style&gt;"
        '&lt;a href="https://evil.example/phish"&gt;details&lt;/a&gt;'
    )
    item = extra_item("urn:hostile", "Sat, 26 Dec 2009 10:00:00 +0000", "Acme", hostile)
    serve(httpserver, feed_with(item, keep_recorded=False))
    [post] = rss.search(query, "").posts
    for bad in ("<", ">", "script", "alert", "onerror", "onclick", "javascript", "display:none"):
        assert bad not in post.text
    assert "Acme & friends lost my data" in post.text
    assert "click" in post.text
    assert "details (https://evil.example/phish)" in post.text


# --- errors ---------------------------------------------------------------------------


def test_429_is_transient_with_retry_after(
    httpserver: HTTPServer, rss: RssPlatform, query: SearchQuery
):
    httpserver.expect_request("/feed.xml").respond_with_data(
        "Too Many Requests", status=429, headers={"Retry-After": "120"}
    )
    with pytest.raises(TransientError) as caught:
        rss.search(query, "")
    assert caught.value.retry_after == 120


def test_500_is_transient_and_the_same_cursor_succeeds_next_time(
    httpserver: HTTPServer, rss: RssPlatform, query: SearchQuery
):
    httpserver.expect_ordered_request("/feed.xml").respond_with_data("boom", status=503)
    serve(httpserver, feed_bytes(BASE))
    with pytest.raises(TransientError):
        rss.search(query, "")
    assert len(rss.search(query, "").posts) == 1


@pytest.mark.parametrize("status", [401, 403, 404, 410])
def test_refusals_are_permanent(
    httpserver: HTTPServer, rss: RssPlatform, query: SearchQuery, status: int
):
    httpserver.expect_request("/feed.xml").respond_with_data("no", status=status)
    with pytest.raises(PermanentError, match=str(status)):
        rss.search(query, "")


def test_network_fault_is_transient(rss: RssPlatform) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    query = SearchQuery(terms=[], options={"feed_url": f"http://127.0.0.1:{port}/feed.xml"})
    with pytest.raises(TransientError):
        rss.search(query, "")


def test_oversized_feed_is_refused(
    httpserver: HTTPServer, rss: RssPlatform, query: SearchQuery, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr("monitoring.platforms.rss.MAX_FEED_BYTES", 1000)
    serve(httpserver, feed_with(*[recorded_item()] * 5))
    with pytest.raises(PermanentError, match="larger than 1000 bytes"):
        rss.search(query, "")


def test_malformed_entry_is_skipped_and_the_rest_kept(
    httpserver: HTTPServer, rss: RssPlatform, query: SearchQuery
):
    # given the recorded item plus an item with nothing to identify it
    serve(httpserver, feed_with("<item><description>orphan</description></item>"))
    page = rss.search(query, "")
    assert len(page.posts) == 1 and page.skipped == 1


@pytest.mark.parametrize("url", ["", "file:///etc/passwd", "ftp://example.com/feed", "feed.xml"])
def test_missing_or_bad_feed_url_is_a_configuration_error(rss: RssPlatform, url: str):
    with pytest.raises(PermanentError, match="feed_url"):
        rss.search(SearchQuery(terms=[], options={"feed_url": url}), "")


@pytest.mark.parametrize("bad", ["not json", '{"ts": "yesterday"}', "[1]"])
def test_unreadable_cursor_is_permanent(rss: RssPlatform, query: SearchQuery, bad: str):
    with pytest.raises(PermanentError):
        rss.search(query, bad)


def test_check_names_the_feed_and_counts_entries(httpserver: HTTPServer):
    serve(httpserver, feed_bytes(BASE))
    rss = RssPlatform(options={"feed_url": httpserver.url_for("/feed.xml")})
    assert rss.check() == "Delicious/wearehugh: 1 entries (rss20)"


def test_everything_but_search_is_not_supported(rss: RssPlatform):
    limits = rss.limits()
    assert limits.can_search
    assert not (limits.can_thread or limits.can_reply or limits.can_follow)
    assert not limits.can_read_notifications and "read-only" in limits.notes
    for call in (
        lambda: rss.thread("x"),
        lambda: rss.reply(in_reply_to="x", text="hi", idempotency_key="k"),
        lambda: rss.find_reply(in_reply_to="x", idempotency_key="k"),
        lambda: rss.follow("x"),
        lambda: rss.notifications(""),
    ):
        with pytest.raises(NotSupported):
            call()
