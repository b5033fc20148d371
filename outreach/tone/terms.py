"""Brand terms in a reply: ours and the competitors', however they are disguised."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import regex

from outreach.tone.lexicon import FLAGS, JUDGEMENT
from outreach.tone.normalise import View, leet, normalise


# Terms come from the brand table: few, and the same for every reply.
@functools.lru_cache(maxsize=1024)
def term_pattern(term: str) -> regex.Pattern[str] | None:
    """A pattern for one brand term in the leet view, tolerant of separators inside it."""
    words = [w for w in re.split(r"[^\w@$!|]+", leet(normalise(term).text)) if w]
    if not words:
        return None
    parts = []
    for word in words:
        if len(word) >= 5:
            # Long words may be split by up to three separators between letters
            # ("North-wind", "N.o.r.t.h.w.i.n.d"); a lone space is checked later.
            parts.append(r"[\W_]{0,3}".join(regex.escape(c) for c in word))
        elif len(words) > 1:
            # "N-W Unlimited", "N W Unlimited": the other words keep it specific.
            parts.append(r"[\W_]?".join(regex.escape(c) for c in word))
        else:
            parts.append(regex.escape(word))
    body = r"[\W_]{0,3}".join(parts)
    # Long single words also match as prefixes (#NorthwindFibre, @northwind_help,
    # Northwinds); short terms ("NW") need a boundary on both sides.
    tail = "" if len(words) == 1 and len(words[0]) >= 5 else r"(?![a-z0-9])"
    # The left boundary is checked by the caller on the real text: in the leet view
    # "@northwind" reads "anorthwind".
    return regex.compile(body + tail)


def skeleton(term: str) -> str:
    """A term reduced to leet letters and digits, for substring tests inside hashtags."""
    return regex.sub(r"[\W_]+", "", leet(normalise(term.lstrip("#")).text))


def find_terms(
    view: View, leet_text: str, terms: Sequence[str], text: str
) -> list[tuple[int, int, str]]:
    """Spans (in the view) where any of ``terms`` occurs."""
    hits: list[tuple[int, int, str]] = []
    for term in terms:
        if not term or not term.strip():
            continue
        pattern = term_pattern(term)
        if pattern is None:
            continue
        term_words = len([w for w in re.split(r"\W+", term) if w])
        for m in pattern.finditer(leet_text):
            # The left boundary is judged on the real text: "@northwind" and
            # "#northwind" start a word even though "@" is a letter in leet.
            if m.start() > 0 and view.text[m.start() - 1].isalnum():
                continue
            inner = view.text[m.start() : m.end()]
            gaps = re.findall(r"[\W_]+", inner)
            # "the north wind blew" is weather, not our brand: a single plain space
            # inside a one-word term is not enough to call it our name.
            if term_words == 1 and len(gaps) == 1 and gaps[0].isspace():
                # ...unless it is written like a name: "North Wind", "NORTH WIND".
                o_start, o_end = view.span(m.start(), m.end())
                parts = text[o_start:o_end].split()
                if not all(p[:1].isupper() for p in parts) or len(parts) != 2:
                    continue
            hits.append((m.start(), m.end(), term))
    return hits


@functools.lru_cache(maxsize=64)
def competitor_judgement(terms: tuple[str, ...]) -> regex.Pattern[str] | None:
    """A judgement with a competitor as its subject ("Telvana is a joke"), in the leet view."""
    patterns = [p.pattern for t in terms if (p := term_pattern(t))]
    if not patterns:
        return None
    alt = "|".join(patterns)
    return regex.compile(
        r"(?:" + alt + r")(?:'s)?(?:\s+(?:\w+\s+){0,2}?)?\s*" + JUDGEMENT
        + r"|(?:typical|classic|good\s+old|ah|oh)\s+(?:" + alt + r")"
        + r"|(?:" + alt + r")\s+(?:strikes?|at\s+it|does\s+it|being\s+(?:" + alt + r"))"
        # a comparison that puts them down: "unlike Telvana's", "still beats Orbix",
        # "we're not Telvana", "at least it's not Telvana levels", "quicker than Orbix"
        + r"|\b(?:unlike|beats|we're\s+not|we\s+are\s+not|at\s+least\s+it's\s+not|"
        + r"(?:better|quicker|faster|warmer|cheaper|more\s+reliable|recline\s+more)\s+than|"
        + r"novelty\s+after|no\s+somos|nous\s+ne\s+sommes\s+pas|wir\s+sind\s+nicht|nao\s+somos)"
        + r"\s+(?:\w+\s+)?(?:"
        + alt + r")",
        FLAGS,
    )  # fmt: skip
