"""X (API v2) through tweepy.

Options: ``handle`` and ``user_id`` (our account; ``user_id`` saves a /2/users/me
call), ``api_base_url`` (tests point it at a local server; default X's own
host), ``page_size`` (10-100), ``timeout`` (seconds), ``reply_access``
("mentioned_or_quoted", the self-serve rule and default, or "unrestricted" on
plans that allow any reply). Credentials: ``bearer_token`` (app-only, for search;
or an OAuth 2.0 user token) and, for posting, following and mentions, the OAuth
1.0a user tokens ``consumer_key``, ``consumer_secret``, ``access_token``,
``access_token_secret``.

tweepy runs with ``wait_on_rate_limit=False`` on a requests session with no
retries and a short timeout. Lists come back as plain JSON and each item is
built into a ``tweepy.Tweet``/``tweepy.User`` on its own, so one malformed item
is skipped instead of failing the page.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar

import requests
import tweepy

from . import base, text
from .base import Limits, Page, PermanentError, PostData, SearchQuery
from .cursor import dump_cursor, load_cursor
from .http import error_for_status, network_error, rate_limit_of, unreadable_answer
from .options import NO_API_ROOT, AdapterOptions, ApiRoot, check_choice
from .outbound import PolicyAdapter, max_redirects

log = logging.getLogger(__name__)
# tweepy logs every request's headers, the bearer token included, at DEBUG: keep its
# client logger above that so turning on debug logging never writes credentials.
logging.getLogger("tweepy.client").setLevel(logging.INFO)

T = TypeVar("T")

X_HOSTS = ("https://api.twitter.com", "https://api.x.com")
REPLY_ACCESS = ("mentioned_or_quoted", "unrestricted")
REPLY_MAX_WEIGHT = 280
URL_WEIGHT = 23
MAX_QUERY_LENGTH = 512  # recent search on self-serve plans
TWEET_FIELDS = [
    "author_id",
    "conversation_id",
    "created_at",
    "entities",
    "in_reply_to_user_id",
    "lang",
    "referenced_tweets",
]
USER_FIELDS = ["name", "username"]
EXPANSIONS = ["author_id"]
# X ids are snowflakes: milliseconds since this epoch, shifted left by 22 bits.
_SNOWFLAKE_EPOCH_MS = 1288834974657


class _TimeoutAdapter(PolicyAdapter):
    """The outbound policy, no retries, a default timeout, X's host swapped for ``base_url``."""

    def __init__(self, timeout: float, base_url: str | None) -> None:
        super().__init__(timeout)
        self.base_url = base_url

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if self.base_url and request.url:
            for host in X_HOSTS:
                if request.url.startswith(host):
                    request.url = self.base_url + request.url[len(host) :]
        return super().send(request, **kwargs)


def _id_key(value: str) -> tuple[int, str]:
    return (len(value), value)


def _created_at(tweet: Mapping[str, Any]) -> dt.datetime:
    stamp = tweet.get("created_at")
    if stamp:
        parsed = dt.datetime.fromisoformat(str(stamp))
        return parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    # Without tweet.fields=created_at the id still carries the time.
    millis = (int(tweet["id"]) >> 22) + _SNOWFLAKE_EPOCH_MS
    return dt.datetime.fromtimestamp(millis / 1000, dt.UTC)


def _referenced(tweet: Mapping[str, Any], kind: str) -> list[str]:
    return [
        str(ref.get("id"))
        for ref in tweet.get("referenced_tweets") or []
        if isinstance(ref, Mapping) and ref.get("type") == kind and ref.get("id")
    ]


@dataclasses.dataclass(frozen=True)
class XOptions(AdapterOptions):
    """The options listed in the module docstring, typed."""

    handle: str = ""
    user_id: str = ""
    api_base_url: ApiRoot = NO_API_ROOT  # "" for X's own host
    page_size: int = 100  # clamped to 10-100, what X accepts
    reply_access: str = "mentioned_or_quoted"

    def check(self) -> None:
        super().check()
        check_choice("X reply_access", self.reply_access, REPLY_ACCESS)

    @property
    def unrestricted(self) -> bool:
        """The plan lets us reply to any post."""
        return self.reply_access == "unrestricted"

    @property
    def bare_handle(self) -> str:
        """Our handle without the ``@``."""
        return self.handle.lstrip("@")


