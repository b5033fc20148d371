"""Text and header normalisation shared by the platform adapters.

Pure functions, no network and no Django: turning a platform's HTML into plain
text (safely: nothing is ever rendered or executed), measuring a reply the way
each platform counts it, and reading rate-limit and ``Retry-After`` headers.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import html
import math
import re
import unicodedata
from collections.abc import Mapping
from html.parser import HTMLParser

import regex

from .base import RateLimit

# Elements whose content is never text a person wrote (or is active content).
_DROP_CONTENT = frozenset(
    {
        "script",
        "style",
        "template",
        "noscript",
        "head",
        "title",
        "iframe",
        "object",
        "svg",
        "math",
    }
)
# Elements that end a line of text.
_BLOCK = frozenset(
    {
        "p",
        "div",
        "li",
        "ul",
        "ol",
        "blockquote",
        "pre",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "table",
        "section",
        "article",
        "header",
        "footer",
        "dd",
        "dt",
        "figure",
        "figcaption",
        "hr",
    }
)
_VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "wbr"})

# C0/C1 control characters except tab and newline, plus bidi overrides that can
# disguise text in the admin (a "Trojan Source" style trick).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")


class _TextExtractor(HTMLParser):
    """Collects the visible text of an HTML fragment, keeping mentions and links as text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._drop_depth = 0
        # Stack of (href, index into parts where the anchor's text starts).
        self._anchors: list[tuple[str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP_CONTENT:
            if tag not in _VOID:
                self._drop_depth += 1
            return
        if self._drop_depth:
            return
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK:
            self.parts.append("\n\n" if tag == "p" else "\n")
        elif tag == "a":
            href = next((v or "" for k, v in attrs if k == "href"), "")
            self._anchors.append((href, len(self.parts)))
        elif tag == "img":
            # An image's alt text (custom emoji shortcodes, pictures) is what a reader sees.
            alt = next((v or "" for k, v in attrs if k == "alt"), "")
            if alt:
                self.parts.append(alt)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_CONTENT:
            self._drop_depth = max(0, self._drop_depth - 1)
            return
        if self._drop_depth:
            return
        if tag in _BLOCK:
            self.parts.append("\n\n" if tag == "p" else "\n")
        elif tag == "a" and self._anchors:
            href, start = self._anchors.pop()
            shown = "".join(self.parts[start:]).strip()
            if _link_needs_href(shown, href):
                # Keep the destination visible: the tone guard must see links
                # even when the anchor text is "here".
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if not self._drop_depth:
            self.parts.append(data)


def _link_needs_href(shown: str, href: str) -> bool:
    if not href.lower().startswith(("http://", "https://")):
        return False  # javascript:, mailto:, relative: nothing useful to show
    if not shown:
        return True
    if shown.startswith(("@", "#")):
        return False  # a mention or hashtag: its text is the handle or tag
    bare = re.sub(r"^https?://", "", href.rstrip("/"), flags=re.IGNORECASE)
    shown_bare = re.sub(r"^https?://", "", shown.rstrip("/…"), flags=re.IGNORECASE)
    # Mastodon shortens long link text with an ellipsis; a prefix still counts as the URL.
    return not (shown_bare and bare.startswith(shown_bare))


def clean_text(text: str) -> str:
    """Normalise plain text: NFC, no control characters, tidy spaces and blank lines."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub("", text.replace("\r\n", "\n"))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(html_text: str | None) -> str:
    """Plain text of an HTML fragment: tags stripped, entities decoded, links and mentions kept."""
    if not html_text:
        return ""
    parser = _TextExtractor()
    parser.feed(str(html_text))
    parser.close()
    return clean_text("".join(parser.parts))


def unescape_text(text: str | None) -> str:
    """Plain text from a platform that sends text with HTML entities (X: ``&amp;``)."""
    return clean_text(html.unescape(text or ""))


# --- measuring a reply the way each platform counts it -----------------------------------

_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
# X's twitter-text v3 config: these code point ranges weigh 1, everything else 2.
_X_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_EMOJI = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}")


def grapheme_count(text: str) -> int:
    """Number of user-perceived characters (extended grapheme clusters)."""
    return len(regex.findall(r"\X", text))


def _x_weight(grapheme: str) -> int:
    if _EMOJI.search(grapheme):
        return 2  # any emoji sequence, even a long ZWJ family, weighs 2 on X
    weight = 0
    for ch in grapheme:
        cp = ord(ch)
        weight += 1 if any(lo <= cp <= hi for lo, hi in _X_LIGHT_RANGES) else 2
    return weight


def text_length(text: str, unit: str = "characters", *, url_length: int | None = None) -> int:
    """Length of ``text`` in a platform's ``Limits.length_unit``.

    "characters" counts code points, "graphemes" user-perceived characters,
    "weighted" follows X (CJK and most symbols weigh 2, emoji 2). Each URL
    counts ``url_length`` when given (Mastodon and X count every link as 23).
    """
    text = unicodedata.normalize("NFC", text)
    urls = 0
    if url_length is not None:
        text, urls = _URL.subn("", text)
    if unit == "characters":
        size = len(text)
    elif unit == "graphemes":
        size = grapheme_count(text)
    elif unit == "weighted":
        size = sum(_x_weight(g) for g in regex.findall(r"\X", text))
    else:
        raise ValueError(f"unknown length unit {unit!r}")
    return size + urls * (url_length or 0)


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
