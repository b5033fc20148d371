"""RSS and Atom feeds (news, blogs, review sites), read-only, with feedparser.

We fetch with requests (short timeout, our status handling, a size cap, a
conditional GET) and hand the bytes to feedparser, which only parses. A feed
has no search, so the source's terms filter the entries locally.

Cursor: ``{"etag", "modified", "ts", "seen", "undated"}``. ``ts`` is the newest
entry date read so far and ``seen`` the ids of entries dated exactly ``ts``;
an entry is new when it is newer than ``ts``, or dated ``ts`` and not seen.
Entries without a usable date are new when their id is not in ``undated``.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import hashlib
import logging
import re
import time
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlparse

import feedparser
import requests

from . import base
from .base import Limits, Page, PermanentError, PostData, SearchQuery, TransientError
from .cursor import dump_cursor, load_cursor
from .http import HttpPlatform, network_error, rate_limit_from_headers
from .options import NO_URL, AdapterOptions, OptionsError, Url
from .terms import matches
from .text import clean_text, html_to_text

logger = logging.getLogger(__name__)

MAX_FEED_BYTES = 10 * 1024 * 1024
# Undated entry ids remembered; feeds roll over long before this many.
MAX_UNDATED_IDS = 1000
# A date this far ahead is a publisher's clock or typo; trusting it would park the
# cursor in the future and hide every later entry, so such entries count as undated.
FUTURE_SLACK = dt.timedelta(days=1)
USER_AGENT = "nojackal feed reader (+https://github.com/nojackal)"


@dataclasses.dataclass(frozen=True)
class RssOptions(AdapterOptions):
    """``feed_url`` (required, http or https) and the ``user_agent`` to fetch it with."""

    required: ClassVar[tuple[str, ...]] = ("feed_url",)

    feed_url: Url = NO_URL
    user_agent: str = USER_AGENT

    def url(self) -> str:
        """The feed's URL; PermanentError when the source has none."""
        if not self.feed_url:
            raise OptionsError("an RSS/Atom source needs a feed_url")
        return self.feed_url


class RssPlatform(HttpPlatform[RssOptions], platform="rss"):
    """Any RSS or Atom feed URL, filtered by the source's terms."""

    def limits(self) -> Limits:
        """Read-only: feeds can be read, nothing more."""
        return Limits.read_only(
            can_thread=False,
            notes=(
                "A feed is read-only: no threads, replies, follows or notifications. "
                "Any reply happens on the site the entry links to, by hand."
            ),
        )

    def check(self) -> str:
        """Fetch the source's feed and say what it holds."""
        url = self.opts.url()
        response, body = self._fetch(url, {}, "")
        parsed = _parse(response, body, url)
        title = clean_text(parsed.feed.get("title", "")) or url
        return f"{title}: {len(parsed.entries)} entries ({parsed.get('version') or 'unknown'})"

    def search(self, query: SearchQuery, cursor: str) -> Page:
        """Entries matching the terms that are new since ``cursor``, oldest first."""
        opts: RssOptions = self.query_options(query)
        url = opts.url()
        state = _read_cursor(cursor)
        response, body = self._fetch(url, state, cursor)
        rate_limit = rate_limit_from_headers(response.headers)
        if response.status_code == 304:
            return Page(posts=[], cursor=cursor, rate_limit=rate_limit)
        parsed = _parse(response, body, url)
        feed_person = _feed_person(parsed.feed, url)
        lang = str(parsed.feed.get("language") or "")[:16]
        since = state.get("ts")
        seen = set(state.get("seen") or [])
        undated_before = [u for u in state.get("undated") or [] if isinstance(u, str) and u]
        undated_seen = set(undated_before)
        newest, newest_ids = since, set(seen)
        undated_now: list[str] = []
        fresh: list[tuple[float, int, PostData]] = []
        skipped = 0
        now = dt.datetime.now(dt.UTC)
        for index, entry in enumerate(parsed.entries):
            try:
                post = _post_from_entry(entry, url, feed_person, lang, now)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                logger.warning("rss: skipped a malformed entry in %s: %s", url, exc)
                skipped += 1
                continue
            stamp = post.raw.get("_nojackal_dated")
            if stamp is None:
                undated_now.append(post.external_id)
                if post.external_id in undated_seen:
                    continue
                order = 0.0
            else:
                ts = int(stamp)
                if since is not None and (ts < since or (ts == since and post.external_id in seen)):
                    continue
                if newest is None or ts > newest:
                    newest, newest_ids = ts, {post.external_id}
                elif ts == newest:
                    newest_ids.add(post.external_id)
                order = float(ts)
            if matches(post.raw.get("_nojackal_filter_text", ""), query.terms, query.exclusions):
                fresh.append((order, index, _public(post)))
        # Oldest first; undated entries keep the feed's own order (newest first, usually).
        fresh.sort(key=lambda item: (item[0], -item[1]))
        # Entries in the feed now first, so the cap forgets the longest-gone ones.
        undated = list(dict.fromkeys(undated_now + undated_before))
        new_state = {
            "etag": response.headers.get("ETag", ""),
            "modified": response.headers.get("Last-Modified", ""),
            "ts": newest,
            "seen": sorted(newest_ids),
            "undated": undated[:MAX_UNDATED_IDS],
        }
        return Page(
            posts=[post for _, _, post in fresh],
            cursor=dump_cursor(new_state),
            skipped=skipped,
            rate_limit=rate_limit,
        )

    def _fetch(
        self, url: str, state: Mapping[str, Any], cursor: str
    ) -> tuple[requests.Response, bytes]:
        """GET the feed once (conditionally when we have validators); no retries here."""
        headers = {
            "User-Agent": self.opts.user_agent,
            "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5",
        }
        if state.get("etag"):
            headers["If-None-Match"] = str(state["etag"])
        if state.get("modified"):
            headers["If-Modified-Since"] = str(state["modified"])
        what = f"feed {url}"
        response = self._request("GET", url, what=what, accept=(304,), headers=headers, stream=True)
        if response.status_code == 304 and not cursor:
            raise TransientError(f"{what} answered 304 to an unconditional request")
        body = bytearray()
        try:
            for chunk in response.iter_content(64 * 1024):
                body += chunk
                if len(body) > MAX_FEED_BYTES:
                    response.close()
                    raise PermanentError(f"{what} is larger than {MAX_FEED_BYTES} bytes")
        except requests.RequestException as exc:
            raise network_error(what, exc) from exc
        return response, bytes(body)

    def error_message(self, response: requests.Response) -> str:
        """Nothing: an error page can be any size and any markup; its status says enough."""
        return ""


