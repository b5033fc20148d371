"""The normalised view of a reply: what the lexicon is matched against, with a map back.

Matching runs on a copy of the text that is NFKC-normalised, casefolded, without
accents, with look-alike letters mapped to Latin, without zero-width and other
format characters, with spaced-out letters joined and "dot com" spelled out
rewritten. Every character of the copy remembers the index of the character of
the original text it came from, so that every finding's span points into the
original.

The look-alike table comes from Unicode's confusables data (UTS #39), as shipped
by the ``confusable-homoglyphs`` package, plus ``SUPPLEMENT``: the few look-alikes
that data does not tie to a Latin letter.
"""

# Look-alike letters are the subject of the comments below.
# ruff: noqa: RUF003

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from outreach.tone.lexicon import TLDS

# Look-alikes UTS #39 does not map to ASCII, or maps to something other than what a
# reader sees. Each value is what the key reads as.
SUPPLEMENT: dict[str, str] = {
    # Latin small capitals, a favourite of filter dodgers, and the Cyrillic and Greek
    # letters that look like them: UTS #39 ties these to each other, not to Latin.
    "\u1d00": "a", "\u0299": "b", "\u1d05": "d", "\u1d07": "e", "\ua730": "f",
    "\u0262": "g", "\u029c": "h", "\u1d0a": "j", "\u1d0b": "k", "\u029f": "l",
    "\u1d0d": "m", "\u0274": "n", "\u1d18": "p", "\u0280": "r", "\u1d1b": "t",
    "\u0432": "b", "\u043a": "k", "\u043c": "m", "\u043d": "h", "\u0442": "t",
    "\u03ba": "k", "\u03c4": "t",
    # Greek and Armenian letters a reader takes for Latin ones, with no ASCII prototype.
    "\u03b2": "b", "\u03b5": "e", "\u03c7": "x", "\u03c9": "w", "\u0548": "N",
    "\u0500": "D",  # Cyrillic Komi De
    # Punctuation: UTS #39 maps curly double quotes to two apostrophes and the em
    # dash to a katakana mark; the lexicon expects one '"' and a hyphen.
    "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u3002": ".",
}  # fmt: skip


def _bare(text: str) -> str:
    """``text`` without combining marks ("o̸" -> "o")."""
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


@functools.cache
def lookalikes() -> dict[str, str]:
    """Non-ASCII character -> the ASCII it reads as; built once from UTS #39 and SUPPLEMENT."""
    # Imported here: the package parses its data file on import (a quarter of a
    # second), which only the first check should pay for.
    from confusable_homoglyphs.confusables import confusables_data

    def glyph(text: str) -> str:
        # The package keeps the bidi marks around right-to-left characters.
        return text.strip("\u200e\u200f")

    # confusables_data links each character with its UTS #39 prototype, both ways.
    # A prototype with a combining mark ("o̸" for "ø") reads as its base letter.
    neighbours = {glyph(k): [_bare(glyph(h["c"])) for h in v] for k, v in confusables_data.items()}
    table: dict[str, str] = {}
    for char, linked in neighbours.items():
        # Digits keep their value ("٥" looks like "o" but the lexicon reads it as 5)
        # and currency signs their meaning ("¥" looks like "Y"): both left alone.
        if len(char) != 1 or char.isascii() or unicodedata.category(char) in ("Nd", "Sc"):
            continue
        # A character may read as several ASCII ones ("Ι" as "l" or "I"): the ASCII
        # characters linked to it or to its prototype.
        readings = [g for g in linked if g and g.isascii() and g.isprintable()]
        for g in list(readings):
            readings += [h for h in neighbours.get(g, []) if h and h.isascii() and h.isprintable()]
        if not readings:
            continue
        # Prefer a letter of the same case ("Ι" is "I", "ӏ" is "l"), then any letter.
        letters = [g for g in readings if len(g) == 1 and g.isalpha()]
        same_case = [g for g in letters if g.isupper() == char.isupper()]
        table[char] = (same_case or letters or readings)[0]
    table.update(SUPPLEMENT)
    return table


