"""The one small interface every platform adapter implements.

Adapters are the only code that talks to a social network. They take plain
values in and give plain dataclasses back; they never touch the ORM, so the
ingest and dispatch code can store what they return in one transaction.
"""

from __future__ import annotations

import abc
import datetime as dt
import functools
import json
import logging
import typing
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

# Re-exported: adapters and callers import the errors from here.
from .errors import NotSupported as NotSupported
from .errors import OptionsError as OptionsError
from .errors import PermanentError as PermanentError
from .errors import PlatformError as PlatformError
from .errors import TransientError as TransientError
from .errors import UnknownOutcome as UnknownOutcome
from .text import storable, storable_json

if TYPE_CHECKING:
    from .options import AdapterOptions

OptionsT = TypeVar("OptionsT", bound="AdapterOptions")
T = TypeVar("T")


@dataclass(frozen=True)
class PersonData:
    """An account on a platform, as the platform describes it."""

    external_id: str
    handle: str
    display_name: str = ""
    profile_url: str = ""

    def __post_init__(self) -> None:
        _make_storable(self)


@dataclass(frozen=True)
class PostData:
    """One post, normalised: plain text (HTML stripped), the raw payload kept."""

    external_id: str
    author: PersonData
    text: str
    url: str
    posted_at: dt.datetime  # timezone-aware, UTC
    in_reply_to: str = ""  # external id of the parent post, "" for a top-level post
    lang: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _make_storable(self)
        raw = self.raw if isinstance(self.raw, dict | list) else dict(self.raw)
        raw, dumped = storable_json(raw)
        object.__setattr__(self, "raw", raw)
        if dumped is not None:
            self.__dict__["raw_json"] = dumped  # what making it storable dumped already

    @functools.cached_property
    def raw_json(self) -> str:
        """The raw payload as JSON text, the form the database stores; dumped once."""
        return json.dumps(self.raw, ensure_ascii=False)


def _make_storable(data: Any) -> None:
    """Replace what the database cannot store (a lone surrogate from a hostile answer).

    Every adapter's posts and people pass here, so one malformed status cannot
    fail the page's insert and hold the cursor back for good. (A post's raw
    payload is made storable by the post itself, which keeps its JSON text.)
    """
    for name in _storable_fields(data.__class__):
        value = getattr(data, name)
        if isinstance(value, str | dict | list):
            made = storable(value)
            if made is not value:
                object.__setattr__(data, name, made)
        elif isinstance(value, Mapping):
            object.__setattr__(data, name, storable(dict(value)))


@functools.cache
def _storable_fields(cls: type) -> tuple[str, ...]:
    """The fields ``_make_storable`` looks at: all of them but a post's raw payload."""
    return tuple(f.name for f in fields(cls) if not (cls is PostData and f.name == "raw"))


