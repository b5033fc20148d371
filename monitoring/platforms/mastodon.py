"""Mastodon (any instance): listening with plain HTTP, the rest through Mastodon.py.

Options: ``api_base_url`` (the instance, required), ``handle`` (our account,
shown in ``check``), ``mode`` ("search" for full-text search, the default, or
"hashtag" for hashtag timelines where the instance has no search backend),
``page_size`` (1-40), ``timeout`` (seconds), ``mastodon_version`` (skips the
library's version probe), ``reply_visibility``, ``mention_author``.
Credentials: ``access_token`` (scopes ``read write:statuses write:follows``).

Listening (search and hashtag timelines) reads the instance's JSON itself and
maps it straight into ``PostData`` (``_get_json``): converting every status into
Mastodon.py's objects was most of a poll's time (issue #15). Threads, replies,
follows and notifications go through Mastodon.py, which runs with
``ratelimit_method="throw"`` and the same requests session, without retries:
waiting and retrying are the caller's job, so a 429 becomes a ``TransientError``
carrying the wait the server asked for, on either path.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote, urlparse

import orjson
import requests
from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonIllegalArgumentError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonVersionError,
)

from . import base, text
from .base import Limits, Page, PermanentError, PostData, SearchQuery, TransientError
from .cursor import dump_cursor, load_cursor
from .http import (
    error_for_status,
    json_error_message,
    network_error,
    rate_limit_of,
    unreadable_answer,
)
from .options import NO_API_ROOT, AdapterOptions, ApiRoot, check_choice
from .outbound import OutboundRefused, policy_session, refusal_in

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_MAX_CHARACTERS = 500
DEFAULT_URL_LENGTH = 23
MAX_PAGE_SIZE = 40  # Mastodon caps limit at 40 for statuses and notifications
MODES = ("search", "hashtag")
# Our own recent statuses scanned when the thread does not show our reply.
OWN_STATUSES_SCAN = 40

_NOTIFICATION_KINDS = {
    "favourite": base.NotificationKind.FAVOURITE,
    "reblog": base.NotificationKind.BOOST,
    "follow": base.NotificationKind.FOLLOW,
}


def _id_key(value: str) -> tuple[int, str]:
    # Mastodon ids are numeric strings too large for JS; compare them as numbers
    # without converting (other servers use sortable non-numeric ids).
    return (len(value), value) if value.isdigit() else (0, value)


def _utc(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, str) and value:
        parsed = dt.datetime.fromisoformat(value)
        return parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    raise ValueError(f"not a timestamp: {value!r}")


def _jsonable(value: Any) -> Any:
    """A JSON-safe copy of what Mastodon.py returned (datetimes as ISO strings)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _instance_limits(max_chars: int, url_len: int) -> Limits:
    return Limits(
        reply_max_length=max_chars,
        length_unit="characters",
        notes=(
            f"Each link counts as {url_len} characters. The author's @handle is added "
            "to a reply that does not mention them (Mastodon notifies mentioned "
            "accounts only) and counts toward the limit. Full-text search needs a "
            "logged-in account on an instance with a search backend; otherwise use "
            "hashtag mode. Idempotency keys last about an hour."
        ),
    )


@dataclasses.dataclass(frozen=True)
class MastodonOptions(AdapterOptions):
    """The options listed in the module docstring, typed."""

    required: ClassVar[tuple[str, ...]] = ("api_base_url",)

    api_base_url: ApiRoot = NO_API_ROOT
    handle: str = ""
    mode: str = "search"
    page_size: int = MAX_PAGE_SIZE  # clamped to 1-40
    mastodon_version: str = "4.2.0"
    reply_visibility: str = ""
    mention_author: bool = True

    def check(self) -> None:
        super().check()
        check_choice("Mastodon source mode", self.mode, MODES)


