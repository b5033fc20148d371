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


class TransientError(PlatformError):
    """The call may succeed later (network fault, 5xx, 429): back off and retry.

    ``retry_after`` is the number of seconds the platform asked us to wait
    (``Retry-After`` or a rate-limit reset), when it said so.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(PlatformError):
    """Retrying will not help (bad credentials, suspended app, bad source config).

    The message is shown to the team in the admin, so it should say what the
    platform said.
    """


class OptionsError(PermanentError):
    """An option that does not parse or check: a configuration fault, shown as a form error."""


class NotSupported(PermanentError):
    """The platform itself does not offer this operation (e.g. follow on Reddit)."""


__all__ = ["NotSupported", "OptionsError", "PermanentError", "PlatformError", "TransientError"]
