"""Brand matching: which brands a post mentions (pure: text in, matches out, no Django).

Every brand's names, aliases, product names and handles are compiled ONCE into a single
regular expression built from a character trie (shared prefixes are factored out, so the
engine walks one branch instead of trying every term). One ``finditer`` over the normalised
text finds the mentions of all brands at once.

Matching rules (decided here, tested in tests/monitoring/test_detection.py):

- Case- and accent-insensitive: text and terms are casefolded and NFKD-decomposed with
  combining marks dropped ("CAFÉ" == "cafe"); compatibility forms fold too (full-width
  letters, ligatures). Zero-width characters and soft hyphens are removed, so "Ac\u200bme"
  still matches.
- Word boundaries: a term must not touch a letter, digit or underscore on either side.
  "Acme" does not match "acmeist", "acme2" or "@acme_help" (a different handle), but does
  match "Acme's", "#acme", "@acme", "acme.com", "me@acme.com", "(acme)", "acme!!" and a
  name between emoji or inside a URL path: a link to the brand's site is a mention of it.
- A leading "@" or "#" is part of the reported span when present. Handles match with or
  without their "@".
- Multi-word terms accept any run of spaces, hyphens or underscores between their words,
  or none at all, so "Telvana Mobile" matches "telvana-mobile" and "#TelvanaMobile".
- At one position the longest term wins ("Acme Bank" over "Acme"); a term listed by several
  brands is reported once per brand.
- Exclusions are per brand: a match of brand B is dropped when it lies inside an occurrence
  of one of B's exclusion phrases ("telvana street" hides the "telvana" inside it), and a
  bare exclusion word ("zephyr") never fires for that brand. Other brands are unaffected.
- Spans (``start``, ``end``) index the ORIGINAL text, so ``text[start:end]`` is what the
  person wrote, accents and zero-width characters included.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

BrandId = int | str
TermKind = Literal["name", "alias", "product", "handle"]

# Characters removed before matching: zero-width space/joiners, word joiner, BOM, soft hyphen.
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e")
# What may sit between the words of a multi-word term (see module docstring).
_SEPARATOR_CHARS = " -_"
_SEPARATOR_PATTERN = r"[\s\-_]*"
_KEY_STRIP = re.compile(r"[\s\-_]+")


@dataclass(frozen=True)
class BrandTerms:
    """Everything that names one brand, plus the phrases that must not count as it."""

    brand_id: BrandId
    names: Sequence[str] = ()
    aliases: Sequence[str] = ()
    products: Sequence[str] = ()
    handles: Sequence[str] = ()  # "@handle" strings; the "@" is optional in posts
    exclusions: Sequence[str] = ()


@dataclass(frozen=True)
class BrandMatch:
    """One mention of one brand: the configured term and its span in the original text."""

    brand_id: BrandId
    term: str
    start: int
    end: int
    kind: TermKind = "name"


@dataclass(frozen=True)
class _TermEntry:
    brand_id: BrandId
    term: str
    kind: TermKind


@dataclass
class _Normalised:
    text: str
    # starts[j] / ends[j]: the original span that produced normalised character j.
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    identity: bool = False


_FOLD_CACHE: dict[str, str] = {}


def _fold_char(char: str) -> str:
    """Casefold, decompose and strip combining marks from one character ("" if invisible)."""
    folded = _FOLD_CACHE.get(char)
    if folded is not None:
        return folded
    if char in _INVISIBLE:
        folded = ""
    else:
        decomposed = unicodedata.normalize("NFKD", char.casefold())
        folded = "".join(c for c in decomposed if not unicodedata.combining(c))
        # A casefold can yield a character that decomposes further ("İ" -> "i̇").
        folded = unicodedata.normalize("NFKD", folded)
        folded = "".join(c for c in folded if not unicodedata.combining(c))
    if len(_FOLD_CACHE) < 65536:  # bounded: hostile input must not grow memory forever
        _FOLD_CACHE[char] = folded
    return folded


def normalise(text: str) -> str:
    """Return the matching form of ``text``: casefolded, accents and invisibles removed."""
    return _normalise(text).text


def _normalise(text: str) -> _Normalised:
    if text.isascii():
        # Fast path for most posts: lowercasing ASCII keeps every offset.
        return _Normalised(text=text.lower(), identity=True)
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for index, char in enumerate(text):
        folded = _fold_char(char)
        if folded:
            out.append(folded)
            starts.extend([index] * len(folded))
            ends.extend([index + 1] * len(folded))
        elif ends and unicodedata.combining(char):
            # A dropped accent belongs to the letter before it: keep it inside the span.
            last = ends[-1]
            if last == index:
                ends[-len(out[-1]) :] = [index + 1] * len(out[-1])
    return _Normalised(text="".join(out), starts=starts, ends=ends)


def _term_key(normalised_term: str) -> str:
    """The lookup key of a term or of matched text: separators and a leading @/# removed."""
    return _KEY_STRIP.sub("", normalised_term.lstrip("@#"))