class XPlatform(base.Platform[XOptions], platform="x"):
    """X API v2: recent search, conversations, permitted replies, follows, mentions."""

    _client: tweepy.Client | None = None
    _last_response: requests.Response | None = None  # kept for its rate-limit headers
    _looked_up_id: str | None = None  # our user id, once asked

    @property
    def _user_id(self) -> str | None:
        """Our user id: configured, or asked once."""
        return self.opts.user_id or self._looked_up_id

    # --- plumbing -------------------------------------------------------------------------

    @property
    def _user_auth(self) -> bool:
        keys = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
        return all(self.credentials.get(k) for k in keys)

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._last_response = response

    def client(self) -> tweepy.Client:
        """The tweepy client returning plain JSON, never sleeping on a rate limit."""
        if self._client is None:
            if not self.credentials.get("bearer_token") and not self._user_auth:
                raise PermanentError("X account has no bearer token or OAuth 1.0a user tokens")
            base_url = self.opts.api_base_url or None
            client = tweepy.Client(
                bearer_token=self.credentials.get("bearer_token") or None,
                consumer_key=self.credentials.get("consumer_key") or None,
                consumer_secret=self.credentials.get("consumer_secret") or None,
                access_token=self.credentials.get("access_token") or None,
                access_token_secret=self.credentials.get("access_token_secret") or None,
                return_type=dict,
                wait_on_rate_limit=False,  # the poller waits, with jitter, not a worker thread
            )
            adapter = _TimeoutAdapter(self.opts.timeout, base_url)
            client.session.mount("https://", adapter)
            client.session.mount("http://", adapter)
            client.session.max_redirects = max_redirects()
            client.session.hooks["response"].append(self._remember)
            self._client = client
        return self._client

    def _call(self, fn: Callable[..., T], *args: Any, write: bool = False, **kwargs: Any) -> T:
        """Run one tweepy call, turning its errors into ours.

        ``write``: the call creates something (a post, a follow), so a failure after
        the request went out is an ``UnknownOutcome`` (see http.py).
        """
        self._last_response = None
        try:
            return fn(*args, **kwargs)
        except tweepy.HTTPException as exc:
            raise error_for_status(
                getattr(exc.response, "status_code", 0) or 400,
                what="X",
                said="; ".join(str(m) for m in exc.api_messages),
                reason=str(getattr(exc.response, "reason", "") or ""),
                headers=getattr(exc.response, "headers", None),
                write=write,
            ) from None
        except requests.JSONDecodeError:
            # tweepy decodes a 2xx itself: a body cut short ends here, after X acted.
            raise unreadable_answer("X", self._raw(), write=write) from None
        except requests.RequestException as exc:
            raise network_error("X", exc, write=write) from None
        except (tweepy.TweepyException, TypeError) as exc:
            # tweepy raises TypeError when a call needs credentials we do not have.
            raise PermanentError(f"X: {exc}") from None

    def _raw(self) -> bytes:
        return self._last_response.content if self._last_response is not None else b""

    def _rate_limit(self) -> base.RateLimit | None:
        return rate_limit_of(self._last_response)

    def _own_id(self) -> str:
        if self._user_id is None:
            me = self._call(self.client().get_me, user_auth=self._user_auth)
            self._looked_up_id = str(me["data"]["id"])
        return str(self._user_id)

    # --- mapping --------------------------------------------------------------------------

    @staticmethod
    def person(user: Mapping[str, Any]) -> base.PersonData:
        """Map an X user object to PersonData."""
        built = tweepy.User(dict(user))
        return base.PersonData(
            external_id=str(built.id),
            handle=str(built.username),
            display_name=str(built.name or ""),
            profile_url=f"https://x.com/{built.username}",
        )

    def post(self, tweet: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]]) -> PostData:
        """Map an X tweet (and the expanded users) to PostData."""
        built = tweepy.Tweet(dict(tweet))
        author_id = str(built.author_id or "")
        if not author_id:
            raise ValueError("tweet has no author_id")
        user = users.get(author_id)
        author = self.person(user) if user else base.PersonData(external_id=author_id, handle="")
        handle = author.handle or "i"
        replied = _referenced(tweet, "replied_to")
        return PostData(
            external_id=str(built.id),
            author=author,
            text=text.unescape_text(built.text),  # X sends &amp; &lt; &gt; in text
            url=f"https://x.com/{handle}/status/{built.id}",
            posted_at=_created_at(tweet),
            in_reply_to=replied[0] if replied else "",
            lang=str(built.lang or ""),
            raw=dict(tweet),
        )

    def _page_items(self, doc: Mapping[str, Any]) -> tuple[list[PostData], list[str], int]:
        users: dict[str, Mapping[str, Any]] = {}
        for user in (doc.get("includes") or {}).get("users") or []:
            if isinstance(user, Mapping) and user.get("id"):
                users[str(user["id"])] = user
        posts: list[PostData] = []
        ids: list[str] = []
        skipped = 0
        for tweet in doc.get("data") or []:
            tweet_id = str(tweet.get("id") or "") if isinstance(tweet, Mapping) else ""
            if tweet_id.isdigit():
                ids.append(tweet_id)
            try:
                posts.append(self.post(tweet, users))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                skipped += 1
                log.warning("x: skipped malformed tweet id=%r: %r", tweet_id, exc)
        return posts, ids, skipped

    # --- listening ------------------------------------------------------------------------

    @staticmethod
    def _page_size(opts: XOptions) -> int:
        return max(10, min(100, opts.page_size))  # X accepts 10..100

    @staticmethod
    def build_query(query: SearchQuery) -> str:
        """The recent-search query: terms ORed, exclusions negated, retweets left out."""
        terms = [str(t).strip() for t in query.terms if str(t).strip()]
        if not terms:
            raise PermanentError("X source has no search terms")
        quoted = [f'"{t}"' if " " in t else t for t in terms]
        parts = [f"({' OR '.join(quoted)})" if len(quoted) > 1 else quoted[0]]
        parts += [f'-"{x}"' if " " in x else f"-{x}" for x in map(str, query.exclusions) if x]
        parts.append("-is:retweet")
        if query.language:
            parts.append(f"lang:{query.language}")
        built = " ".join(parts)
        if len(built) > MAX_QUERY_LENGTH:
            raise PermanentError(f"X query is {len(built)} characters, over {MAX_QUERY_LENGTH}")
        return built

    @staticmethod
    def _load_state(cursor: str) -> dict[str, str]:
        if cursor.isdigit():
            return {"since_id": cursor}  # the plain since_id older versions stored
        return {str(k): str(v) for k, v in load_cursor(cursor, "X").items() if v}

    @staticmethod
    def _next_state(state: Mapping[str, str], ids: list[str], next_token: str | None) -> dict:
        """Newest first with ``since_id``: walk ``next_token`` down before moving ``since_id``."""
        since, top = state.get("since_id"), state.get("top")
        newest = max(ids, key=_id_key) if ids else None
        if since is None:
            # First poll: start from the newest tweet, no walk into the past.
            return {"since_id": newest} if newest else {}
        if next_token and ids:
            return {"since_id": since, "next_token": next_token, "top": top or newest}
        return {"since_id": top or newest or since}

    def search(self, query: SearchQuery, cursor: str) -> Page:
        """Recent search newer than the cursor, oldest first; a cut-short page is walked down."""
        q = self.build_query(query)
        size = self._page_size(self.query_options(query))
        state = self._load_state(cursor)
        client = self.client()
        doc = self._call(
            client.search_recent_tweets,
            q,
            since_id=state.get("since_id"),
            next_token=state.get("next_token"),
            max_results=size,
            tweet_fields=TWEET_FIELDS,
            expansions=EXPANSIONS,
            user_fields=USER_FIELDS,
            # App-only auth has the larger search allowance (450 per 15 minutes).
            user_auth=not self.credentials.get("bearer_token"),
        )
        return self._page(doc, state)

    def _page(self, doc: Mapping[str, Any], state: Mapping[str, str]) -> Page:
        posts, ids, skipped = self._page_items(doc)
        next_token = (doc.get("meta") or {}).get("next_token")
        new_state = self._next_state(state, ids, next_token)
        posts.sort(key=lambda p: (p.posted_at, _id_key(p.external_id)))
        return Page(
            posts=posts,
            cursor=dump_cursor(new_state),
            has_more="next_token" in new_state,
            skipped=skipped,
            rate_limit=self._rate_limit(),
        )

    # --- threads, replies, follows --------------------------------------------------------

    def _get_post(self, tweet_id: str) -> PostData:
        doc = self._call(
            self.client().get_tweet,
            tweet_id,
            tweet_fields=TWEET_FIELDS,
            expansions=EXPANSIONS,
            user_fields=USER_FIELDS,
            user_auth=not self.credentials.get("bearer_token"),
        )
        posts, _, _ = self._page_items({"data": [doc.get("data")], "includes": doc.get("includes")})
        if not posts:
            raise PermanentError(f"X post {tweet_id} is not available")
        return posts[0]

    def thread(self, external_id: str) -> list[PostData]:
        """The post and what recent search finds in its conversation (the last 7 days)."""
        post = self._get_post(external_id)
        conversation = str(post.raw.get("conversation_id") or external_id)
        doc = self._call(
            self.client().search_recent_tweets,
            f"conversation_id:{conversation}",
            max_results=100,
            tweet_fields=TWEET_FIELDS,
            expansions=EXPANSIONS,
            user_fields=USER_FIELDS,
            user_auth=not self.credentials.get("bearer_token"),
        )
        others, _, _ = self._page_items(doc)
        posts = {p.external_id: p for p in [post, *others]}
        return sorted(posts.values(), key=lambda p: (p.posted_at, _id_key(p.external_id)))

    def reply_allowed(self, post: PostData) -> tuple[bool, str]:
        """Whether X lets us reply to ``post``, and why; checked before the case is drafted."""
        if self.opts.unrestricted:
            return True, "this plan allows replies to any post"
        handle = self.opts.bare_handle
        mentioned = {
            str(m.get("username", "")).casefold()
            for m in ((post.raw.get("entities") or {}).get("mentions") or [])
            if isinstance(m, Mapping)
        }
        mention_ids = {
            str(m.get("id"))
            for m in ((post.raw.get("entities") or {}).get("mentions") or [])
            if isinstance(m, Mapping) and m.get("id")
        }
        if handle and (
            handle.casefold() in mentioned or f"@{handle}".casefold() in post.text.casefold()
        ):
            return True, f"the author mentioned @{handle}"
        if self._user_id and self._user_id in mention_ids:
            return True, "the author mentioned our account"
        quoted = _referenced(post.raw, "quoted")
        if quoted:
            own = self._own_id()
            doc = self._call(
                self.client().get_tweets,
                quoted,
                tweet_fields=["author_id"],
                user_auth=not self.credentials.get("bearer_token"),
            )
            if any(str(t.get("author_id")) == own for t in doc.get("data") or []):
                return True, "the author quoted our post"
        who = f"@{handle}" if handle else "our account"
        return False, (
            f"X lets self-serve API plans reply only when the author mentioned or quoted {who}; "
            "this post does neither, so reply by hand on X or not at all"
        )

    def reply(self, *, in_reply_to: str, text: str, idempotency_key: str) -> base.Sent:
        """Reply if X allows it; X has no idempotency key, so ``find_reply`` reconciles."""
        if not self.opts.unrestricted:
            allowed, why = self.reply_allowed(self._get_post(in_reply_to))
            if not allowed:
                raise PermanentError(why)
        doc = self._call(
            self.client().create_tweet,
            text=text,
            in_reply_to_tweet_id=in_reply_to,
            user_auth=self._user_auth,
            write=True,
        )
        try:
            tweet_id = str(doc["data"]["id"])
        except (KeyError, TypeError):
            raise unreadable_answer("X reply", self._raw(), write=True) from None
        return base.Sent(external_id=tweet_id, url=self._url(tweet_id))

    def _url(self, tweet_id: str) -> str:
        handle = self.opts.bare_handle or "i"
        return f"https://x.com/{handle}/status/{tweet_id}"

    def find_reply(
        self, *, in_reply_to: str, idempotency_key: str, exclude: Collection[str] = ()
    ) -> base.Sent | None:
        """Our reply to ``in_reply_to`` among our latest posts (no search index lag)."""
        doc = self._call(
            self.client().get_users_tweets,
            self._own_id(),
            max_results=100,
            tweet_fields=["referenced_tweets", "created_at"],
            user_auth=self._user_auth,
        )
        for tweet in doc.get("data") or []:
            if (
                isinstance(tweet, Mapping)
                and in_reply_to in _referenced(tweet, "replied_to")
                and str(tweet.get("id")) not in exclude
            ):
                return base.Sent(external_id=str(tweet["id"]), url=self._url(str(tweet["id"])))
        return None

    def follow(self, person_external_id: str) -> base.Sent:
        """Follow a user by id (a protected account turns it into a pending request)."""
        if not str(person_external_id).isdigit():
            raise PermanentError(f"X follows need a numeric user id, not {person_external_id!r}")
        self._call(
            self.client().follow_user, person_external_id, user_auth=self._user_auth, write=True
        )
        return base.Sent(external_id=str(person_external_id), url="")

    # --- notifications --------------------------------------------------------------------

    def notifications(self, cursor: str) -> base.NotificationPage:
        """Mentions (and replies, which mention us) newer than ``cursor``, oldest first."""
        state = self._load_state(cursor)
        doc = self._call(
            self.client().get_users_mentions,
            self._own_id(),
            since_id=state.get("since_id"),
            pagination_token=state.get("next_token"),
            max_results=self._page_size(self.opts),
            tweet_fields=TWEET_FIELDS,
            expansions=EXPANSIONS,
            user_fields=USER_FIELDS,
            user_auth=self._user_auth,
        )
        posts, ids, skipped = self._page_items(doc)
        new_state = self._next_state(state, ids, (doc.get("meta") or {}).get("next_token"))
        notes = [
            base.Notification(
                external_id=post.external_id,
                kind=base.NotificationKind.REPLY
                if post.in_reply_to
                else base.NotificationKind.MENTION,
                person=post.author,
                created_at=post.posted_at,
                subject_id=post.in_reply_to,
                post=post,
                raw=post.raw,
            )
            for post in posts
        ]
        notes.sort(key=lambda n: (n.created_at, _id_key(n.external_id)))
        return base.NotificationPage(
            notifications=notes,
            cursor=dump_cursor(new_state),
            has_more="next_token" in new_state,
            skipped=skipped,
            rate_limit=self._rate_limit(),
        )

    # --- limits and checks ----------------------------------------------------------------

    def limits(self) -> Limits:
        """280 weighted characters; what self-serve API plans do not allow goes in notes."""
        return Limits(
            reply_max_length=REPLY_MAX_WEIGHT,
            length_unit="weighted",
            notes=(
                "Replies count 280 weighted characters (CJK and emoji weigh 2, every link 23). "
                "Self-serve API plans may reply only when the author mentioned or quoted our "
                "account; the case shows this before a draft is written. Notifications are "
                "mentions and replies only: likes, reposts and new followers are not delivered "
                "by the API. Recent search covers the last 7 days. X has no idempotency key: a "
                "crashed send is reconciled from our own latest posts."
            ),
        )

    def check(self) -> str:
        """Authenticate and say which account (or app) the credentials reach."""
        client = self.client()
        if self._user_auth or not self.credentials.get("bearer_token"):
            me = self._call(client.get_me, user_auth=self._user_auth)
            data = me["data"]
            self._looked_up_id = str(data["id"])
            return f"Authenticated as @{data['username']} (id {data['id']})"
        handle = self.opts.bare_handle
        if not handle:
            raise PermanentError("set the account's handle to test an app-only bearer token")
        found = self._call(client.get_user, username=handle, user_auth=False)
        data = found["data"]
        return f"App token works; @{data['username']} is user id {data['id']} (read-only)"