# --- parsing and mapping -------------------------------------------------------------


def _parse(response: requests.Response, body: bytes, url: str) -> feedparser.FeedParserDict:
    """Parse the fetched bytes; an ill-formed feed that still has entries is used."""
    parsed = feedparser.parse(
        body,
        response_headers={
            "content-type": response.headers.get("Content-Type", "application/xml"),
            "content-location": response.url or url,
        },
    )
    if parsed.get("bozo"):
        problem = parsed.get("bozo_exception")
        if not parsed.entries:
            raise PermanentError(f"feed {url} is not a readable RSS/Atom feed: {problem}")
        logger.info("rss: %s is ill-formed (%s); using what parsed", url, problem)
    elif not parsed.entries and not parsed.get("version"):
        raise PermanentError(f"{url} is not an RSS or Atom feed")
    return parsed


def _feed_person(feed: Mapping[str, Any], url: str) -> base.PersonData:
    # An entry without an author is the publication speaking.
    link = str(feed.get("link") or url)
    title = clean_text(str(feed.get("title") or "")) or urlparse(link).netloc or url
    return base.PersonData(external_id=link, handle=title, display_name=title, profile_url=link)


def _entry_person(entry: Mapping[str, Any], fallback: base.PersonData) -> base.PersonData:
    detail = entry.get("author_detail") or {}
    name = clean_text(str(detail.get("name") or entry.get("author") or ""))
    if not name:
        return fallback
    href = str(detail.get("href") or "")
    # Several people share a name across sites; scope a bare name to the publication.
    external_id = href or f"{fallback.external_id}#{name}"
    return base.PersonData(
        external_id=external_id, handle=name, display_name=name, profile_url=href
    )


def _entry_id(entry: Mapping[str, Any], feed_url: str) -> str:
    raw = str(entry.get("id") or entry.get("link") or "").strip()
    if not raw:
        title = str(entry.get("title") or "").strip()
        if not title:
            raise ValueError("entry has no id, link or title")
        stamp = str(entry.get("published") or entry.get("updated") or "")
        raw = "sha256:" + hashlib.sha256(f"{title}\n{stamp}".encode()).hexdigest()
    if re.match(r"^(https?|tag|urn):", raw, re.IGNORECASE):
        return raw[:500]
    # A bare guid ("42") is only unique inside its feed.
    return f"{feed_url}#{raw}"[:500]


def _entry_time(entry: Mapping[str, Any], now: dt.datetime) -> dt.datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if isinstance(value, time.struct_time):
            try:
                when = dt.datetime.fromtimestamp(calendar.timegm(value), dt.UTC)
            except (OverflowError, ValueError, OSError):
                continue
            return None if when > now + FUTURE_SLACK else when
    return None


def _post_from_entry(
    entry: Mapping[str, Any],
    feed_url: str,
    feed_person: base.PersonData,
    lang: str,
    now: dt.datetime,
) -> PostData:
    external_id = _entry_id(entry, feed_url)
    title = html_to_text(str(entry.get("title") or ""))
    summary = html_to_text(str(entry.get("summary") or ""))
    contents = entry.get("content") or []
    body = html_to_text(str(contents[0].get("value") or "")) if contents else ""
    text = "\n\n".join(p for p in (title, body or summary) if p)
    when = _entry_time(entry, now)
    reply_to = entry.get("thr_in-reply-to") or {}
    raw = _plain(entry)
    # Private working values, removed again before the post leaves the adapter.
    raw["_nojackal_dated"] = int(when.timestamp()) if when else None
    raw["_nojackal_filter_text"] = f"{title}\n{summary or body}"
    return PostData(
        external_id=external_id,
        author=_entry_person(entry, feed_person),
        text=text,
        url=str(entry.get("link") or ""),
        posted_at=when or now,
        in_reply_to=str(reply_to.get("ref") or "") if isinstance(reply_to, Mapping) else "",
        lang=lang,
        raw=raw,
    )


def _public(post: PostData) -> PostData:
    raw = {k: v for k, v in post.raw.items() if not k.startswith("_nojackal_")}
    return dataclasses.replace(post, raw=raw)


def _plain(value: Any) -> Any:
    """The entry as JSON-ready values (feedparser gives struct_time and its own dicts)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items() if not str(k).endswith("_parsed")}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _read_cursor(cursor: str) -> dict[str, Any]:
    return load_cursor(cursor, "feed", lambda s: s.get("ts") is None or type(s.get("ts")) is int)