class MastodonPlatform(base.Platform[MastodonOptions], platform="mastodon"):
    """Mastodon: search or hashtag listening, threads, replies, follows, notifications."""

    # A status of "direct" visibility reaches only the accounts it mentions.
    sends_private_messages = True

    _client: Mastodon | None = None
    _last_response: requests.Response | None = None  # kept for rate-limit headers and raw JSON
    _own_id: str | None = None
    _limits: Limits | None = None

    # --- plumbing -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        url = self.opts.api_base_url
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise PermanentError(f"Mastodon api_base_url {url!r} is not an http(s) URL")
        return url

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._last_response = response

    def client(self) -> Mastodon:
        """The Mastodon.py client: short timeout, no retries, 429 raised instead of slept on."""
        if self._client is None:
            # The outbound policy on every request and redirect, and no retries inside
            # the client: the poller backs off with jitter instead.
            session = self._session()
            self._client = Mastodon(
                access_token=self.credentials.get("access_token") or None,
                api_base_url=self.base_url,
                ratelimit_method="throw",
                request_timeout=self.opts.timeout,
                session=session,
                # A stated version stops Mastodon.py from probing /api/v1/instance
                # before search calls (an extra request, and a hidden failure point).
                version_check_mode="created",
                mastodon_version=self.opts.mastodon_version,
            )
        return self._client

    def _session(self) -> requests.Session:
        """One session under the outbound policy for the client and our own requests."""
        session = self.__dict__.get("_http_session")
        if session is None:
            session = self.__dict__["_http_session"] = policy_session(self.opts.timeout)
            session.hooks["response"].append(self._remember)
        return session

    def _get_json(self, path: str, params: Mapping[str, Any]) -> Any:
        """GET one listening endpoint; its JSON exactly as the instance sent it.

        Listening maps the instance's JSON straight into ``PostData`` (``post``):
        Mastodon.py's conversion of every status into objects of its own was most
        of a poll's time (issue #15), and the raw payload we keep is that JSON
        anyway. Failures map to our errors as ``_call`` maps the library's.
        """
        token = self.credentials.get("access_token")
        self._last_response = None
        try:
            response = self._session().get(
                self.base_url.rstrip("/") + path,
                params={k: v for k, v in params.items() if v is not None},
                headers={"Authorization": f"Bearer {token}"} if token else {},
                timeout=self.opts.timeout,
            )
        except OutboundRefused:
            raise
        except requests.RequestException as exc:
            refused = refusal_in(exc)
            if refused is not None:
                raise refused from None
            raise network_error("Mastodon", exc) from None
        if not 200 <= response.status_code < 300:
            try:
                said = json_error_message(response.json())
            except ValueError:
                said = ""
            raise error_for_status(
                response.status_code,
                what="Mastodon",
                said=said,
                reason=response.reason or "",
                headers=response.headers,
            )
        try:
            # orjson reads a page of statuses several times faster than json; what it
            # refuses (another encoding than UTF-8, NaN) is left to requests' reading.
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            pass
        try:
            return response.json()
        except ValueError:
            # A page cut short or garbled: transient, its raw answer kept for the admin.
            raise unreadable_answer("Mastodon", response.content) from None

    def _call(self, fn: Callable[..., T], *args: Any, write: bool = False, **kwargs: Any) -> T:
        """Run one client call, turning Mastodon.py's errors into ours.

        ``write``: the call creates something (a status, a follow), so a failure after
        the request went out is an ``UnknownOutcome`` (see http.py).
        """
        self._last_response = None
        try:
            return fn(*args, **kwargs)
        except MastodonNetworkError as exc:
            # Mastodon.py wraps everything the session raised, our policy's refusal too.
            refused = refusal_in(exc)
            if refused is not None:
                raise refused from None
            raise network_error("Mastodon", exc, write=write) from None
        except (MastodonAPIError, MastodonRatelimitError) as exc:
            response = self._last_response
            if response is not None and 200 <= response.status_code < 300:
                # Mastodon.py raises an API error for a 2xx whose JSON does not parse
                # (a body cut short): the server answered, we just cannot read it.
                raise unreadable_answer("Mastodon", response.content, write=write) from None
            # Mastodon.py's args are (message, status, reason, the error body's "error").
            details = list(exc.args)
            status = details[1] if len(details) > 1 and isinstance(details[1], int) else None
            if isinstance(exc, MastodonRatelimitError):
                status = 429
            elif status is None:
                status = 500 if isinstance(exc, MastodonServerError) else 400
            raise error_for_status(
                status,
                what="Mastodon",
                said=str(details[3]) if len(details) > 3 and details[3] else "",
                reason=str(details[2]) if len(details) > 2 and details[2] else "",
                headers=response.headers if response is not None else None,
                write=write,
            ) from None
        except (MastodonIllegalArgumentError, MastodonVersionError) as exc:
            raise PermanentError(f"Mastodon: {exc}") from None
        except MastodonError as exc:
            raise TransientError(f"Mastodon: {exc}") from None
        except (KeyError, TypeError, ValueError) as exc:
            # What Mastodon.py lets through from an answer of an unexpected shape.
            response = self._last_response
            raw = response.content if response is not None else ""
            raise unreadable_answer(f"Mastodon ({exc!r})", raw, write=write) from None

    def _rate_limit(self) -> base.RateLimit | None:
        return rate_limit_of(self._last_response)

    def _raw_text(self) -> bytes:
        return self._last_response.content if self._last_response is not None else b""

    def _raw_json(self) -> Any:
        try:
            return self._last_response.json() if self._last_response is not None else None
        except ValueError:
            return None

    def _own_account_id(self) -> str:
        if self._own_id is None:
            me = self._call(lambda: self.client().account_verify_credentials())
            self._own_id = str(me["id"])
        return self._own_id

    # --- mapping --------------------------------------------------------------------------

    def person(self, account: Mapping[str, Any]) -> base.PersonData:
        """Map a Mastodon Account to PersonData; the handle always carries the domain."""
        acct = str(account["acct"])
        profile_url = str(account.get("url") or "")
        if "@" not in acct:
            # Local accounts come without a domain; the profile URL has the right one.
            host = urlparse(profile_url).hostname or urlparse(self.base_url).hostname or ""
            acct = f"{acct}@{host}" if host else acct
        return base.PersonData(
            external_id=str(account["id"]),
            handle=acct,
            display_name=str(account.get("display_name") or ""),
            profile_url=profile_url,
        )

    def post(self, status: Mapping[str, Any], raw: Mapping[str, Any] | None = None) -> PostData:
        """Map a Mastodon Status to PostData (plain text, raw payload kept)."""
        body = text.html_to_text(status.get("content") or "")
        spoiler = text.clean_text(str(status.get("spoiler_text") or ""))
        return PostData(
            external_id=str(status["id"]),
            author=self.person(status["account"]),
            text=f"{spoiler}\n\n{body}".strip() if spoiler else body,
            url=str(status.get("url") or status.get("uri") or ""),
            posted_at=_utc(status["created_at"]),
            in_reply_to=str(status.get("in_reply_to_id") or ""),
            lang=str(status.get("language") or ""),
            raw=dict(raw) if raw is not None else _jsonable(status),
        )

    def _posts(
        self,
        statuses: Iterable[Mapping[str, Any]],
        raws: list[Any] | None,
        *,
        keep_json: bool = False,
    ) -> tuple[list[PostData], int]:
        """Map statuses; ``keep_json``: they are the instance's JSON, kept as the raw payload."""
        posts: list[PostData] = []
        skipped = 0
        for index, status in enumerate(statuses):
            raw = raws[index] if raws is not None and index < len(raws) else None
            if keep_json:
                raw = status
            try:
                posts.append(self.post(status, raw if isinstance(raw, Mapping) else None))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                skipped += 1
                item_id = status.get("id") if isinstance(status, Mapping) else None
                log.warning("mastodon: skipped malformed status id=%r: %r", item_id, exc)
        return posts, skipped

    # --- listening ------------------------------------------------------------------------

    @staticmethod
    def _terms(query: SearchQuery, mode: str) -> list[str]:
        terms = [str(t).strip() for t in query.terms if str(t).strip()]
        if not terms:
            raise PermanentError("Mastodon source has no search terms")
        if mode == "hashtag":
            tags = [t.lstrip("#") for t in terms]
            bad = [t for t in tags if not t or any(not (c.isalnum() or c == "_") for c in t)]
            if bad:
                raise PermanentError(f"not valid Mastodon hashtags: {bad}")
            return tags
        return terms

    @staticmethod
    def _load_cursor(cursor: str) -> dict[str, dict[str, str]]:
        state = load_cursor(cursor, "Mastodon", lambda s: isinstance(s.get("terms"), dict))
        terms = state.get("terms") or {}
        return {str(k): dict(v) for k, v in terms.items() if isinstance(v, dict)}

    def search(self, query: SearchQuery, cursor: str) -> Page:
        """Statuses for each term newer than the cursor, oldest first; one request per term.

        Each term keeps its own state: ``min`` (everything up to it is stored).
        Search results come newest first, so while a full page leaves a gap below
        them the state also keeps ``max`` (the oldest id seen in the gap) and
        ``top`` (the newest id seen); the gap is walked down on the next calls
        before ``min`` moves to ``top``, so a page cut short by the limit never
        skips a status. Tag timelines page forward from ``min`` instead. The
        first poll of a term takes only the newest page: a new source starts
        from now.
        """
        opts: MastodonOptions = self.query_options(query)
        mode = opts.mode
        terms = self._terms(query, mode)
        size = max(1, min(MAX_PAGE_SIZE, opts.page_size))
        states = self._load_cursor(cursor)
        seen: dict[str, PostData] = {}
        skipped = 0
        has_more = False
        rate_limit: base.RateLimit | None = None
        new_states: dict[str, dict[str, str]] = {}
        for term in terms:
            state = states.get(term, {})
            low, high, top = state.get("min"), state.get("max"), state.get("top")
            bounds = {"min_id": low, "max_id": high, "limit": size}
            if mode == "search":
                doc = self._get_json(
                    "/api/v2/search",
                    {"q": term, "resolve": "false", "type": "statuses", **bounds},
                )
                found = doc.get("statuses") if isinstance(doc, Mapping) else None
            else:
                found = self._get_json(f"/api/v1/timelines/tag/{quote(term, safe='')}", bounds)
            if not isinstance(found, list):
                raise TransientError("Mastodon: the answer has no list of statuses")
            statuses = [s for s in found if isinstance(s, Mapping)]
            rate_limit = self._rate_limit() or rate_limit
            posts, bad = self._posts(statuses, None, keep_json=True)
            bad += len(found) - len(statuses)
            skipped += bad
            ids = sorted(
                (str(s["id"]) for s in statuses if isinstance(s, Mapping) and s.get("id")),
                key=_id_key,
            )
            full = len(statuses) >= size
            if mode == "hashtag":
                # Tag timelines page forward from min_id (the statuses just above it,
                # documented and implemented as such): no gap can open below a page.
                new_states[term] = {"min": ids[-1]} if ids else dict(state)
                has_more = has_more or (full and low is not None)
            else:
                new_states[term] = self._next_state(low, top, ids, full=full)
                has_more = has_more or "max" in new_states[term]
            for post in posts:
                if self._wanted(post, query):
                    seen[post.external_id] = post
        for term, state in states.items():
            new_states.setdefault(term, state)  # a term removed and re-added resumes
        ordered = sorted(seen.values(), key=lambda p: (p.posted_at, _id_key(p.external_id)))
        return Page(
            posts=ordered,
            cursor=dump_cursor({"terms": new_states}),
            has_more=has_more,
            skipped=skipped,
            rate_limit=rate_limit,
        )

    @staticmethod
    def _next_state(
        low: str | None, top: str | None, ids: list[str], *, full: bool
    ) -> dict[str, str]:
        if low is None:
            # First poll of this term: start from the newest status, no walk into the past.
            return {"min": ids[-1]} if ids else {}
        if full and ids:
            # The page may stop short of ``low``: walk the gap down next time.
            return {"min": low, "max": ids[0], "top": top or ids[-1]}
        return {"min": top or (ids[-1] if ids else low)}

    @staticmethod
    def _wanted(post: PostData, query: SearchQuery) -> bool:
        lowered = post.text.casefold()
        if any(str(x).casefold() in lowered for x in query.exclusions if str(x).strip()):
            return False
        return not (query.language and post.lang and post.lang != query.language)

    # --- threads and replies --------------------------------------------------------------

    def thread(self, external_id: str) -> list[PostData]:
        """Ancestors, the status itself and its descendants, oldest first."""
        client = self.client()
        status = self._call(lambda: client.status(external_id))
        context = self._call(lambda: client.status_context(external_id))
        raw_doc = self._raw_json() or {}
        ancestors, bad_a = self._posts(context["ancestors"], raw_doc.get("ancestors"))
        descendants, bad_d = self._posts(context["descendants"], raw_doc.get("descendants"))
        if bad_a or bad_d:
            log.warning("mastodon: thread %s had %d malformed statuses", external_id, bad_a + bad_d)
        return [*ancestors, self.post(status), *descendants]

    def reply(self, *, in_reply_to: str, text: str, idempotency_key: str) -> base.Sent:
        """Reply publicly, mentioning the author so they are notified; Idempotency-Key set."""
        client = self.client()
        body = text
        if self.opts.mention_author:
            parent = self._call(lambda: client.status(in_reply_to))
            # Mastodon notifies only mentioned accounts: a reply without the
            # author's @handle would never reach the person.
            acct = str(parent["account"]["acct"])
            if f"@{acct}".casefold() not in text.casefold():
                body = f"@{acct} {text}"
        status = self._call(
            lambda: client.status_post(
                body,
                in_reply_to_id=in_reply_to,
                idempotency_key=idempotency_key,
                visibility=self.opts.reply_visibility or None,
            ),
            write=True,
        )
        try:
            return base.Sent(external_id=str(status["id"]), url=str(status.get("url") or ""))
        except (KeyError, TypeError, AttributeError):
            raise unreadable_answer("Mastodon reply", self._raw_text(), write=True) from None

    def private_message(
        self,
        *,
        person_external_id: str,
        handle: str,
        in_reply_to: str,
        text: str,
        idempotency_key: str,
    ) -> base.Sent:
        """A direct-visibility status mentioning only the person (Mastodon delivers it to
        the accounts it mentions), in reply to their latest message: the conversation
        they started stays one thread, and ``find_reply`` reconciles it like a reply."""
        acct = handle.strip().lstrip("@")
        if not acct:
            raise PermanentError("the person has no handle to address a direct message to")
        body = text if f"@{acct}".casefold() in text.casefold() else f"@{acct} {text}"
        client = self.client()
        status = self._call(
            lambda: client.status_post(
                body,
                in_reply_to_id=in_reply_to or None,
                idempotency_key=idempotency_key,
                visibility="direct",
            ),
            write=True,
        )
        if str(status.get("visibility") or "direct") != "direct":
            # Never take a public status for a private one: the team must know.
            raise PermanentError(
                f"the instance posted status {status.get('id')} as {status.get('visibility')}"
            )
        return base.Sent(external_id=str(status["id"]), url=str(status.get("url") or ""))

    def find_reply(
        self, *, in_reply_to: str, idempotency_key: str, exclude: Collection[str] = ()
    ) -> base.Sent | None:
        """Our reply to ``in_reply_to``, from the thread or our own recent statuses."""
        # Idempotency keys last about an hour and are stored only once the status
        # exists, so they cannot answer "did the crashed send post?": look instead.
        client = self.client()
        own = self._own_account_id()
        context = self._call(lambda: client.status_context(in_reply_to))
        candidates = list(context.get("descendants") or [])
        found = self._ours(candidates, own, in_reply_to, exclude)
        if found is None:
            recent = self._call(
                lambda: client.account_statuses(own, exclude_reblogs=True, limit=OWN_STATUSES_SCAN)
            )
            found = self._ours(list(recent or []), own, in_reply_to, exclude)
        return found

    @staticmethod
    def _ours(
        statuses: list[Any], own: str, parent: str, exclude: Collection[str]
    ) -> base.Sent | None:
        for status in statuses:
            try:
                if (
                    str(status["account"]["id"]) == own
                    and str(status["in_reply_to_id"]) == parent
                    and str(status["id"]) not in exclude
                ):
                    return base.Sent(
                        external_id=str(status["id"]), url=str(status.get("url") or "")
                    )
            except (KeyError, TypeError):
                continue
        return None

    def follow(self, person_external_id: str) -> base.Sent:
        """Follow an account (a locked account turns it into a follow request)."""
        client = self.client()
        self._call(lambda: client.account_follow(person_external_id), write=True)
        return base.Sent(external_id=str(person_external_id))

    # --- notifications --------------------------------------------------------------------

    def notifications(self, cursor: str) -> base.NotificationPage:
        """Mentions, replies, direct messages, favourites, boosts and follows after ``cursor``."""
        client = self.client()
        size = MAX_PAGE_SIZE
        items = self._call(
            lambda: client.notifications(
                min_id=cursor or None,
                limit=size,
                types=["mention", "favourite", "reblog", "follow"],
            )
        )
        items = list(items or [])
        raw_doc = self._raw_json()
        raws = raw_doc if isinstance(raw_doc, list) else []
        found: list[base.Notification] = []
        skipped = 0
        newest = cursor
        for index, item in enumerate(items):
            raw = raws[index] if index < len(raws) else None
            item_id = str(item.get("id") or "") if isinstance(item, Mapping) else ""
            if item_id and (not newest or _id_key(item_id) > _id_key(newest)):
                newest = item_id  # even an unusable item is behind us now
            try:
                note = self._notification(item, raw)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                skipped += 1
                log.warning("mastodon: skipped malformed notification id=%r: %r", item_id, exc)
                continue
            if note is not None:
                found.append(note)
        found.sort(key=lambda n: (n.created_at, _id_key(n.external_id)))
        return base.NotificationPage(
            notifications=found,
            cursor=newest,
            # ``min_id`` pages forward from the cursor, so a full page means more are waiting.
            has_more=len(items) >= size,
            skipped=skipped,
            rate_limit=self._rate_limit(),
        )

    def _notification(self, item: Mapping[str, Any], raw: Any) -> base.Notification | None:
        kind_name = str(item["type"])
        status = item.get("status")
        post = None
        if kind_name == "mention":
            if not status:
                raise ValueError("mention without a status")
            post = self.post(status, raw.get("status") if isinstance(raw, Mapping) else None)
            if status.get("visibility") == "direct":
                kind = base.NotificationKind.PRIVATE_MESSAGE
            elif post.in_reply_to:
                kind = base.NotificationKind.REPLY
            else:
                kind = base.NotificationKind.MENTION
            subject = post.in_reply_to
        elif kind_name in _NOTIFICATION_KINDS:
            kind = _NOTIFICATION_KINDS[kind_name]
            subject = str(status["id"]) if status and kind != base.NotificationKind.FOLLOW else ""
        else:
            return None  # polls, edits, reports: nothing a person did to us
        return base.Notification(
            external_id=str(item["id"]),
            kind=kind,
            person=self.person(item["account"]),
            created_at=_utc(item["created_at"]),
            subject_id=subject,
            post=post,
            raw=dict(raw) if isinstance(raw, Mapping) else _jsonable(item),
        )

    # --- limits and checks ----------------------------------------------------------------

    def limits(self) -> Limits:
        """The instance's status length (default 500), read once from /api/v2/instance."""
        if self._limits is None:
            try:
                return self.current_limits()
            except (PermanentError, TransientError) as exc:
                # The tone guard needs an answer; 500 is Mastodon's default and the safe side.
                log.warning("mastodon: instance limits unavailable, using defaults: %s", exc)
                self._limits = self.default_limits()
        return self._limits

    @classmethod
    def default_limits(cls) -> Limits:
        """Mastodon's defaults (500 characters, links as 23), before the instance is asked."""
        return _instance_limits(DEFAULT_MAX_CHARACTERS, DEFAULT_URL_LENGTH)

    def current_limits(self) -> Limits:
        """The instance's own status length, asked now; PlatformError when it does not say."""
        instance = self._call(lambda: self.client().instance_v2())
        try:
            statuses = instance["configuration"]["statuses"]
            max_chars = int(statuses.get("max_characters") or DEFAULT_MAX_CHARACTERS)
            url_len = int(statuses.get("characters_reserved_per_url") or DEFAULT_URL_LENGTH)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PermanentError(f"the instance did not state its status limits: {exc!r}") from None
        self._limits = _instance_limits(max_chars, url_len)
        return self._limits

    def check(self) -> str:
        """Verify the token; say which account and instance it reaches."""
        me = self._call(lambda: self.client().account_verify_credentials())
        self._own_id = str(me["id"])
        handle = self.person(me).handle
        expected = self.opts.handle.lstrip("@")
        summary = f"Logged in to {self.base_url} as @{handle} (id {me['id']})"
        if expected and expected.casefold() not in handle.casefold():
            summary += f"; note: the account's handle is not the configured @{expected}"
        return summary