def _prepare_term(term: str) -> str:
    """Normalise a configured term; internal separators collapse to one space."""
    folded = normalise(term).strip().lstrip("@#").strip()
    return " ".join(_KEY_STRIP.sub(" ", folded).split())


def _trie_pattern(terms: Iterable[str]) -> str:
    """Build a regex alternation from a trie of terms (shared prefixes factored out)."""
    trie: dict[str, dict] = {}
    for term in terms:
        node = trie
        for char in term:
            node = node.setdefault(char, {})
        node[""] = {}
    return _node_pattern(trie)


def _node_pattern(node: dict[str, dict]) -> str:
    alternatives: list[str] = []
    optional = False
    for char in sorted(node):
        if char == "":
            optional = True
            continue
        head = _SEPARATOR_PATTERN if char in _SEPARATOR_CHARS else re.escape(char)
        alternatives.append(head + _node_pattern(node[char]))
    if not alternatives:
        return ""
    if len(alternatives) == 1 and not optional:
        return alternatives[0]
    # Greedy "?" tries the longer term first; backtracking falls back to the shorter one
    # when the longer one does not end on a word boundary.
    return "(?:" + "|".join(alternatives) + ")" + ("?" if optional else "")


def _compile(terms: Iterable[str]) -> re.Pattern[str] | None:
    unique = sorted(set(terms))
    if not unique:
        return None
    return re.compile(r"(?<!\w)[@#]?(?:" + _trie_pattern(unique) + r")(?!\w)")


class BrandMatcher:
    """All brands' terms compiled once; ``find`` scans a post once for every brand."""

    def __init__(self, brands: Iterable[BrandTerms]) -> None:
        self.brands: tuple[BrandTerms, ...] = tuple(brands)
        self._entries: dict[str, list[_TermEntry]] = {}
        self._exclusions: dict[str, set[BrandId]] = {}
        terms: list[str] = []
        exclusion_terms: list[str] = []
        for brand in self.brands:
            kinds: tuple[tuple[TermKind, Sequence[str]], ...] = (
                ("name", brand.names),
                ("alias", brand.aliases),
                ("product", brand.products),
                ("handle", brand.handles),
            )
            for kind, values in kinds:
                for raw in values:
                    prepared = _prepare_term(raw)
                    if not prepared:
                        continue
                    entries = self._entries.setdefault(_term_key(prepared), [])
                    if all(e.brand_id != brand.brand_id for e in entries):
                        entries.append(_TermEntry(brand.brand_id, raw.strip(), kind))
                    terms.append(prepared)
            for raw in brand.exclusions:
                prepared = _prepare_term(raw)
                if prepared:
                    self._exclusions.setdefault(_term_key(prepared), set()).add(brand.brand_id)
                    exclusion_terms.append(prepared)
        self._pattern = _compile(terms)
        self._exclusion_pattern = _compile(exclusion_terms)

    def find(self, text: str) -> list[BrandMatch]:
        """Return every brand mention in ``text``, in order, with spans in the original text."""
        if not text or self._pattern is None:
            return []
        norm = _normalise(text)
        excluded = self._excluded_spans(norm.text)
        matches: list[BrandMatch] = []
        for found in self._pattern.finditer(norm.text):
            start, end = found.span()
            for entry in self._entries.get(_term_key(found.group()), ()):
                if any(s <= start and end <= e for s, e in excluded.get(entry.brand_id, ())):
                    continue
                # Map back to the original text unless normalising kept every offset.
                span = (start, end) if norm.identity else (norm.starts[start], norm.ends[end - 1])
                matches.append(BrandMatch(entry.brand_id, entry.term, *span, kind=entry.kind))
        return matches

    def matched_brand_ids(self, text: str) -> list[BrandId]:
        """Return the ids of the brands ``text`` mentions, each once, in order of first mention."""
        return list(dict.fromkeys(match.brand_id for match in self.find(text)))

    def _excluded_spans(self, norm_text: str) -> dict[BrandId, list[tuple[int, int]]]:
        spans: dict[BrandId, list[tuple[int, int]]] = {}
        if self._exclusion_pattern is None:
            return spans
        # Overlapping search: one brand's exclusion must not hide another brand's.
        position = 0
        while (found := self._exclusion_pattern.search(norm_text, position)) is not None:
            for brand_id in self._exclusions.get(_term_key(found.group()), ()):
                spans.setdefault(brand_id, []).append(found.span())
            position = found.start() + 1
        return spans


def matched_brand_ids(matcher: BrandMatcher, text: str) -> list[BrandId]:
    """Return the ids of the brands ``text`` mentions (see ``BrandMatcher.matched_brand_ids``)."""
    return matcher.matched_brand_ids(text)
