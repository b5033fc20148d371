"""How what came from a platform is shown in the admin: text escaped, links only if web.

Post text, names and URLs are written by strangers. Text is escaped and its
bidirectional controls shown as markers (U+202E makes "gpj.exe" look like
"exe.jpg"); a URL becomes a link only when it is http(s), so a hostile
``javascript:`` or ``data:`` URL is shown as text, never followed. Outreach's
admin uses the same two functions (monitoring never imports outreach).
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString

_BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Browsers drop ASCII tab/newline/CR anywhere in a URL and leading C0 controls
# and spaces, so "java\tscript:" and " javascript:" run script too; the scheme
# is judged after that same clean-up.
_URL_IGNORED = re.compile(r"[\t\n\r]")
_WEB_SCHEME = re.compile(r"[\x00-\x20]*https?://", re.IGNORECASE)


def marked(text: str | None) -> str:
    """``text`` with its bidi controls replaced by visible markers (still to be escaped)."""
    return _BIDI_CONTROLS.sub(lambda m: f"[U+{ord(m.group()):04X}]", text or "")


def shown(text: str | None, limit: int | None = None) -> SafeString:
    """User-written text made safe to show: HTML-escaped, bidi controls made visible, isolated."""
    text = text or ""
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return format_html('<bdi class="nj-text">{}</bdi>', marked(text))


class MarkedTitle:
    """An object as a change page's title and breadcrumbs show it: its name marked, its pk kept."""

    def __init__(self, obj: Any) -> None:
        self.pk = obj.pk
        self._text = marked(str(obj))

    def __str__(self) -> str:
        return self._text


def mark_title(context: dict[str, Any], obj: Any) -> None:
    """Show ``obj``'s name with bidi controls marked in a change page's title and breadcrumbs."""
    if obj is not None:
        context["subtitle"] = marked(str(obj))
        context["original"] = MarkedTitle(obj)


def is_web_url(url: str | None) -> bool:
    """True for an absolute http(s) URL, judged the way a browser reads the scheme."""
    return bool(_WEB_SCHEME.match(_URL_IGNORED.sub("", url or "")))


def platform_link(url: str | None, label: str | None = None) -> SafeString:
    """A platform's URL as a link (new tab, no referrer) if http(s); as plain text otherwise."""
    if not url:
        return SafeString("")
    if not is_web_url(url):
        return format_html(
            '<span class="nj-unsafe-url" title="not a web link">{}</span>', shown(url)
        )
    return format_html(
        '<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>',
        url.strip(),
        label if label is not None else shown(url),
    )
