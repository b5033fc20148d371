"""Bluesky through the atproto SDK.

Options: ``base_url`` (PDS or AppView, default https://bsky.social), ``handle``,
``page_size`` (1-100), ``timeout`` (seconds). Credentials: ``identifier`` (handle
or DID) and ``password`` (an app password, never the main one).

The SDK's httpx client runs with a short timeout and no retries; each response
is kept so its ``RateLimit-*`` headers reach the Page. Lists are fetched raw and
each item parsed on its own with the SDK's models, so one malformed item is
skipped instead of failing the whole page.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import logging
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar

import httpx
from atproto import Client, models
from atproto_client.exceptions import (
    BadRequestError,
    LoginRequiredError,
    ModelError,
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
    UnauthorizedError,
)
from atproto_client.models.common import XrpcError
from atproto_client.models.utils import get_or_create
from atproto_client.request import Request, Response
from atproto_core.exceptions import AtProtocolError

from . import base, text
from .base import Limits, Page, PermanentError, PostData, SearchQuery, TransientError
from .cursor import dump_cursor, load_cursor, newest_first_walk
from .http import error_for_status, network_error, rate_limit_of, unreadable_answer
from .options import AdapterOptions, ApiRoot
from .outbound import PolicyTransport, max_redirects

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_BASE_URL = ApiRoot("https://bsky.social")
MAX_PAGE_SIZE = 100
REPLY_MAX_GRAPHEMES = 300
POST_COLLECTION = "app.bsky.feed.post"
OWN_RECORDS_SCAN = 50
# Errors that mean the stored session is stale, not that the password is wrong.
_SESSION_ERRORS = frozenset({"ExpiredToken", "InvalidToken"})
_RECORD_MISSING = frozenset({"RecordNotFound", "NotFound"})

_NOTIFICATION_KINDS = {
    "like": base.NotificationKind.FAVOURITE,
    "repost": base.NotificationKind.BOOST,
    "follow": base.NotificationKind.FOLLOW,
    "mention": base.NotificationKind.MENTION,
    "reply": base.NotificationKind.REPLY,
    # Quoting our post is a public remark about it: closest to a mention.
    "quote": base.NotificationKind.MENTION,
}

# Logged-in sessions kept per process: createSession is limited to 30 per 5 minutes
# and 300 per day per account, far fewer than one login per poll would need.
_SESSIONS: dict[tuple[str, str], str] = {}

_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_TID_RE = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
# Derived record keys fall between 2020-09-13 and early 2025 (2**47 microseconds):
# always in the past, so no service sees a record key from the future.
_TID_BASE_US = 1_600_000_000_000_000


def record_key_for(idempotency_key: str) -> str:
    """The record key (a TID) for a reply, fixed by the idempotency key before the call.

    A key that already is a TID is used as is (the outbox may mint one when it
    records the intent); any other key is hashed into a stable TID.
    """
    if _TID_RE.match(idempotency_key):
        return idempotency_key
    if not idempotency_key:
        raise PermanentError("a Bluesky reply needs an idempotency key")
    digest = int.from_bytes(hashlib.sha256(idempotency_key.encode()).digest()[:8], "big")
    micros = _TID_BASE_US + (digest >> 17) % (1 << 47)
    value = (micros << 10) | (digest & 0x3FF)
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[value & 0x1F])
        value >>= 5
    return "".join(reversed(chars))


def _iso(value: Any) -> str:
    """A timestamp as fixed-width UTC ISO text, so that text order is time order."""
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    parsed = parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _utc(value: Any) -> dt.datetime:
    return dt.datetime.strptime(_iso(value), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def _rkey(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


class _RecordingClient(Client):
    """The SDK client, remembering the last response (for its rate-limit headers and raw JSON)."""

    last_response: Response | None = None

    def _invoke(self, invoke_type: Any, **kwargs: Any) -> Response:
        response = super()._invoke(invoke_type, **kwargs)
        self.last_response = response
        return response


@dataclasses.dataclass(frozen=True)
class BlueskyOptions(AdapterOptions):
    """The options listed in the module docstring, typed."""

    base_url: ApiRoot = DEFAULT_BASE_URL
    handle: str = ""
    page_size: int = 50  # clamped to 1-100


class BlueskyPlatform(base.Platform[BlueskyOptions], platform="bluesky"):
    """Bluesky: search, threads, replies with a pre-chosen record key, follows, notifications."""

    _client: _RecordingClient | None = None
    _did: str | None = None  # our account, once logged in
    _handle: str = ""

    # --- plumbing -------------------------------------------------------------------------

    def _session_key(self) -> tuple[str, str]:
        return (self.opts.base_url, str(self.credentials.get("identifier") or ""))

    def client(self, *, login: bool = True) -> _RecordingClient:
        """The SDK client, logged in when credentials are set (reusing this process's session)."""
        if self._client is None:
            timeout = self.opts.timeout
            # httpx retries nothing by default; the timeout keeps a hung host from holding a
            # worker; the policy transport checks every request and redirect (and the PDS
            # a login points us to).
            request = Request(
                timeout=timeout, transport=PolicyTransport(), max_redirects=max_redirects()
            )
            self._client = _RecordingClient(self.opts.base_url, request=request)
        if login and self._did is None and self.credentials.get("identifier"):
            self._login(self._client)
        return self._client

    def _login(self, client: _RecordingClient) -> None:
        identifier = str(self.credentials.get("identifier") or "")
        password = str(self.credentials.get("password") or "")
        if not password:
            raise PermanentError("Bluesky account has no app password")
        cached = _SESSIONS.get(self._session_key())
        try:
            if cached:
                client.login(session_string=cached, fetch_bsky_profile=False)
            else:
                client.login(identifier, password, fetch_bsky_profile=False)
        except (UnauthorizedError, BadRequestError) as exc:
            _SESSIONS.pop(self._session_key(), None)
            said = self._said(exc)
            if cached:
                raise TransientError(
                    f"Bluesky session expired ({said}); logging in again"
                ) from None
            raise PermanentError(f"Bluesky login refused: {said}") from None
        except AtProtocolError as exc:
            raise self._translate(exc) from None
        session = client._session
        if session is None:
            raise TransientError("Bluesky login returned no session")
        self._did, self._handle = session.did, session.handle
        # Not cached when it cannot be exported: the next instance logs in again.
        with contextlib.suppress(AtProtocolError, ValueError, AttributeError):
            _SESSIONS[self._session_key()] = client.export_session_string()

    @staticmethod
    def _said(exc: RequestErrorBase) -> str:
        content = exc.response.content if exc.response is not None else None
        if isinstance(content, XrpcError):
            return f"{content.error}: {content.message}" if content.message else content.error
        return str(exc)

    @staticmethod
    def _error_name(exc: RequestErrorBase) -> str:
        content = exc.response.content if exc.response is not None else None
        return content.error if isinstance(content, XrpcError) else ""

    def _raw(self) -> str | bytes:
        response = self._client.last_response if self._client is not None else None
        content = getattr(response, "content", None)
        return content if isinstance(content, str | bytes) else repr(content or "")

    def _translate(self, exc: AtProtocolError, *, write: bool = False) -> Exception:
        """The SDK's error as ours; ``write``: the call creates a record (see http.py)."""
        if isinstance(exc, RequestErrorBase) and self._error_name(exc) in _SESSION_ERRORS:
            _SESSIONS.pop(self._session_key(), None)
            return TransientError(f"Bluesky session expired: {self._said(exc)}")
        if isinstance(exc, NetworkError):
            return network_error("Bluesky", exc, write=write)
        if isinstance(exc, RequestErrorBase):
            response = exc.response
            status = response.status_code if response is not None else 0
            if isinstance(exc, RateLimitExceededError):
                status = 429
            elif not status:
                status = 401 if isinstance(exc, UnauthorizedError) else 400
            return error_for_status(
                status,
                what="Bluesky",
                said=self._said(exc),
                headers=response.headers if response is not None else None,
                retry_after=exc.retry_after if isinstance(exc, RateLimitExceededError) else None,
                write=write,
            )
        if isinstance(exc, LoginRequiredError):
            return PermanentError("Bluesky needs a logged-in account for this")
        if isinstance(exc, ModelError):
            return unreadable_answer(f"Bluesky ({exc})", self._raw(), write=write)
        return TransientError(f"Bluesky: {exc}")

    def _call(self, fn: Callable[..., T], *args: Any, write: bool = False, **kwargs: Any) -> T:
        if self._client is not None:
            self._client.last_response = None
        try:
            return fn(*args, **kwargs)
        except AtProtocolError as exc:
            raise self._translate(exc, write=write) from None
        except httpx.HTTPError as exc:
            # What the SDK does not wrap: too many redirects, a body cut short.
            raise network_error("Bluesky", exc, write=write) from None
        except (KeyError, TypeError, ValueError) as exc:
            # A 2xx whose JSON does not parse reaches us as the decoder's ValueError.
            raise unreadable_answer(f"Bluesky ({exc!r})", self._raw(), write=write) from None

    def _query(self, nsid: str, params: Any) -> dict[str, Any]:
        """One XRPC query, answered as raw JSON (items are parsed one by one by the caller)."""
        client = self.client()
        response = self._call(client.invoke_query, nsid, params=params)
        if not isinstance(response.content, dict):
            raise TransientError(f"Bluesky {nsid} did not answer with JSON")
        return response.content

    def _rate_limit(self) -> base.RateLimit | None:
        response = self._client.last_response if self._client is not None else None
        return rate_limit_of(response)

    def _own_did(self) -> str:
        self.client()
        if self._did is None:
            raise PermanentError("Bluesky account credentials are missing")
        return self._did

    # --- mapping --------------------------------------------------------------------------

    @staticmethod
    def person(author: Mapping[str, Any]) -> base.PersonData:
        """Map a Bluesky profile view to PersonData (the DID is the stable id)."""
        profile = get_or_create(
            dict(author), models.AppBskyActorDefs.ProfileViewBasic, strict=False
        )
        if profile is None:
            raise ValueError("author is not a profile")
        handle = str(profile.handle)
        return base.PersonData(
            external_id=str(profile.did),
            handle=handle,
            display_name=str(profile.display_name or ""),
            profile_url=f"https://bsky.app/profile/{handle}",
        )

    def post(self, view: Mapping[str, Any]) -> PostData:
        """Map a postView (or a notification carrying a post record) to PostData."""
        record_doc = view.get("record") or view.get("value")
        if not isinstance(record_doc, Mapping):
            raise ValueError("post has no record")
        record = get_or_create(dict(record_doc), models.AppBskyFeedPost.Record, strict=False)
        if record is None:
            raise ValueError("record is not a post")
        author = self.person(view["author"])
        uri = str(view["uri"])
        if not uri.startswith("at://"):
            raise ValueError(f"not an at:// uri: {uri!r}")
        body = text.with_facet_links(str(record.text or ""), record_doc.get("facets"))
        reply = record_doc.get("reply") or {}
        return PostData(
            external_id=uri,
            author=author,
            text=text.clean_text(body),
            url=f"https://bsky.app/profile/{author.handle}/post/{_rkey(uri)}",
            posted_at=_utc(record.created_at),
            in_reply_to=str((reply.get("parent") or {}).get("uri") or ""),
            lang=str((record.langs or [""])[0]),
            raw=dict(view),
        )

    @staticmethod
    def _sort_at(view: Mapping[str, Any]) -> str:
        # Bluesky sorts search results by "sortAt": the earlier of createdAt and indexedAt
        # (a client may backdate createdAt, never postdate the index).
        record = view.get("record") or {}
        stamps = [view.get("indexedAt"), record.get("createdAt")]
        return min(_iso(s) for s in stamps if s)

    # --- listening ------------------------------------------------------------------------

    def search(self, query: SearchQuery, cursor: str) -> Page:
        """searchPosts (newest first, ``since`` bound), walked down until nothing is skipped."""
        terms = [str(t).strip() for t in query.terms if str(t).strip()]
        if not terms:
            raise PermanentError("Bluesky source has no search terms")
        # searchPosts' Lucene-like syntax: quoted phrases ORed, exclusions with a minus.
        quoted = [f'"{t}"' if " " in t else t for t in terms]
        q = " OR ".join(quoted) if len(quoted) > 1 else quoted[0]
        q += "".join(f' -"{x}"' for x in query.exclusions if str(x).strip())
        opts: BlueskyOptions = self.query_options(query)
        size = max(1, min(MAX_PAGE_SIZE, opts.page_size))
        state = load_cursor(cursor, "Bluesky")
        doc = self._query(
            "app.bsky.feed.searchPosts",
            models.AppBskyFeedSearchPosts.Params(
                q=q,
                sort="latest",
                limit=size,
                since=state.get("since"),
                cursor=state.get("cursor"),
                lang=query.language or None,
            ),
        )
        rate_limit = self._rate_limit()
        views: list[Any] = doc["posts"] if isinstance(doc.get("posts"), list) else []
        posts: dict[str, PostData] = {}
        keyed: list[tuple[str, str]] = []
        skipped = 0
        for view in views:
            try:
                post = self.post(view)
                keyed.append((post.external_id, self._sort_at(view)))
                posts[post.external_id] = post
            except (KeyError, TypeError, ValueError, AttributeError, AtProtocolError) as exc:
                skipped += 1
                uri = view.get("uri") if isinstance(view, Mapping) else None
                log.warning("bluesky: skipped malformed post uri=%r: %r", uri, exc)
        fresh, new_state = newest_first_walk(
            state, keyed, doc.get("cursor"), full=len(views) >= size
        )
        ordered = sorted(
            (p for p in posts.values() if p.external_id in fresh),
            key=lambda p: (p.posted_at, p.external_id),
        )
        excluded = [str(x).casefold() for x in query.exclusions if str(x).strip()]
        ordered = [p for p in ordered if not any(x in p.text.casefold() for x in excluded)]
        return Page(
            posts=ordered,
            cursor=dump_cursor(new_state),
            has_more="cursor" in new_state,
            skipped=skipped,
            rate_limit=rate_limit,
        )

    # --- threads and replies --------------------------------------------------------------

    def thread(self, external_id: str) -> list[PostData]:
        """Parents (oldest first), the post, then its replies breadth first."""
        doc = self._query(
            "app.bsky.feed.getPostThread", models.AppBskyFeedGetPostThread.Params(uri=external_id)
        )
        root = doc.get("thread") or {}
        if "post" not in root:
            raise PermanentError(
                f"Bluesky post {external_id} is not available ({root.get('$type')})"
            )
        chain: list[PostData] = []
        parent = root.get("parent")
        while isinstance(parent, Mapping) and "post" in parent:
            chain.insert(0, self.post(parent["post"]))
            parent = parent.get("parent")
        chain.append(self.post(root["post"]))
        queue = list(root.get("replies") or [])
        while queue:
            node = queue.pop(0)
            if isinstance(node, Mapping) and "post" in node:
                try:
                    chain.append(self.post(node["post"]))
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    log.warning("bluesky: skipped malformed reply in thread: %r", exc)
                queue.extend(node.get("replies") or [])
        return chain

    def _strong_refs(self, uri: str) -> tuple[dict[str, str], dict[str, str]]:
        doc = self._query("app.bsky.feed.getPosts", models.AppBskyFeedGetPosts.Params(uris=[uri]))
        found = [p for p in doc.get("posts") or [] if p.get("uri") == uri]
        if not found:
            raise PermanentError(f"Bluesky post {uri} no longer exists")
        parent = {"uri": uri, "cid": str(found[0]["cid"])}
        root = ((found[0].get("record") or {}).get("reply") or {}).get("root") or parent
        return {"uri": str(root["uri"]), "cid": str(root["cid"])}, parent

    def reply(self, *, in_reply_to: str, text: str, idempotency_key: str) -> base.Sent:
        """Reply under the record key fixed by ``idempotency_key``; returns an existing one."""
        rkey = record_key_for(idempotency_key)
        existing = self._record_by_key(rkey, in_reply_to)
        if existing is not None:
            return existing
        root, parent = self._strong_refs(in_reply_to)
        record = {
            "$type": POST_COLLECTION,
            "text": text,
            "createdAt": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "reply": {"root": root, "parent": parent},
        }
        client = self.client()
        data = models.ComAtprotoRepoCreateRecord.Data(
            repo=self._own_did(), collection=POST_COLLECTION, rkey=rkey, record=record
        )
        created = self._call(client.com.atproto.repo.create_record, data, write=True)
        try:
            uri = str(created.uri)
        except AttributeError:
            raise unreadable_answer("Bluesky reply", self._raw(), write=True) from None
        return base.Sent(external_id=uri, url=self._web_url(uri))

    def _web_url(self, uri: str) -> str:
        handle = self._handle or self._did or ""
        return f"https://bsky.app/profile/{handle}/post/{_rkey(uri)}"

    def _record_by_key(self, rkey: str, in_reply_to: str) -> base.Sent | None:
        client = self.client()
        params = models.ComAtprotoRepoGetRecord.Params(
            repo=self._own_did(), collection=POST_COLLECTION, rkey=rkey
        )
        try:
            found = client.com.atproto.repo.get_record(params)
        except RequestErrorBase as exc:
            if self._error_name(exc) in _RECORD_MISSING:
                return None
            raise self._translate(exc) from None
        except AtProtocolError as exc:
            raise self._translate(exc) from None
        value = found.value
        reply = getattr(value, "reply", None)
        if reply is None or str(reply.parent.uri) != in_reply_to:
            # Our key, but not a reply to this post: never report it as the reply.
            raise PermanentError(
                f"Bluesky record {rkey} exists but is not a reply to {in_reply_to}"
            )
        return base.Sent(external_id=str(found.uri), url=self._web_url(str(found.uri)))

    def find_reply(
        self, *, in_reply_to: str, idempotency_key: str, exclude: Collection[str] = ()
    ) -> base.Sent | None:
        """Our reply: by its record key first, then in the thread, then in our recent posts."""
        found = self._record_by_key(record_key_for(idempotency_key), in_reply_to)
        if found is not None:
            return found
        own = self._own_did()
        doc = self._query(
            "app.bsky.feed.getPostThread",
            models.AppBskyFeedGetPostThread.Params(uri=in_reply_to, depth=1),
        )
        for node in (doc.get("thread") or {}).get("replies") or []:
            view = node.get("post") if isinstance(node, Mapping) else None
            if (
                view
                and (view.get("author") or {}).get("did") == own
                and str(view.get("uri")) not in exclude
            ):
                return base.Sent(external_id=str(view["uri"]), url=self._web_url(str(view["uri"])))
        records = self._query(
            "com.atproto.repo.listRecords",
            models.ComAtprotoRepoListRecords.Params(
                repo=own, collection=POST_COLLECTION, limit=OWN_RECORDS_SCAN
            ),
        )
        for item in records.get("records") or []:
            parent = (((item.get("value") or {}).get("reply") or {}).get("parent")) or {}
            if parent.get("uri") == in_reply_to and str(item.get("uri")) not in exclude:
                return base.Sent(external_id=str(item["uri"]), url=self._web_url(str(item["uri"])))
        return None

    def follow(self, person_external_id: str) -> base.Sent:
        """Create an app.bsky.graph.follow record for the person's DID."""
        if not person_external_id.startswith("did:"):
            raise PermanentError(f"Bluesky follows need a DID, not {person_external_id!r}")
        client = self.client()
        record = models.AppBskyGraphFollow.Record(
            created_at=client.get_current_time_iso(), subject=person_external_id
        )
        created = self._call(
            client.app.bsky.graph.follow.create, self._own_did(), record, write=True
        )
        return base.Sent(external_id=str(created.uri))

    # --- notifications --------------------------------------------------------------------

    def notifications(self, cursor: str) -> base.NotificationPage:
        """Likes, reposts, follows, mentions, replies and quotes newer than ``cursor``."""
        state = load_cursor(cursor, "Bluesky")
        size = MAX_PAGE_SIZE
        doc = self._query(
            "app.bsky.notification.listNotifications",
            models.AppBskyNotificationListNotifications.Params(
                limit=size, cursor=state.get("cursor")
            ),
        )
        rate_limit = self._rate_limit()
        items: list[Any] = (
            doc["notifications"] if isinstance(doc.get("notifications"), list) else []
        )
        keyed: list[tuple[str, str]] = []
        found: dict[str, base.Notification] = {}
        skipped = 0
        for item in items:
            try:
                uri, stamp = str(item["uri"]), _iso(item["indexedAt"])
            except (KeyError, TypeError, ValueError) as exc:
                skipped += 1
                log.warning("bluesky: skipped notification without uri/time: %r", exc)
                continue
            keyed.append((uri, stamp))
            try:
                note = self._notification(item)
            except (KeyError, TypeError, ValueError, AttributeError, AtProtocolError) as exc:
                skipped += 1
                log.warning("bluesky: skipped malformed notification uri=%r: %r", uri, exc)
                continue
            if note is not None:
                found[uri] = note
        fresh, new_state = newest_first_walk(
            state, keyed, doc.get("cursor"), full=len(items) >= size
        )
        notes = sorted(
            (n for uri, n in found.items() if uri in fresh),
            key=lambda n: (n.created_at, n.external_id),
        )
        return base.NotificationPage(
            notifications=notes,
            cursor=dump_cursor(new_state),
            has_more="cursor" in new_state,
            skipped=skipped,
            rate_limit=rate_limit,
        )

    def _notification(self, item: Mapping[str, Any]) -> base.Notification | None:
        reason = str(item["reason"])
        kind = _NOTIFICATION_KINDS.get(reason)
        if kind is None:
            return None  # starter packs, verification and the like: nothing to engage with
        post = None
        subject = str(item.get("reasonSubject") or "")
        if reason in ("mention", "reply", "quote"):
            post = self.post(item)
            if reason == "reply":
                subject = subject or post.in_reply_to
        return base.Notification(
            external_id=str(item["uri"]),
            kind=kind,
            person=self.person(item["author"]),
            created_at=_utc(item["indexedAt"]),
            subject_id=subject if kind != base.NotificationKind.FOLLOW else "",
            post=post,
            raw=dict(item),
        )

    # --- limits and checks ----------------------------------------------------------------

    def limits(self) -> Limits:
        """Bluesky posts hold 300 graphemes."""
        return Limits(
            reply_max_length=REPLY_MAX_GRAPHEMES,
            length_unit="graphemes",
            notes=(
                "Posts are limited to 300 graphemes; links show as typed unless given as "
                "facets. Search covers what the AppView indexed and may miss posts from "
                "accounts it filters. Logins (createSession) are limited to 30 per 5 minutes "
                "and 300 a day, so sessions are reused. Direct messages are not supported "
                "by this adapter."
            ),
        )

    def check(self) -> str:
        """Log in with the app password and say which account it reaches."""
        did = self._own_did()
        handle = self._handle or did
        summary = f"Logged in to {self.opts.base_url} as @{handle} ({did})"
        expected = self.opts.handle.lstrip("@")
        if expected and expected.casefold() != handle.casefold():
            summary += f"; note: the account's handle is not the configured @{expected}"
        return summary
