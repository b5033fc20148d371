"""HTTP for the adapters: one error mapping, one request, rate-limit headers.

Every adapter's failures end in ``TransientError`` (retry later) or
``PermanentError`` (stop and say why), decided here once by
``error_for_status``: network faults, 408/425, 429 (with the wait the platform
asked for) and 5xx are transient; 401/403, an unfollowed redirect and every
other 4xx are permanent. A write (a POST or PATCH: a reply, a follow) that may
have reached the platform and then failed (a timeout or a reset after the
request went out, a 5xx, a 2xx whose body cannot be read) is an
``UnknownOutcome``: the platform may have acted, so the dispatcher asks it
(``find_reply``) before anything is sent again; only an answer the platform gave
before acting (a 4xx) is permanent. Adapters that speak plain HTTP subclass
``HttpPlatform`` and override one hook, ``error_message``, to read their
platform's error body; adapters built on a client library (Mastodon.py,
atproto, tweepy) pass the status and message from the library's exception to
the same function.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
from collections.abc import Collection, Mapping
from typing import Any

import httpx
import requests
import urllib3.exceptions

from .base import (
    OptionsT,
    PermanentError,
    Platform,
    PlatformError,
    RateLimit,
    TransientError,
    UnknownOutcome,
)
from .outbound import policy_session
from .text import clean_text

# Statuses that say "try again later" without being a 5xx.
_TRANSIENT_4XX = frozenset({408, 425})
# Methods that are not idempotent: a failure after one was sent may hide a post that exists.
WRITE_METHODS = frozenset({"POST", "PATCH"})
# How much of an unreadable answer is kept for the admin.
RAW_ANSWER_CHARS = 2000
# Failures that happen before a byte of the request left: the platform cannot have acted.
_NOT_SENT: tuple[type[BaseException], ...] = (
    requests.ConnectTimeout,
    urllib3.exceptions.NewConnectionError,  # refused, unresolvable
    urllib3.exceptions.ConnectTimeoutError,
    httpx.ConnectError,
    httpx.ConnectTimeout,
    ConnectionRefusedError,
)


def is_write(method: str) -> bool:
    """Whether a request with this method may change something on the platform, not idempotently."""
    return method.upper() in WRITE_METHODS


def never_sent(exc: BaseException) -> bool:
    """True when ``exc`` (or what it wraps) failed while connecting, before the request went out."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, _NOT_SENT):
            return True
        # requests wraps urllib3's MaxRetryError (whose ``reason`` is the cause) in args;
        # the client libraries chain theirs with ``raise ... from``.
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        linked += list(current.args)
        pending += [item for item in linked if isinstance(item, BaseException)]
    return False


def raw_answer(text: str | bytes | None) -> str:
    """An answer as received, cut short for the admin (which escapes it)."""
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return text[:RAW_ANSWER_CHARS]


def unreadable_answer(
    what: str, raw: str | bytes | None = "", *, write: bool = False
) -> TransientError:
    """A 2xx answer whose body does not parse: never permanent, and an unknown outcome for a write.

    A truncated or garbled page says nothing about the request: the next poll may
    read it. After a write the platform has acted (it said 2xx) but we cannot tell
    what it created, so the dispatcher asks it.
    """
    error: TransientError
    if write:
        error = UnknownOutcome(
            f"{what}: the platform accepted the request but its answer could not be read"
        )
    else:
        error = TransientError(f"{what}: answered with something that could not be read")
    error.raw = raw_answer(raw)
    return error


def error_for_status(
    status: int,
    *,
    what: str,
    said: str = "",
    reason: str = "",
    headers: Mapping[str, str] | None = None,
    retry_after: float | None = None,
    write: bool = False,
) -> PlatformError:
    """The error for a failed HTTP answer; ``said`` is what the platform's error body said.

    ``write``: the request was a non-idempotent call, so a 5xx (the server may have
    acted before failing) is an ``UnknownOutcome``.
    """
    error = _error_for_status(status, said, reason, headers, retry_after, what)
    if write and status >= 500:
        detail = f"{status} {said or reason}".strip()
        error = UnknownOutcome(
            f"{what}: server error after the request was sent ({detail}); "
            "the platform may have acted"
        )
    error.status = status
    return error


def _error_for_status(
    status: int,
    said: str,
    reason: str,
    headers: Mapping[str, str] | None,
    retry_after: float | None,
    what: str,
) -> PlatformError:
    # The platform's own words when it gave any, else the reason phrase.
    detail = f"{status} {said or reason}".strip()
    if status == 429:
        if retry_after is None:
            retry_after = retry_after_from_headers(headers)
        return TransientError(f"{what}: rate limit hit ({detail})", retry_after=retry_after)
    if status >= 500 or status in _TRANSIENT_4XX:
        return TransientError(f"{what}: server error ({detail})")
    if status in (401, 403):
        return PermanentError(f"{what}: refused access ({detail})")
    if 300 <= status < 400:
        # Only adapters that do not follow redirects see one: Reddit sends a
        # missing subreddit to its search page.
        return PermanentError(f"{what}: not found (redirected, {status})")
    if status == 404:
        return PermanentError(f"{what}: not found ({detail})")
    return PermanentError(f"{what}: refused the request ({detail})")


def network_error(what: str, exc: BaseException, *, write: bool = False) -> TransientError:
    """A request that never got a readable answer (refused, reset, timed out, cut short).

    For a write that went out (everything but a failed connect) the platform may
    have acted: an ``UnknownOutcome``.
    """
    if write and not never_sent(exc):
        return UnknownOutcome(
            f"{what}: no answer after the request was sent ({type(exc).__name__}); "
            "the platform may have acted"
        )
    return TransientError(f"{what}: unreachable ({type(exc).__name__})")


