"""The errors every adapter raises on purpose, and how the callers tell them apart.

A module of their own so that the HTTP plumbing (``outbound``, ``options``) and the
adapter interface (``base``) can all raise them without importing each other.
"""

from __future__ import annotations


class PlatformError(Exception):
    """Base class for every error an adapter raises on purpose.

    ``status`` is the HTTP status the platform answered with, when there was one.
    """

    status: int | None = None
    # The platform's answer as received, cut short, when it could not be read: shown
    # (escaped) in the admin so a person can see what the platform sent.
    raw: str = ""


class TransientError(PlatformError):
    """The call may succeed later (network fault, 5xx, 429): back off and retry.

    ``retry_after`` is the number of seconds the platform asked us to wait
    (``Retry-After`` or a rate-limit reset), when it said so.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnknownOutcome(TransientError):
    """A write may have reached the platform, but we do not know whether it acted.

    Raised for a timeout or a reset after the request was sent, a 2xx whose body
    cannot be read, and a 5xx to a call that is not idempotent. It is transient
    (the caller retries), but a retry of a post must first ask the platform
    whether the post exists (``find_reply``): only an answer the platform gave
    before acting (a 4xx) may fail the row. ``http.py`` decides which errors are
    unknown outcomes, once for every adapter.
    """


class PermanentError(PlatformError):
    """Retrying will not help (bad credentials, suspended app, bad source config).

    The message is shown to the team in the admin, so it should say what the
    platform said.
    """


class OptionsError(PermanentError):
    """An option that does not parse or check: a configuration fault, shown as a form error."""


class NotSupported(PermanentError):
    """The platform itself does not offer this operation (e.g. follow on Reddit)."""


__all__ = [
    "NotSupported",
    "OptionsError",
    "PermanentError",
    "PlatformError",
    "TransientError",
    "UnknownOutcome",
]
