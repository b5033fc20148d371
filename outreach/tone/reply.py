"""A reply under check: its context, its findings, its length and its prepared views."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import regex

from monitoring.platforms.text import grapheme_count, text_length
from outreach.tone import language
from outreach.tone.lexicon import URL_FOR_LENGTH
from outreach.tone.normalise import View, leet, normalise, prepare
from outreach.tone.terms import find_terms

PLAYBOOKS = ("competitor", "own_brand")
MAX_CHECKED = 20_000  # characters analysed; longer texts are blocked as too long anyway
LENGTH_UNITS = ("characters", "graphemes", "weighted")
X_URL_WEIGHT = 23  # X wraps every URL in a t.co link of this weight
DEFAULT_DISCLOSURE = "I work at {brand}"
# Quotation marks, opening -> closing, for text quoted from the post.
QUOTES = regex.compile(
    r'"([^"\n]{2,200})"|\u201c([^\u201d\n]{2,200})\u201d|\u00ab\s?([^\u00bb\n]{2,200}?)\s?\u00bb|'
    r"\u201e([^\u201c\u201d\n]{2,200})[\u201c\u201d]|\u2018([^\u2019\n]{2,200})\u2019|"
    r"(?<![\w])'([^'\n]{2,200}?)'(?![\w])"
)


@dataclass(frozen=True)
class ReplyContext:
    """Everything the guard needs to know besides the reply text."""

    playbook: str  # "competitor" | "own_brand"
    own_terms: Sequence[str]
    competitor_terms: Sequence[str]
    post_text: str = ""
    max_length: int = 500  # 0 when the platform does not allow replies
    length_unit: str = "characters"  # "characters" | "graphemes" | "weighted"
    first_reply: bool = True
    templates: Sequence[str] = ()
    own_hashtags: Sequence[str] = ()
    # Sent from a staff member's personal account: the reply must say who they work for.
    personal_account: bool = False
    # The playbook's wording of that disclosure; {brand} stands for any of our terms.
    disclosure: str = DEFAULT_DISCLOSURE

    def __post_init__(self) -> None:
        if self.playbook not in PLAYBOOKS:
            raise ValueError(f"unknown playbook {self.playbook!r}; expected one of {PLAYBOOKS}")
        if self.length_unit not in LENGTH_UNITS:
            raise ValueError(
                f"unknown length unit {self.length_unit!r}; expected one of {LENGTH_UNITS}"
            )
        # A bare string would be iterated letter by letter: refuse it loudly.
        for name in ("own_terms", "competitor_terms", "templates", "own_hashtags"):
            if isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a sequence of strings, not a string")


@dataclass(frozen=True)
class Finding:
    """One thing the guard noticed; ``start:end`` is a span of the original text.

    ``source`` is "pattern" (a rule's finder) or "model" (the semantic layer, with its
    ``confidence`` and, as ``evidence``, the closest labelled reply of that code)."""

    code: str
    blocking: bool
    message: str
    start: int
    end: int
    source: str = "pattern"
    confidence: float | None = None
    evidence: str = ""


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that stop the reply from being approved."""
    return [f for f in findings if f.blocking]


def measure_length(text: str, unit: str) -> int:
    """Length of ``text`` in ``unit``: code points, grapheme clusters or X's weighted count."""
    if unit == "characters":
        # Code points of what is sent, as typed: a decomposed accent counts.
        return len(text)
    if unit == "graphemes":
        return grapheme_count(text)
    if unit == "weighted":
        # monitoring's text_length weighs the text; X also turns bare domains into
        # t.co links, which text_length's url_length does not see, so links are
        # cut out here and counted at their fixed weight.
        pieces = URL_FOR_LENGTH.split(unicodedata.normalize("NFC", text))
        return sum(text_length(p, "weighted") for p in pieces) + X_URL_WEIGHT * (len(pieces) - 1)
    raise ValueError(f"unknown length unit {unit!r}; expected one of {LENGTH_UNITS}")


@dataclass(frozen=True)
class Hit:
    """Where a finder found its code (a span of the original text) and what it saw."""

    start: int
    end: int
    detail: str = ""


class Reply:
    """A reply text prepared once for every rule: its views, computed when first asked for."""

    def __init__(self, text: str, context: ReplyContext) -> None:
        self.text = text
        self.context = context
        # Matching cost grows with the text; anything this long is far over every
        # platform's limit, so the head is checked and the whole blocked.
        self.limit = max(MAX_CHECKED, 2 * context.max_length)
        self.head = text[: self.limit]

    @functools.cached_property
    def view(self) -> View:
        """The head of the text, normalised for the lexicon, with its position map."""
        return prepare(self.head)

    @property
    def norm(self) -> str:
        """The normalised text."""
        return self.view.text

    @functools.cached_property
    def leet(self) -> str:
        """The normalised text with leetspeak read as letters, for brand terms."""
        return leet(self.norm)

    @functools.cached_property
    def blank(self) -> bool:
        """Nothing visible to send."""
        return not self.norm.strip()

    @functools.cached_property
    def post(self) -> str:
        """The person's post, normalised ("" when there is none)."""
        post_text = self.context.post_text
        return normalise(post_text[:MAX_CHECKED]).text if post_text else ""

    @functools.cached_property
    def language(self) -> str:
        """The reply's language (``language.detect``)."""
        return language.detect(self.head)

    @functools.cached_property
    def covered(self) -> bool:
        """Whether the lexicon reads the reply's language."""
        return language.covered(self.language)

    @functools.cached_property
    def quoted(self) -> list[tuple[int, int]]:
        """Spans of the original text in quotation marks whose words all occur in the post.

        Quoting the person back ("'your call is important to us'") is acknowledgement:
        what is inside is their text, not ours.
        """
        if not self.post:
            return []
        post_words = set(regex.findall(r"\w+", self.post))
        spans = []
        for m in QUOTES.finditer(self.head):
            inner = next(g for g in m.groups() if g is not None)
            words = regex.findall(r"\w+", normalise(inner).text)
            if words and all(w in post_words for w in words):
                spans.append((m.start(), m.end()))
        return spans

    def in_quote(self, start: int, end: int) -> bool:
        """Whether the span ``start:end`` of the original text lies inside a quotation."""
        return any(q_start <= start and end <= q_end for q_start, q_end in self.quoted)

    def terms(self, terms: Sequence[str]) -> list[tuple[int, int, str]]:
        """Spans of the view where any of ``terms`` occurs."""
        return find_terms(self.view, self.leet, terms, self.text)

    def at(self, start: int, end: int, detail: str = "") -> Hit:
        """A hit for a span of the view, quoting the original text unless told otherwise."""
        o_start, o_end = self.view.span(start, end)
        return Hit(o_start, o_end, detail or f"{self.text[o_start:o_end][:60]!r}")

    def matches(
        self, pattern: regex.Pattern[str], text: str | None = None
    ) -> Iterable[regex.Match[str]]:
        """Non-empty matches of ``pattern`` in ``text`` (the normalised text by default)."""
        for m in pattern.finditer(self.norm if text is None else text):
            if m.end() > m.start():
                yield m
