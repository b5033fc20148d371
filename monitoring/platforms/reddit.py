"""Reddit through its OAuth JSON API, with plain HTTP (requests), not PRAW.

Why not PRAW: prawcore retries every request itself, POSTs included, on 5xx,
connection errors and read timeouts, sleeping 2-4 s between attempts, and its
rate limiter sleeps inside calls. A reply whose POST timed out after Reddit
stored it would be sent again (a double post), and a Celery worker would block
in sleeps that the caller's backoff should own. The API we need is six
endpoints of JSON, so plain requests keeps retries, timeouts and the raw
payloads under our control. PRAW's own betamax cassettes still replay against
this adapter (see the tests).

Auth: the "script" app password grant (client_id, client_secret, username,
password). Listings are newest first; cursors are ``{"before": <fullname>,
"ts", "seen"}``: Reddit answers ``before=X`` with the items *just newer* than X,
so one page never jumps over posts when more arrived than fit on a page; ``ts``
and ``seen`` (X's time, the items of that second) recover when X is deleted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import time
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from . import base
from .base import Limits, Page, PermanentError, PostData, SearchQuery, TransientError
from .cursor import dump_cursor, load_cursor
from .http import HttpPlatform, rate_limit_from_headers, unreadable_answer
from .options import AdapterOptions, ApiRoot, OptionsError
from .terms import matches
from .text import clean_text, html_to_text

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = ApiRoot("https://oauth.reddit.com")
DEFAULT_AUTH_URL = ApiRoot("https://www.reddit.com")
DEFAULT_WEB_URL = ApiRoot("https://www.reddit.com")
DEFAULT_PAGE_SIZE = 100  # Reddit's maximum listing size
REPLY_MAX_LENGTH = 10_000  # characters, Reddit's limit for a comment body
# Renew the bearer token a minute early so a call never starts with a dying token.
TOKEN_MARGIN_SECONDS = 60
FIND_REPLY_SCAN = 100
MAX_SEEN = 100  # fullnames kept for the cursor's second; Reddit rarely has more per second

_SUBREDDIT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}(\+[A-Za-z0-9][A-Za-z0-9_]{1,20})*$")
_FULLNAME = re.compile(r"^t[0-9]_[a-z0-9]{1,16}$")
_RATELIMIT_WAIT = re.compile(r"(\d+)\s*(second|minute|hour)", re.IGNORECASE)
_SECONDS = {"second": 1, "minute": 60, "hour": 3600}

# Inbox item types (``data.type`` since ~2020; older items only have ``subject``).
_INBOX_KINDS = {
    "comment_reply": base.NotificationKind.REPLY,
    "post_reply": base.NotificationKind.REPLY,
    "username_mention": base.NotificationKind.MENTION,
    "comment reply": base.NotificationKind.REPLY,
    "post reply": base.NotificationKind.REPLY,
    "username mention": base.NotificationKind.MENTION,
}


@dataclasses.dataclass(frozen=True)
class RedditOptions(AdapterOptions):
    """Endpoints, listing size, a source's subreddit; login settings the credentials lack."""

    base_url: ApiRoot = DEFAULT_BASE_URL
    auth_url: ApiRoot = DEFAULT_AUTH_URL
    web_url: ApiRoot = DEFAULT_WEB_URL
    page_size: int = DEFAULT_PAGE_SIZE  # clamped to 1-100
    subreddit: str = ""  # "" or "all" searches everywhere
    username: str = ""
    user_agent: str = ""
    client_id: str = ""
    client_secret: str = ""
    password: str = ""

    def check(self) -> None:
        super().check()
        name = self.subreddit_name
        if name and name.lower() != "all" and not _SUBREDDIT.match(name):
            raise OptionsError(f"{name!r} is not a valid subreddit name")

    @property
    def listing_size(self) -> int:
        """Items per listing page, within what Reddit serves."""
        return max(1, min(self.page_size, 100))

    @property
    def subreddit_name(self) -> str:
        """The subreddit without ``r/`` or slashes."""
        return self.subreddit.removeprefix("/r/").removeprefix("r/").strip("/")


