"""Hacker News, read-only, through the Algolia search API (hn.algolia.com/api).

Plain HTTP with requests: there is no well-kept Python client for this API, and
it is three GET endpoints. HN itself has no API for replies, follows or
notifications, so only ``search`` and ``thread`` are offered.

Cursor: ``{"ts": <created_at_i>, "seen": [objectIDs posted at ts]}``. Algolia's
``search_by_date`` only sorts newest first, so when more hits are new than fit
on one page we read the *last* page (the oldest new hits) and move the cursor
only past those; the rest come on the next call. ``created_at_i>=ts`` plus the
seen ids means hits posted in the same second as the cursor are never lost.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from . import base
from .base import Limits, Page, PermanentError, PostData, SearchQuery, TransientError
from .cursor import dump_cursor, load_cursor
from .http import HttpPlatform, rate_limit_from_headers
from .options import AdapterOptions, ApiRoot
from .terms import matches
from .text import clean_text, html_to_text

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = ApiRoot("https://hn.algolia.com")
DEFAULT_WEB_URL = ApiRoot("https://news.ycombinator.com")
DEFAULT_TAGS = "(story,comment)"
DEFAULT_HITS_PER_PAGE = 100
# Algolia serves at most 1,000 hits per query (paginationLimitedTo); past that we
# narrow the time window instead of paging. This bounds the requests per call.
MAX_HOPS = 8
MAX_THREAD_ANCESTORS = 20


@dataclasses.dataclass(frozen=True)
class HackerNewsOptions(AdapterOptions):
    """``base_url`` (Algolia), ``web_url`` (links), ``tags`` and ``hits_per_page`` (1-1000)."""

    base_url: ApiRoot = DEFAULT_BASE_URL
    web_url: ApiRoot = DEFAULT_WEB_URL
    tags: str = DEFAULT_TAGS
    hits_per_page: int = DEFAULT_HITS_PER_PAGE


class HackerNewsPlatform(HttpPlatform[HackerNewsOptions], platform="hackernews"):
    """Hacker News stories and comments found through Algolia's search_by_date."""

    def limits(self) -> Limits:
        """Read-only: search and threads, nothing else."""
        return Limits.read_only(
            notes=(
                "Hacker News has no public write API: replies, follows and notifications "
                "are not possible. Search and threads come from Algolia's HN Search API."
            ),
        )

    def check(self) -> str:
        """Run one tiny search to prove the API answers."""
        body, _ = self._get("/api/v1/search_by_date", {"tags": "story", "hitsPerPage": 1})
        return f"Algolia HN search answers; {body.get('nbHits', 0)} stories indexed"

    # --- search ------------------------------------------------------------------------

    def search(self, query: SearchQuery, cursor: str) -> Page:
        """Stories and comments matching any term, newer than ``cursor``, oldest first."""
        terms = [t.strip() for t in query.terms if t.strip()]
        if not terms:
            raise PermanentError("Hacker News search needs at least one term")
        since, _ = _read_cursor(cursor)
        opts: HackerNewsOptions = self.query_options(query)
        params: dict[str, Any] = {
            "query": " ".join(_quote(t) for t in terms),
            "tags": opts.tags,
            "hitsPerPage": max(1, min(opts.hits_per_page, 1000)),
            "advancedSyntax": "true",
        }
        if len(terms) > 1:
            # Any term may match (Algolia ANDs query words by default); the local
            # filter below keeps only hits where a whole term really occurs.
            params["optionalWords"] = " ".join(_quote(t) for t in terms)
        if since is None:
            # First poll: start from the newest page, not from 2006.
            body, rate_limit = self._get("/api/v1/search_by_date", {**params, "page": 0})
            more = False
        else:
            body, rate_limit, more = self._oldest_new_page(params, since)
        hits = body.get("hits")
        if not isinstance(hits, list):
            raise TransientError("Algolia answered without a hits list")
        return self._page(hits, query, cursor, rate_limit, more)

    def _oldest_new_page(
        self, params: dict[str, Any], since: int
    ) -> tuple[dict[str, Any], base.RateLimit | None, bool]:
        """The page holding the oldest hits at or after ``since`` (see the module docstring)."""
        upper: int | None = None
        page = 0
        more = False
        for _ in range(MAX_HOPS):
            filters = f"created_at_i>={since}"
            if upper is not None:
                filters += f",created_at_i<={upper}"
            body, rate_limit = self._get(
                "/api/v1/search_by_date", {**params, "numericFilters": filters, "page": page}
            )
            hits = body.get("hits") or []
            nb_pages = _int(body.get("nbPages")) or 0
            got_page = _int(body.get("page")) or 0
            if not hits and 0 < nb_pages <= got_page:
                # The pinned window holds fewer pages than the first answer said.
                page = nb_pages - 1
                continue
            if nb_pages <= 1 or not hits:
                return body, rate_limit, more
            more = True
            if got_page < nb_pages - 1:
                # Pin the window's top so posts arriving meanwhile cannot shift pages.
                if upper is None:
                    upper = _newest_ts(hits)
                page = nb_pages - 1
                continue
            nb_hits = _int(body.get("nbHits")) or 0
            hits_per_page = _int(body.get("hitsPerPage")) or len(hits)
            if nb_hits <= nb_pages * hits_per_page:
                return body, rate_limit, more  # truly the oldest page
            # Older hits lie beyond Algolia's pagination limit: narrow the window.
            upper = _oldest_ts(hits)
            page = 0
        logger.warning("hackernews: backlog too large to reach its oldest page; reading newest")
        return body, rate_limit, more

    def _page(
        self,
        hits: list[Any],
        query: SearchQuery,
        cursor: str,
        rate_limit: base.RateLimit | None,
        more: bool,
    ) -> Page:
        since, seen = _read_cursor(cursor)
        fresh: list[Any] = []
        newest = since
        newest_ids: set[str] = set(seen)
        for hit in hits:
            ts = _int(hit.get("created_at_i")) if isinstance(hit, dict) else None
            object_id = hit.get("objectID") if isinstance(hit, dict) else None
            if ts is not None and isinstance(object_id, str | int):
                if since is not None and (ts < since or (ts == since and str(object_id) in seen)):
                    continue  # delivered before
                # The cursor covers every hit read, matched or not, well-formed or not.
                if newest is None or ts > newest:
                    newest, newest_ids = ts, {str(object_id)}
                elif ts == newest:
                    newest_ids.add(str(object_id))
            fresh.append(hit)
        posts, skipped = base.parse_each(fresh, self.post_from_hit, "hackernews search", logger)
        posts = [p for p in posts if matches(p.text, query.terms, query.exclusions)]
        posts.sort(key=lambda p: (p.posted_at, _numeric(p.external_id)))
        if newest is not None and (newest, newest_ids) != (since, seen):
            cursor = _write_cursor(newest, newest_ids)
        return Page(
            posts=posts, cursor=cursor, has_more=more, skipped=skipped, rate_limit=rate_limit
        )

    def post_from_hit(self, hit: Mapping[str, Any]) -> PostData:
        """Map one Algolia hit (story or comment) to PostData; ValueError if it is malformed."""
        if not isinstance(hit, Mapping):
            raise TypeError("hit is not an object")
        object_id = str(hit["objectID"])
        if not object_id.isdigit():
            raise ValueError(f"objectID {object_id!r} is not an HN item id")
        ts = _int(hit.get("created_at_i"))
        if ts is None:
            raise ValueError(f"item {object_id} has no created_at_i")
        author = hit.get("author")
        if not isinstance(author, str) or not author:
            raise ValueError(f"item {object_id} has no author")
        title = clean_text(str(hit.get("title") or ""))
        body_html = hit.get("comment_text") or hit.get("story_text") or ""
        parts = [title, html_to_text(str(body_html)), str(hit.get("url") or "")]
        parent = hit.get("parent_id")
        return PostData(
            external_id=object_id,
            author=self.person(author),
            text="\n\n".join(p for p in parts if p),
            url=f"{self.opts.web_url}/item?id={object_id}",
            posted_at=dt.datetime.fromtimestamp(ts, dt.UTC),
            in_reply_to=str(parent) if parent not in (None, "") else "",
            lang="",
            raw=dict(hit),
        )

    def person(self, username: str) -> base.PersonData:
        """An HN user: the username is the only id HN has."""
        return base.PersonData(
            external_id=username,
            handle=username,
            display_name=username,
            profile_url=f"{self.opts.web_url}/user?id={username}",
        )

    # --- thread ------------------------------------------------------------------------

    def thread(self, external_id: str) -> list[PostData]:
        """Ancestors (root first), the item, then its replies depth first."""
        if not str(external_id).isdigit():
            raise PermanentError(f"{external_id!r} is not a Hacker News item id")
        item, _ = self._get(f"/api/v1/items/{external_id}", {})
        ancestors: list[PostData] = []
        parent = item.get("parent_id")
        for _ in range(MAX_THREAD_ANCESTORS):
            if parent in (None, ""):
                break
            try:
                above, _ = self._get(f"/api/v1/items/{parent}", {})
            except PermanentError:
                break  # a deleted ancestor ends the chain; the rest is still useful
            ancestors.append(self._post_from_item(above))
            parent = above.get("parent_id")
        ancestors.reverse()
        below: list[PostData] = []
        self._walk(item, below)
        return ancestors + below

    def _walk(self, item: Mapping[str, Any], out: list[PostData]) -> None:
        try:
            out.append(self._post_from_item(item))
        except (KeyError, TypeError, ValueError) as exc:
            logger.warning("hackernews: skipped a malformed thread item: %s", exc)
        for child in item.get("children") or []:
            if isinstance(child, Mapping):
                self._walk(child, out)

    def _post_from_item(self, item: Mapping[str, Any]) -> PostData:
        # The items API names fields differently from search hits.
        hit = {
            "objectID": str(item.get("id", "")),
            "created_at_i": item.get("created_at_i"),
            "author": item.get("author"),
            "title": item.get("title"),
            "comment_text": item.get("text"),
            "url": item.get("url"),
            "parent_id": item.get("parent_id"),
        }
        post = self.post_from_hit(hit)
        raw = {k: v for k, v in item.items() if k != "children"}
        return dataclasses.replace(post, raw=raw)

    # --- HTTP --------------------------------------------------------------------------

    def _get(
        self, path: str, params: Mapping[str, Any]
    ) -> tuple[dict[str, Any], base.RateLimit | None]:
        """One GET through the shared ``_request``; the answer must be a JSON object."""
        what = "Hacker News search (Algolia)"
        response = self._request("GET", self.opts.base_url + path, what=what, params=params)
        body = self._json(response, what)
        if not isinstance(body, dict):
            raise TransientError(f"{what}: answered with an unexpected JSON shape")
        return body, rate_limit_from_headers(response.headers)


