"""Text normalisation shared by the platform adapters.

Pure functions, no network and no Django: turning a platform's HTML into plain
text (safely: nothing is ever rendered or executed) and measuring a reply the
way each platform counts it (``text_length``, ``grapheme_count``: the one
implementation of X's weighted length). Rate-limit headers live in ``http``.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from html.parser import HTMLParser
from typing import Any

import orjson
import regex

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
# A lone UTF-16 surrogate (``"\\ud800"`` in a JSON answer) decodes to a str that
# cannot be encoded as UTF-8, so the database refuses it; NUL is refused by
# PostgreSQL's text and jsonb alike.
_UNSTORABLE = re.compile("[\ud800-\udfff\x00]")
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


def storable(value: Any) -> Any:
    """``value`` (text, or lists and dicts of it) with lone surrogates and NUL replaced."""
    if isinstance(value, str):
        return value if _is_storable(value) else _UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, dict | list):
        return storable_json(value)[0]
    if isinstance(value, tuple):
        return _walk(value)
    return value


# What orjson writes itself beyond plain JSON goes to its default (it has none), failing.
_ORJSON_PLAIN = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def storable_json(value: dict[Any, Any] | list[Any]) -> tuple[Any, str | None]:
    """``storable(value)`` and its JSON text, the form the database stores (None when
    ``value`` is not plain JSON: a datetime...).

    A clean payload takes one dump at C speed (orjson's, several times json's) and one
    check, instead of a walk through every string (most of mapping a Mastodon status,
    which we keep whole), and the dump is its JSON text. orjson refuses a lone
    surrogate, and json's dump keeps it as it is; both write NUL as the escape
    ``\\u0000``, and a false alarm (that escape typed as text) only takes the walk.
    Where the two differ, orjson's text is the storable one (NaN written as null).
    """
    try:
        # A lone surrogate, or a value json would not write either: the slow way.
        dumped = orjson.dumps(value, option=_ORJSON_PLAIN).decode()
    except TypeError:
        pass
    else:
        if "\\u0000" not in dumped:
            return value, dumped
    try:
        dumped = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return _walk(value), None
    if "\\u0000" not in dumped and _is_storable(dumped):
        return value, dumped
    made = _walk(value)
    return made, json.dumps(made, ensure_ascii=False)


def _is_storable(text: str) -> bool:
    """True when ``text`` holds no NUL and no lone surrogate: encoding it is the check, at
    C speed (a search for either took half as long as dumping a whole status)."""
    if "\x00" in text:
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False  # only a lone surrogate cannot be encoded as UTF-8
    return True


def _walk(value: dict[Any, Any] | list[Any] | tuple[Any, ...]) -> Any:
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    return [storable(v) for v in value]


def clean_text(text: str) -> str:
    """Normalise plain text: NFC, no control characters, tidy spaces and blank lines."""
    if not text:
        return ""
    text = _CONTROL.sub("", text.replace("\r\n", "\n"))
    text = unicodedata.normalize("NFC", storable(text))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(html_text: str | None) -> str:
    """Plain text of an HTML fragment: tags stripped, entities decoded, links and mentions kept."""
    if not html_text:
        return ""
    html_text = str(html_text)
    parser = _TextExtractor()
    if not _feed_plain_markup(parser, html_text):
        parser.feed(html_text)
        parser.close()
    return clean_text("".join(parser.parts))


# A tag of the plain markup Mastodon sends: a lowercase name, attributes all written
# name="value" (no "<" or ">" inside), ASCII spaces; an end tag bare.
_PLAIN_TAG = re.compile(
    r"<(?:/([a-z][a-z0-9]*)|([a-z][a-z0-9]*)((?:[ \t\n\r\f]+[a-z][a-z0-9-]*=\"[^\"<>]*\")*)"
    r"[ \t\n\r\f]*(/?))>"
)
_PLAIN_ATTR = re.compile(r"([a-z][a-z0-9-]*)=\"([^\"<>]*)\"")


def _feed_plain_markup(parser: _TextExtractor, html_text: str) -> bool:
    """Give ``parser`` the events ``HTMLParser`` would find in ``html_text``, when it is
    plain markup (what a Mastodon instance's sanitiser writes); False, with nothing fed,
    when it is anything else.

    Plain: every "<" opens a tag ``_PLAIN_TAG`` matches, and no element whose content is
    dropped (scripts, styles: ``HTMLParser`` reads those differently). On such markup
    ``HTMLParser``'s reading is simple: text between tags has its character references
    decoded (``html.unescape``, as ``convert_charrefs`` does), attribute values too, and
    ``<x/>`` is a start-end tag. Most of a status's mapping was ``HTMLParser``'s own
    scanning, character by character in Python (issue #15).
    """
    tags = list(_PLAIN_TAG.finditer(html_text))
    if len(tags) != html_text.count("<"):
        return False
    for tag in tags:
        name = tag[1] or tag[2]
        if name in _DROP_CONTENT:
            return False
    unescape = html.unescape
    position = 0
    for tag in tags:
        start = tag.start()
        if start > position:
            parser.handle_data(unescape(html_text[position:start]))
        position = tag.end()
        if tag[1]:
            parser.handle_endtag(tag[1])
            continue
        attrs: list[tuple[str, str | None]] = [
            (key, unescape(value) if "&" in value else value)
            for key, value in _PLAIN_ATTR.findall(tag[3])
        ]
        if tag[4]:
            parser.handle_startendtag(tag[2], attrs)
        else:
            parser.handle_starttag(tag[2], attrs)
    if position < len(html_text):
        parser.handle_data(unescape(html_text[position:]))
    return True


def unescape_text(text: str | None) -> str:
    """Plain text from a platform that sends text with HTML entities (X: ``&amp;``)."""
    return clean_text(html.unescape(text or ""))


# --- measuring a reply the way each platform counts it -----------------------------------

_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
# X's twitter-text v3 config: these code point ranges weigh 1, everything else 2.
_X_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_EMOJI = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}")


def with_facet_links(record_text: str, facets: Any) -> str:
    """Replace shortened link text with the link's full URL (facets index UTF-8 bytes)."""
    if not facets:
        return record_text
    data = record_text.encode("utf-8")
    spans: list[tuple[int, int, str]] = []
    for facet in facets:
        index = facet.get("index") or {}
        start, end = index.get("byteStart"), index.get("byteEnd")
        if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end:
            continue
        for feature in facet.get("features") or []:
            if str(feature.get("$type", "")).endswith("#link") and feature.get("uri"):
                spans.append((start, end, str(feature["uri"])))
    for start, end, uri in sorted(spans, reverse=True):
        shown = data[start:end].decode("utf-8", "replace")
        if uri.rstrip("/").endswith(shown.rstrip("/.…")) or shown == uri:
            continue
        if not uri.startswith(("http://", "https://")):
            continue
        data = data[:start] + uri.encode("utf-8") + data[end:]
    return data.decode("utf-8", "replace")


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