class RedditPlatform(HttpPlatform[RedditOptions], platform="reddit"):
    """Reddit: search submissions, read threads, reply, read the inbox; no follow."""

    # The bearer token and when to renew it (monotonic clock), once logged in.
    _token = ""
    _token_expires = 0.0

    def limits(self) -> Limits:
        """Comments up to 10,000 characters; Reddit has no follow we could use."""
        return Limits(
            reply_max_length=REPLY_MAX_LENGTH,
            length_unit="characters",
            can_follow=False,
            notes=(
                "Reddit has no public follow: its 'friends' list is private to us and tells "
                "the person nothing, so follow is not supported. Search covers submissions "
                "(titles and self text), not comments. Notifications are the inbox: comment "
                "and post replies, username mentions and private messages."
            ),
        )

    # --- credentials and HTTP ----------------------------------------------------------

    def _setting(self, key: str) -> str:
        return str(self.credentials.get(key) or getattr(self.opts, key) or "").strip()

    @property
    def username(self) -> str:
        """Our Reddit username (without ``u/``)."""
        return self._setting("username").removeprefix("u/").removeprefix("/u/")

    def _user_agent(self) -> str:
        # Reddit throttles generic agents; its rule is "<platform>:<app id>:<version> (by /u/x)".
        agent = self._setting("user_agent")
        return agent or f"python:nojackal:0.1 (by /u/{self.username or 'unknown'})"

    def _access_token(self) -> str:
        if self._token and time.monotonic() < self._token_expires:
            return self._token
        wanted = ("client_id", "client_secret", "username", "password")
        missing = [key for key in wanted if not self._setting(key)]
        if missing:
            raise PermanentError(f"Reddit credentials incomplete: missing {', '.join(missing)}")
        response = self._request(
            "POST",
            f"{self.opts.auth_url}/api/v1/access_token",
            what="Reddit login",
            auth=(self._setting("client_id"), self._setting("client_secret")),
            data={
                "grant_type": "password",
                "username": self.username,
                "password": self._setting("password"),
            },
            headers={"User-Agent": self._user_agent()},
            allow_redirects=False,
            write=False,  # a login creates nothing on the platform
        )
        body = self._json(response, "Reddit login")
        # A wrong password comes back as 200 {"error": "invalid_grant"}.
        if not isinstance(body, dict) or "error" in body or not body.get("access_token"):
            error = body.get("error") if isinstance(body, dict) else "no token"
            raise PermanentError(f"Reddit refused the login: {error}")
        self._token = str(body["access_token"])
        expires_in = float(body.get("expires_in") or 3600)
        self._token_expires = time.monotonic() + max(0.0, expires_in - TOKEN_MARGIN_SECONDS)
        return self._token

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        what: str = "Reddit",
    ) -> tuple[Any, base.RateLimit | None]:
        """One API request, never retried here; errors mapped to our two kinds."""
        headers = {
            "Authorization": f"bearer {self._access_token()}",
            "User-Agent": self._user_agent(),
        }
        try:
            response = self._request(
                method,
                self.opts.base_url + path,
                what=what,
                params={**(params or {}), "raw_json": 1},
                data=data,
                headers=headers,
                # A missing subreddit redirects to the subreddit search page.
                allow_redirects=False,
            )
        except PermanentError as exc:
            if exc.status == 401:
                self._token = ""  # never reuse a token Reddit rejected
            raise
        return self._json(response, what), rate_limit_from_headers(response.headers)

    def check(self) -> str:
        """Log in and read our own account."""
        body, _ = self._call("GET", "/api/v1/me", what="Reddit account")
        name = body.get("name", "?") if isinstance(body, dict) else "?"
        karma = body.get("total_karma") if isinstance(body, dict) else None
        return f"logged in as u/{name}" + (f" ({karma} karma)" if karma is not None else "")

    # --- search ------------------------------------------------------------------------

    def search(self, query: SearchQuery, cursor: str) -> Page:
        """Submissions matching any term, newer than ``cursor``, oldest first."""
        terms = [t.strip() for t in query.terms if t.strip()]
        if not terms:
            raise PermanentError("Reddit search needs at least one term")
        opts: RedditOptions = self.query_options(query)
        subreddit = opts.subreddit_name
        params: dict[str, Any] = {
            "q": _search_expression(terms, query.exclusions),
            "sort": "new",
            "t": "all",
            "type": "link",
            "limit": self.opts.listing_size,
        }
        if subreddit and subreddit.lower() != "all":
            path = f"/r/{subreddit}/search/"
            params["restrict_sr"] = "on"
            what = f"r/{subreddit} search"
        else:
            path = "/search/"
            what = "Reddit search"
        children, new_cursor, has_more, rate_limit = self._new_items(path, params, cursor, what)
        posts, skipped = base.parse_each(children, self.post_from_thing, "reddit search", logger)
        posts = [p for p in posts if matches(p.text, terms, query.exclusions)]
        posts.reverse()  # Reddit lists newest first; we hand them on oldest first
        return Page(
            posts=posts,
            cursor=new_cursor,
            has_more=has_more,
            skipped=skipped,
            rate_limit=rate_limit,
        )

    def _new_items(
        self, path: str, params: dict[str, Any], cursor: str, what: str
    ) -> tuple[list[Any], str, bool, base.RateLimit | None]:
        """Listing items newer than ``cursor`` (newest first), the next cursor, has_more."""
        state = _read_cursor(cursor)
        before = state.get("before", "")
        query = {**params, "before": before} if before else params
        body, rate_limit = self._call("GET", path, params=query, what=what)
        children, listing = _listing(body, what)
        # With ``before``, Reddit sets ``before`` in the answer when newer items remain.
        has_more = bool(before and listing.get("before"))
        if before and not children:
            # Reddit answers ``before=X`` with nothing, forever, once X is deleted or
            # removed (spam often is). So check the newest page too, keeping what is
            # newer than X, or of X's second and not yet seen.
            body, rate_limit = self._call("GET", path, params=params, what=what)
            newest_page, _ = _listing(body, what)
            since = state.get("ts")
            seen = set(state.get("seen") or ()) | {before}
            if since is None:
                children = []
            else:
                children = [
                    child
                    for child in newest_page
                    if _name(child)
                    and (created := _created(child)) is not None
                    and (created > since or (created == since and _name(child) not in seen))
                ]
            if len(children) >= self.opts.listing_size:
                # A full page, all newer than X: more may lie between; only a log can say so.
                logger.warning("reddit: %s lost its cursor post; some posts may be missed", what)
        newest = next((c for c in children if _name(c) and _created(c) is not None), None)
        if newest is None:
            return children, cursor, has_more, rate_limit
        ts = _created(newest)
        at_ts = {_name(c) for c in children if _name(c) and _created(c) == ts}
        if ts == state.get("ts"):
            at_ts |= set(state.get("seen") or ())
        new_cursor = {"before": _name(newest), "ts": ts, "seen": sorted(at_ts)[:MAX_SEEN]}
        return children, dump_cursor(new_cursor), has_more, rate_limit

    # --- mapping -----------------------------------------------------------------------

    def person(self, data: Mapping[str, Any]) -> base.PersonData:
        """The author of a thing; ``author_fullname`` (t2_...) is stable across renames."""
        author = data.get("author")
        if not isinstance(author, str) or not author:
            raise ValueError("thing has no author")
        external_id = str(data.get("author_fullname") or author)
        profile = "" if author == "[deleted]" else f"{self.opts.web_url}/user/{author}"
        return base.PersonData(
            external_id=external_id, handle=author, display_name=author, profile_url=profile
        )

    def post_from_thing(self, thing: Mapping[str, Any], *, context_url: bool = False) -> PostData:
        """Map a t3 (submission), t1 (comment) or t4 (message) thing; ValueError if malformed."""
        if not isinstance(thing, Mapping):
            raise TypeError("thing is not an object")
        kind = thing.get("kind")
        data = thing.get("data")
        if kind not in ("t1", "t3", "t4") or not isinstance(data, Mapping):
            raise ValueError(f"unexpected thing kind {kind!r}")
        name = data.get("name")
        if not isinstance(name, str) or not _FULLNAME.match(name):
            raise ValueError(f"thing has no valid fullname: {name!r}")
        created = data.get("created_utc")
        if isinstance(created, bool) or not isinstance(created, int | float):
            raise ValueError(f"{name} has no created_utc")
        if kind == "t3":
            title = clean_text(str(data.get("title") or ""))
            body = _body_text(data, "selftext")
            link = "" if data.get("is_self") else str(data.get("url") or "")
            text = "\n\n".join(p for p in (title, body, link) if p)
        else:
            text = _body_text(data, "body")
        permalink = str(data.get("permalink") or "")
        if context_url and data.get("context"):
            permalink = str(data["context"])
        if not permalink and kind == "t1" and data.get("link_id"):
            permalink = f"/comments/{str(data['link_id'])[3:]}/_/{data.get('id', '')}"
        url = self.opts.web_url + permalink if permalink.startswith("/") else permalink
        if kind == "t4":
            url = f"{self.opts.web_url}/message/messages/{data.get('id', '')}"
        parent = data.get("parent_id") if kind != "t3" else ""
        return PostData(
            external_id=name,
            author=self.person(data),
            text=text,
            url=url,
            posted_at=dt.datetime.fromtimestamp(float(created), dt.UTC),
            in_reply_to=str(parent or ""),
            lang="",
            raw=dict(thing),
        )

    # --- thread ------------------------------------------------------------------------

    def thread(self, external_id: str) -> list[PostData]:
        """The submission, then its comments depth first (for a comment: with its parents)."""
        fullname = external_id if "_" in external_id else f"t3_{external_id}"
        if not _FULLNAME.match(fullname) or fullname[:3] not in ("t1_", "t3_"):
            raise PermanentError(f"{external_id!r} is not a Reddit submission or comment id")
        params: dict[str, Any] = {"limit": 500, "sort": "old"}
        if fullname.startswith("t1_"):
            info, _ = self._call("GET", "/api/info/", params={"id": fullname}, what="Reddit item")
            children, _ = _listing(info, "Reddit item")
            if not children:
                raise PermanentError(f"Reddit has no comment {fullname}")
            link_id = str(children[0].get("data", {}).get("link_id") or "")
            if not link_id.startswith("t3_"):
                raise PermanentError(f"Reddit comment {fullname} has no submission")
            params.update(comment=fullname[3:], context=8)
            submission = link_id[3:]
        else:
            submission = fullname[3:]
        body, _ = self._call("GET", f"/comments/{submission}/", params=params, what="Reddit thread")
        if not isinstance(body, list) or len(body) != 2:
            raise TransientError("Reddit thread: unexpected answer shape")
        posts: list[PostData] = []
        for listing in body:
            children, _ = _listing(listing, "Reddit thread")
            for child in children:
                self._walk(child, posts)
        return posts

    def _walk(self, thing: Any, out: list[PostData]) -> None:
        if not isinstance(thing, Mapping) or thing.get("kind") == "more":
            return  # "load more comments" stubs carry ids only
        try:
            out.append(self.post_from_thing(thing))
        except (KeyError, TypeError, ValueError) as exc:
            logger.warning("reddit: skipped a malformed thread item: %s", exc)
        replies = thing.get("data", {}).get("replies") if isinstance(thing, Mapping) else None
        if isinstance(replies, Mapping):
            for child in replies.get("data", {}).get("children") or []:
                self._walk(child, out)

    # --- reply -------------------------------------------------------------------------

    def reply(self, *, in_reply_to: str, text: str, idempotency_key: str) -> base.Sent:
        """Comment on a submission (t3_) or comment (t1_). Reddit has no idempotency key."""
        if not _FULLNAME.match(in_reply_to) or in_reply_to[:3] not in ("t1_", "t3_"):
            raise PermanentError(f"cannot reply to {in_reply_to!r}: not a post or comment id")
        if not text.strip():
            raise PermanentError("refusing to send an empty reply")
        if len(text) > REPLY_MAX_LENGTH:
            raise PermanentError(
                f"reply is {len(text)} characters; Reddit allows {REPLY_MAX_LENGTH}"
            )
        body, _ = self._call(
            "POST",
            "/api/comment/",
            data={"api_type": "json", "thing_id": in_reply_to, "text": text},
            what="Reddit reply",
        )
        result = body.get("json", {}) if isinstance(body, dict) else {}
        errors = result.get("errors") or []
        if errors:
            raise _reply_error(errors)
        things = (result.get("data") or {}).get("things") or []
        # Reddit answered 2xx without an error: it took the comment, whatever the body says.
        if not things:
            raise unreadable_answer(
                "Reddit reply (no comment in the answer)", repr(body), write=True
            )
        try:
            post = self.post_from_thing(things[0])
        except (KeyError, TypeError, ValueError) as exc:
            raise unreadable_answer(f"Reddit reply ({exc})", repr(body), write=True) from exc
        return base.Sent(external_id=post.external_id, url=post.url)

    def find_reply(
        self, *, in_reply_to: str, idempotency_key: str, exclude: Collection[str] = ()
    ) -> base.Sent | None:
        """Our comment whose parent is ``in_reply_to`` among our latest 100 comments."""
        if not self.username:
            raise PermanentError("Reddit credentials incomplete: missing username")
        body, _ = self._call(
            "GET",
            f"/user/{self.username}/comments/",
            params={"sort": "new", "limit": FIND_REPLY_SCAN},
            what="Reddit own comments",
        )
        children, _ = _listing(body, "Reddit own comments")
        for child in children:
            data = child.get("data") if isinstance(child, Mapping) else None
            if isinstance(data, Mapping) and data.get("parent_id") == in_reply_to:
                try:
                    post = self.post_from_thing(child)
                except (KeyError, TypeError, ValueError):
                    continue
                if post.external_id in exclude:
                    continue
                return base.Sent(external_id=post.external_id, url=post.url)
        return None

    def follow(self, person_external_id: str) -> base.Sent:
        """Not offered: see ``limits().notes``."""
        raise base.NotSupported(
            "Reddit has no follow: its 'friends' list is private and the person is never told"
        )

    # --- notifications -----------------------------------------------------------------

    def notifications(self, cursor: str) -> base.NotificationPage:
        """Inbox items newer than ``cursor``, oldest first: replies, mentions, messages."""
        params: dict[str, Any] = {"limit": self.opts.listing_size}
        children, new_cursor, has_more, rate_limit = self._new_items(
            "/message/inbox/", params, cursor, "Reddit inbox"
        )
        found: list[base.Notification] = []
        skipped = 0
        for child in children:
            try:
                found.append(self.notification_from_thing(child))
            except (KeyError, TypeError, ValueError) as exc:
                logger.warning("reddit: skipped an inbox item: %s", exc)
                skipped += 1
        found.reverse()
        return base.NotificationPage(
            notifications=found,
            cursor=new_cursor,
            has_more=has_more,
            skipped=skipped,
            rate_limit=rate_limit,
        )

    def notification_from_thing(self, thing: Mapping[str, Any]) -> base.Notification:
        """Map one inbox item; ValueError for a kind we do not know."""
        post = self.post_from_thing(thing, context_url=True)
        data = thing["data"]
        if thing["kind"] == "t4":
            kind = base.NotificationKind.PRIVATE_MESSAGE
            subject = str(data.get("parent_id") or "")  # our message it answers, if any
        else:
            label = str(data.get("type") or "").lower()
            if label not in _INBOX_KINDS:
                label = str(data.get("subject") or "").lower()
            if label not in _INBOX_KINDS:
                raise ValueError(f"unknown inbox item type {data.get('type')!r}")
            kind = _INBOX_KINDS[label]
            # A reply is about our comment or post (its parent); a mention is about no post of ours.
            subject = (
                str(data.get("parent_id") or "") if kind == base.NotificationKind.REPLY else ""
            )
        return base.Notification(
            external_id=post.external_id,
            kind=kind,
            person=post.author,
            created_at=post.posted_at,
            subject_id=subject,
            post=post,
            raw=dict(thing),
        )