def _quote(term: str) -> str:
    # A multi-word term is a phrase (advancedSyntax); strip quotes a user typed.
    term = term.replace('"', " ").strip()
    return f'"{term}"' if " " in term else term


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _numeric(external_id: str) -> int:
    return int(external_id) if external_id.isdigit() else 0


def _newest_ts(hits: list[Any]) -> int | None:
    stamps = [_int(h.get("created_at_i")) for h in hits if isinstance(h, dict)]
    return max((s for s in stamps if s is not None), default=None)


def _oldest_ts(hits: list[Any]) -> int | None:
    stamps = [_int(h.get("created_at_i")) for h in hits if isinstance(h, dict)]
    return min((s for s in stamps if s is not None), default=None)


def _read_cursor(cursor: str) -> tuple[int | None, set[str]]:
    """``{"ts": newest created_at_i read, "seen": objectIDs at ts}``; (None, {}) for ""."""
    state = load_cursor(
        cursor,
        "Hacker News",
        lambda s: _int(s["ts"]) is not None and isinstance(s.get("seen", []), list),
    )
    if not state:
        return None, set()
    return _int(state["ts"]), {str(x) for x in state.get("seen", [])}


def _write_cursor(ts: int, seen: set[str]) -> str:
    return dump_cursor({"ts": ts, "seen": sorted(seen, key=_numeric)})