@dataclass(frozen=True)
class RateLimit:
    """What the platform's rate-limit headers said on the last call."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: dt.datetime | None = None


@dataclass(frozen=True)
class SearchQuery:
    """What a Source asks for. ``options`` carries platform-specific settings
    (Mastodon ``mode``: "search" or "hashtag"; RSS ``feed_url``; Reddit
    ``subreddit``...)."""

    terms: Sequence[str]
    exclusions: Sequence[str] = ()
    language: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    """One page of search results.

    ``cursor`` is what to pass next time; it only moves past posts that are in
    ``posts`` (or were skipped as malformed), so storing it together with the
    posts never skips one. ``has_more`` says another page is ready now.
    """

    posts: list[PostData]
    cursor: str
    has_more: bool = False
    skipped: int = 0  # malformed items logged and left out
    rate_limit: RateLimit | None = None


class NotificationKind:
    """What a person did that concerns one of our accounts."""

    REPLY = "reply"
    MENTION = "mention"
    FAVOURITE = "favourite"
    BOOST = "boost"
    FOLLOW = "follow"
    PRIVATE_MESSAGE = "private_message"
    BLOCK = "block"
    MUTE = "mute"
    CHOICES = (REPLY, MENTION, FAVOURITE, BOOST, FOLLOW, PRIVATE_MESSAGE, BLOCK, MUTE)


@dataclass(frozen=True)
class Notification:
    """One notification for our account.

    ``subject_id`` is the external id of our post it is about (the reply we
    sent, for a favourite/boost/reply), "" when it is about the account.
    ``post`` is the person's own post for replies, mentions and messages.
    """

    external_id: str
    kind: str
    person: PersonData
    created_at: dt.datetime
    subject_id: str = ""
    post: PostData | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NotificationPage:
    notifications: list[Notification]
    cursor: str
    has_more: bool = False
    skipped: int = 0
    rate_limit: RateLimit | None = None


@dataclass(frozen=True)
class Sent:
    """What the platform returned for something we posted or did."""

    external_id: str
    url: str = ""


@dataclass(frozen=True)
class Limits:
    """What a platform allows; the tone guard and the admin read these."""

    reply_max_length: int  # in ``length_unit``s; 0 when replies are not possible
    length_unit: str = "characters"  # "characters", "graphemes" or "weighted" (X)
    can_search: bool = True
    can_thread: bool = True
    can_reply: bool = True
    can_follow: bool = True
    can_read_notifications: bool = True
    notes: str = ""  # what the platform itself does not allow, shown in the admin

    @classmethod
    def read_only(cls, notes: str, *, can_thread: bool = True) -> Limits:
        """A platform we can only read: search, and perhaps threads; no replies, follows, inbox."""
        return cls(
            reply_max_length=0,
            can_thread=can_thread,
            can_reply=False,
            can_follow=False,
            can_read_notifications=False,
            notes=notes,
        )


def parse_each(
    items: Iterable[Any], parse: Callable[[Any], T], what: str, log: logging.Logger
) -> tuple[list[T], int]:
    """Each item ``parse``d; a malformed one (KeyError, TypeError, ValueError) is logged and
    counted instead of failing the page."""
    parsed: list[T] = []
    skipped = 0
    for item in items:
        try:
            parsed.append(parse(item))
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("%s: skipped a malformed item: %s", what, exc)
            skipped += 1
    return parsed, skipped


class Platform(abc.ABC, Generic[OptionsT]):
    """A social network as nojackal uses it.

    ``credentials`` are decrypted secrets (tokens, passwords); ``options`` are
    plain settings (instance URL, our handle). Neither is ever logged.
    Every method raises ``TransientError`` or ``PermanentError`` for failures
    the caller should handle; ``NotSupported`` where the platform has no such
    operation.
    """

    name: ClassVar[str]
    label: ClassVar[str]
    # The adapter's typed options (see options.py); ``self.opts`` holds them parsed.
    Options: ClassVar[type[AdapterOptions]]
    opts: OptionsT
    # Whether ``private_message`` sends; else why not, as the case page shows it.
    sends_private_messages: ClassVar[bool] = False
    private_messages_note: ClassVar[str] = ""

    def __init_subclass__(cls, platform: str = "", **kwargs: Any) -> None:
        """``class X(Platform[XOptions], platform="x")``: name, label and options declared once."""
        super().__init_subclass__(**kwargs)
        for parent in cls.__dict__.get("__orig_bases__", ()):
            args = typing.get_args(parent)
            if args and isinstance(args[0], type):
                cls.Options = args[0]
        if platform:
            from . import REGISTRY  # the registry holds each platform's label for the admin

            cls.name, cls.label = platform, REGISTRY[platform][0]

    def __init__(
        self,
        *,
        credentials: Mapping[str, str] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.credentials: Mapping[str, str] = credentials or {}
        self.options: Mapping[str, Any] = options or {}
        self.opts = self.Options.parse(self.options)

    def query_options(self, query: SearchQuery) -> OptionsT:
        """The options for one search: the source's own (``query.options``) over the adapter's."""
        if not query.options:
            return self.opts
        own = {key: value for key, value in query.options.items() if value}
        return self.Options.parse({**self.options, **own})

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        """OptionsError when ``options`` would not let a source of this platform poll."""
        missing = cls.Options.parse(options).missing()
        if missing:
            raise OptionsError(f"{cls.label} needs {', '.join(missing)}")
        cls.check_urls(options)

    @classmethod
    def check_urls(cls, options: Mapping[str, Any]) -> None:
        """OptionsError when ``options`` parse badly or set a URL the outbound policy refuses."""
        from .outbound import url_problem

        opts = cls.Options.parse(options)
        # A URL the policy refuses (loopback, private...) fails the form, not a poll.
        for name, url in cls.outbound_urls(opts.urls(options)).items():
            problem = url_problem(url)
            if problem:
                raise OptionsError(f"{name} {url!r}: {problem}")

    @classmethod
    def outbound_urls(cls, urls: Mapping[str, str]) -> Mapping[str, str]:
        """The URL options this platform fetches over the network (the sandbox drops its own)."""
        return urls

    @abc.abstractmethod
    def limits(self) -> Limits:
        """What this platform (or instance) allows."""

    @classmethod
    def default_limits(cls) -> Limits:
        """What the platform allows before anyone asked it: no network, no credentials."""
        return cls().limits()

    def current_limits(self) -> Limits:
        """The limits as the platform states them now; PlatformError when it cannot say.

        Unlike ``limits()``, never falls back to defaults: a cache refreshed from
        this keeps its last good value when the platform does not answer.
        """
        return self.limits()

    @abc.abstractmethod
    def search(self, query: SearchQuery, cursor: str) -> Page:
        """Posts matching ``query`` newer than ``cursor`` ("" for the start), oldest first."""

    def reply_allowed(self, post: PostData) -> tuple[bool, str]:
        """Whether the platform lets our account reply to ``post``, and why not.

        Most platforms allow any public reply; X's self-serve plans refuse one
        unless the author mentioned or quoted our account, and the case should
        say so before anyone drafts a reply.
        """
        if not self.limits().can_reply:
            return False, f"{self.label} does not allow replies"
        return True, ""

    def thread(self, external_id: str) -> list[PostData]:
        """The conversation around a post: ancestors, the post, replies."""
        raise NotSupported(f"{self.label} has no thread view")

    def reply(self, *, in_reply_to: str, text: str, idempotency_key: str) -> Sent:
        """Post ``text`` as a public reply to ``in_reply_to``."""
        raise NotSupported(f"{self.label} does not allow replies")

    def find_reply(
        self, *, in_reply_to: str, idempotency_key: str, exclude: Collection[str] = ()
    ) -> Sent | None:
        """Our earlier reply to ``in_reply_to``, if the platform has it (crash recovery).

        ``exclude`` lists the ids of our other replies to the same post that are
        already recorded (a first reply, when a later one is sought): never those.
        """
        raise NotSupported(f"{self.label} does not allow replies")

    def private_message(
        self,
        *,
        person_external_id: str,
        handle: str,
        in_reply_to: str,
        text: str,
        idempotency_key: str,
    ) -> Sent:
        """Send ``text`` privately to a person who wrote to us privately or asked for it;
        ``in_reply_to`` is their latest message to us (the conversation to continue)."""
        raise NotSupported(self.private_messages_note or f"{self.label} has no private messages")

    def follow(self, person_external_id: str) -> Sent:
        """Follow a person."""
        raise NotSupported(f"{self.label} has no follow")

    def notifications(self, cursor: str) -> NotificationPage:
        """Notifications for our account newer than ``cursor``, oldest first."""
        raise NotSupported(f"{self.label} has no notifications")

    def check(self) -> str:
        """Test the connection and credentials; return a human summary of what was found."""
        raise NotSupported(f"{self.label} has no connection test")