# --- helpers --------------------------------------------------------------------------


def _listing(body: Any, what: str) -> tuple[list[Any], Mapping[str, Any]]:
    if not isinstance(body, Mapping) or body.get("kind") != "Listing":
        raise TransientError(f"{what}: Reddit answered without a listing")
    data = body.get("data")
    if not isinstance(data, Mapping) or not isinstance(data.get("children"), list):
        raise TransientError(f"{what}: Reddit listing without children")
    return data["children"], data


def _body_text(data: Mapping[str, Any], field: str) -> str:
    # raw_json=1 gives real characters; the HTML rendering keeps link targets.
    rendered = data.get(f"{field}_html")
    if isinstance(rendered, str) and rendered:
        return html_to_text(rendered)
    return clean_text(str(data.get(field) or ""))


def _name(child: Any) -> str:
    """The fullname of a listing item, "" when it has no valid one."""
    data = child.get("data") if isinstance(child, Mapping) else None
    name = data.get("name") if isinstance(data, Mapping) else None
    return name if isinstance(name, str) and _FULLNAME.match(name) else ""


def _created(child: Any) -> float | None:
    data = child.get("data") if isinstance(child, Mapping) else None
    created = data.get("created_utc") if isinstance(data, Mapping) else None
    if isinstance(created, bool) or not isinstance(created, int | float):
        return None
    return float(created)