@dataclass
class View:
    """A transformed copy of the text and, per character, its index in the original."""

    text: str
    pos: list[int]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of this view back to a span of the original text."""
        if not self.pos:
            return (0, 0)
        start = min(max(start, 0), len(self.pos) - 1)
        end = min(max(end, start + 1), len(self.pos))
        return (self.pos[start], self.pos[end - 1] + 1)


def normalise(text: str) -> View:
    """``text`` NFKC-normalised, casefolded, without accents, look-alikes mapped to Latin."""
    table = lookalikes()
    out: list[str] = []
    pos: list[int] = []
    for i, ch in enumerate(text):
        # Format characters (zero-width space/joiner, BOM, soft hyphen, bidi
        # overrides) are invisible: filters must not be split by them.
        if unicodedata.category(ch) == "Cf":
            continue
        for c in unicodedata.normalize("NFKC", ch):
            # Capitals are mapped before casefolding (upper case Greek Nu looks like N,
            # lower case nu like v), everything after it and after accents are
            # stripped ("ё" -> "е" -> "e"; "ß" is "ss", not the Greek beta it resembles).
            for folded in (table.get(c, c) if c.isupper() else c).casefold():
                for d in unicodedata.normalize("NFD", folded):
                    if unicodedata.combining(d):
                        continue
                    # Casefolded again: a caseless look-alike ("ꓠ", Lisu) reads as
                    # a capital.
                    for m in table[d].casefold() if d in table else d:
                        out.append(" " if m.isspace() else m)
                        pos.append(i)
    return View("".join(out), pos)


# What replaces one match: the new characters and, for each, its original index.
_Splice = Callable[[re.Match[str], list[int]], tuple[str, list[int]]]


def _splice(view: View, pattern: re.Pattern[str], splice: _Splice) -> View:
    """The view with each match of ``pattern`` replaced as ``splice`` says."""
    out: list[str] = []
    pos: list[int] = []
    last = 0
    for m in pattern.finditer(view.text):
        out.append(view.text[last : m.start()])
        pos.extend(view.pos[last : m.start()])
        new, new_pos = splice(m, view.pos[m.start() : m.end()])
        out.append(new)
        pos.extend(new_pos)
        last = m.end()
    out.append(view.text[last:])
    pos.extend(view.pos[last:])
    return View("".join(out), pos)


def rewrite(view: View, pattern: re.Pattern[str], replace: str | Callable[..., str]) -> View:
    """Apply a regex substitution to a view, keeping the position map right.

    ``replace`` is a string or a function of the match returning one; the new
    characters all point at the first original character of the match.
    """

    def splice(m: re.Match[str], old_pos: list[int]) -> tuple[str, list[int]]:
        new = replace(m) if callable(replace) else str(replace)
        if new == m.group(0):
            return new, old_pos
        # Every new character points at the first original character of the match.
        anchor = view.pos[m.start()] if m.start() < len(view.pos) else 0
        return new, [anchor] * len(new)

    return _splice(view, pattern, splice)


# Spaced-out letters: three or more single letters/digits split by one to three
# separators ("n o r t h w i n d", "n.o.r.t.h", "f-r-e-e").
_SPACED = re.compile(r"(?<![\w@$])[\w@$](?:[ .\-_*\u00b7/|+~,:]{1,3}[\w@$](?![\w])){2,}")


def collapse_spaced(view: View) -> View:
    """The view with spaced-out letters joined ("f r e e" -> "free")."""

    def splice(m: re.Match[str], old_pos: list[int]) -> tuple[str, list[int]]:
        seps = re.findall(r"[^\w@$]+", m.group(0))
        # "n o r t h w i n d . c o m": a dot among spaces is a real dot.
        keep_dots = any("." in s for s in seps) and not all(s.strip() == "." for s in seps)
        kept = [
            k
            for k, c in enumerate(m.group(0))
            if re.match(r"[\w@$]", c) or (keep_dots and c == ".")
        ]
        return "".join(m.group(0)[k] for k in kept), [old_pos[k] for k in kept]

    return _splice(view, _SPACED, splice)


# "northwind dot com", "northwind (dot) com", "northwind[.]com", "northwind d0t c0m"
_SPELLED_DOT = re.compile(
    r"(?<=[a-z0-9])(?:\s*[\(\[\{<]\s*(?:dot|d0t|\.)\s*[\)\]\}>]\s*|\s+(?:dot|d0t)\s+|\s+\.\s+)"
    r"(?=(?:" + TLDS + r"|c0m)\b)"
    # other languages' words for the dot ("punto", "point", "Punkt", "ponto"), bracketed or
    # before a TLD that is no ordinary word of theirs ("punto de vista" stays prose)
    r"|(?<=[a-z0-9])(?:\s*[\(\[\{<]\s*(?:punto|point|punkt|ponto|pto)\s*[\)\]\}>]\s*"
    r"(?=[a-z]{2,6}\b)|\s+(?:punto|point|punkt|ponto)\s+(?=(?:com|net|org|io|fr|pt|br|eu|uk|"
    r"co|info|app|ch|mx|ar|gg|ly|dev|shop|store|online|site|ws)\b))"
    # ideographic and half-width full stops, bullets and middle dots standing for a dot
    r"|(?<=[a-z0-9])\s*[\u3002\uff61\u2022\u00b7]\s*(?=(?:" + TLDS + r")\b)"
)


def prepare(text: str) -> View:
    """The view the lexicon is matched against: normalised, spacing undone, domains spelled."""
    view = normalise(text)
    view = collapse_spaced(view)
    return rewrite(view, _SPELLED_DOT, ".")


# Leetspeak, for matching brand terms only: both text and term go through it,
# so "l" and "1" (and "i") become one letter and "Telvana" still matches itself.
_LEET = str.maketrans({"0": "o", "1": "i", "l": "i", "!": "i", "3": "e", "4": "a", "@": "a",
                       "5": "s", "$": "s", "7": "t", "8": "b", "9": "g", "|": "i"})  # fmt: skip


def leet(text: str) -> str:
    """``text`` with leetspeak digits and symbols read as letters."""
    return text.translate(_LEET)