def json_error_message(body: Any) -> str:
    """The message in a conventional JSON error body (``message``, ``error``, ``detail``...)."""
    if not isinstance(body, Mapping):
        return ""
    for key in ("message", "error_description", "error", "detail", "reason", "title"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


class HttpPlatform(Platform[OptionsT]):
    """A platform spoken to with plain requests: one ``_request``, errors mapped once.

    Subclasses may override ``error_message`` to read their platform's error body.
    """

    @property
    def timeout(self) -> float:
        """Seconds a request may take, from the adapter's options."""
        return float(self.opts.timeout)

    @property
    def session(self) -> requests.Session:
        """One requests session per adapter (connection reuse), made on first use."""
        session = self.__dict__.get("_session")
        if session is None:
            session = self.__dict__["_session"] = self.make_session()
        return session

    def make_session(self) -> requests.Session:
        """A session under the outbound policy; the sandbox client adds its in-process transport."""
        return policy_session()

    def error_message(self, response: requests.Response) -> str:
        """What the platform's error body says (override for a platform's own shape)."""
        try:
            said = json_error_message(response.json())
        except ValueError:
            return clean_text(response.text[:200])
        return said

    def _request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        accept: Collection[int] = (),
        write: bool | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """One request, never retried here (the caller backs off); failures mapped to our errors.

        ``accept`` lists non-2xx statuses the caller handles itself (a feed's 304).
        ``write`` says whether the call may create something (default: a POST or
        PATCH); a login's POST passes False.
        """
        write = is_write(method) if write is None else write
        kwargs.setdefault("timeout", self.timeout)
        try:
            response = self.session.request(method, url, **kwargs)
        except requests.RequestException as exc:
            raise network_error(what, exc, write=write) from exc
        status = response.status_code
        if 200 <= status < 300 or status in accept:
            response.nojackal_write = write  # type: ignore[attr-defined]  # read by _json
            return response
        raise error_for_status(
            status,
            what=what,
            said=self.error_message(response),
            reason=response.reason or "",
            headers=response.headers,
            write=write,
        )

    @staticmethod
    def _json(response: requests.Response, what: str) -> Any:
        """The answer's JSON; TransientError (UnknownOutcome after a write) if unparsable."""
        try:
            return response.json()
        except ValueError as exc:
            write = bool(getattr(response, "nojackal_write", False))
            raise unreadable_answer(what, response.content, write=write) from exc


# --- rate limits and Retry-After -------------------------------------------------------

# Anything numeric at least this big is a Unix timestamp (X, Bluesky), smaller is seconds
# from now (Reddit, the IETF RateLimit draft).
_EPOCH_THRESHOLD = 1_000_000_000
_HEADER_FAMILIES = ("x-ratelimit-", "x-rate-limit-", "ratelimit-")


def _utc(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC)
    return now if now.tzinfo else now.replace(tzinfo=dt.UTC)


def parse_reset(value: str | None, now: dt.datetime | None = None) -> dt.datetime | None:
    """When a limit resets (seconds, Unix time, HTTP date or ISO 8601); None if unreadable."""
    if value is None:
        return None
    value = str(value).strip()
    if not value or len(value) > 64:
        return None
    now = _utc(now)
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        if not math.isfinite(number) or number < 0:
            return None
        try:
            if number >= _EPOCH_THRESHOLD:
                return dt.datetime.fromtimestamp(number, dt.UTC)
            return now + dt.timedelta(seconds=number)
        except (OverflowError, ValueError, OSError):
            return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        parsed = None
    if parsed is None:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from ``now`` per a ``Retry-After`` (or reset) value; None if unreadable."""
    now = _utc(now)
    when = parse_reset(value, now)
    if when is None:
        return None
    return max(0.0, (when - now).total_seconds())


def _lower(headers: Mapping[str, str] | None) -> dict[str, str]:
    if not headers:
        return {}
    return {str(k).lower(): str(v) for k, v in headers.items()}


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        number = float(value.strip())  # Reddit sends "598.0"
    except ValueError:
        return None
    if not math.isfinite(number) or number < 0:
        return None
    return int(number)


def rate_limit_from_headers(
    headers: Mapping[str, str] | None, now: dt.datetime | None = None
) -> RateLimit | None:
    """Read X-RateLimit-*, x-rate-limit-* (X) or RateLimit-* (Bluesky) headers; None when absent."""
    lowered = _lower(headers)
    for prefix in _HEADER_FAMILIES:
        limit = _int(lowered.get(prefix + "limit"))
        remaining = _int(lowered.get(prefix + "remaining"))
        reset_at = parse_reset(lowered.get(prefix + "reset"), now)
        if limit is None and remaining is None and reset_at is None:
            continue
        used = _int(lowered.get(prefix + "used"))
        if limit is None and used is not None and remaining is not None:
            limit = used + remaining  # Reddit sends used + remaining, not the limit
        return RateLimit(limit=limit, remaining=remaining, reset_at=reset_at)
    return None


def rate_limit_of(response: Any) -> RateLimit | None:
    """The rate limit a client library's last response stated; None without one."""
    return rate_limit_from_headers(response.headers) if response is not None else None


def retry_after_from_headers(
    headers: Mapping[str, str] | None, now: dt.datetime | None = None
) -> float | None:
    """Seconds to wait after a 429: ``Retry-After`` first, else the rate-limit reset."""
    now = _utc(now)
    lowered = _lower(headers)
    seconds = parse_retry_after(lowered.get("retry-after"), now)
    if seconds is not None:
        return seconds
    limit = rate_limit_from_headers(lowered, now)
    if limit is not None and limit.reset_at is not None:
        return max(0.0, (limit.reset_at - now).total_seconds())
    return None
