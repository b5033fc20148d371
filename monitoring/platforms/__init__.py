"""Platform adapters: the only code in nojackal that talks to a network.

``get_platform(name, ...)`` builds the adapter for a platform name stored on a
Source or Account. Adapters are imported lazily so that a missing optional
client library only matters for the platform that needs it.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from .base import (
    Limits,
    NotificationKind,
    NotSupported,
    PermanentError,
    PersonData,
    Platform,
    PlatformError,
    PostData,
    SearchQuery,
    Sent,
    TransientError,
    UnknownOutcome,
)
from .options import OptionsError

# name -> "module:Class"; the order is the order shown in the admin.
REGISTRY: dict[str, tuple[str, str]] = {
    "sandbox": ("Sandbox (simulated network)", "monitoring.platforms.sandbox:SandboxPlatform"),
    "mastodon": ("Mastodon", "monitoring.platforms.mastodon:MastodonPlatform"),
    "bluesky": ("Bluesky", "monitoring.platforms.bluesky:BlueskyPlatform"),
    "reddit": ("Reddit", "monitoring.platforms.reddit:RedditPlatform"),
    "x": ("X", "monitoring.platforms.x:XPlatform"),
    "hackernews": ("Hacker News", "monitoring.platforms.hackernews:HackerNewsPlatform"),
    "rss": ("RSS/Atom feed", "monitoring.platforms.rss:RssPlatform"),
}

PLATFORM_CHOICES = [(name, label) for name, (label, _) in REGISTRY.items()]


def platform_class(name: str) -> type[Platform]:
    """The adapter class registered under ``name``; PermanentError for an unknown name."""
    try:
        _, path = REGISTRY[name]
    except KeyError:
        raise PermanentError(f"unknown platform {name!r}") from None
    module_name, _, class_name = path.partition(":")
    cls: type[Platform] = getattr(importlib.import_module(module_name), class_name)
    return cls


def check_options(name: str, options: Mapping[str, Any]) -> None:
    """OptionsError (a PermanentError) when ``options`` would not let a ``name`` source poll."""
    platform_class(name).check_options(options)


def check_account_options(name: str, options: Mapping[str, Any]) -> None:
    """OptionsError when an account's ``options`` do not parse or name a URL the policy refuses."""
    platform_class(name).check_urls(options)


def get_platform(
    name: str,
    *,
    credentials: Mapping[str, str] | None = None,
    options: Mapping[str, Any] | None = None,
) -> Platform:
    """Build the adapter registered under ``name``; PermanentError for an unknown name."""
    return platform_class(name)(credentials=credentials, options=options)


__all__ = [
    "PLATFORM_CHOICES",
    "REGISTRY",
    "Limits",
    "NotSupported",
    "NotificationKind",
    "OptionsError",
    "PermanentError",
    "PersonData",
    "Platform",
    "PlatformError",
    "PostData",
    "SearchQuery",
    "Sent",
    "TransientError",
    "UnknownOutcome",
    "check_account_options",
    "check_options",
    "get_platform",
    "platform_class",
]