def _read_cursor(cursor: str) -> dict[str, Any]:
    """``{"before": newest fullname, "ts": its created_utc, "seen": fullnames of that second}``."""
    state = load_cursor(cursor, "Reddit", _valid_cursor)
    if not state:
        return {}
    seen = [str(name) for name in state.get("seen") or []]
    return {"before": state["before"], "ts": state.get("ts"), "seen": seen}


def _valid_cursor(state: dict[str, Any]) -> bool:
    before, ts = state["before"], state.get("ts")
    return (
        isinstance(state.get("seen") or [], list)
        and isinstance(before, str)
        and bool(_FULLNAME.match(before))
        and (ts is None or (not isinstance(ts, bool) and isinstance(ts, int | float)))
    )


def _quote(term: str) -> str:
    term = term.replace('"', " ").strip()
    return f'"{term}"'


def _search_expression(terms: Sequence[str], exclusions: Sequence[str]) -> str:
    """Reddit search syntax: any term, as phrases, minus the exclusions."""
    expression = " OR ".join(_quote(t) for t in terms)
    if len(terms) > 1:
        expression = f"({expression})"
    for word in exclusions:
        if word.strip():
            expression += f" NOT {_quote(word)}"
    return expression


def _reply_error(errors: list[Any]) -> Exception:
    """Reddit's ``json.errors`` ``[[code, message, field], ...]`` as one of our errors."""
    first = errors[0] if isinstance(errors[0], list) else [str(errors[0])]
    code = str(first[0]) if first else "UNKNOWN"
    message = str(first[1]) if len(first) > 1 else ""
    if code == "RATELIMIT":
        # "Take a break for 5 minutes before trying again."
        match = _RATELIMIT_WAIT.search(message)
        wait = int(match.group(1)) * _SECONDS[match.group(2).lower()] if match else None
        return TransientError(f"Reddit reply: {code}: {message}", retry_after=wait)
    return PermanentError(f"Reddit refused the reply: {code}: {message}")
