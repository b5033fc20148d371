"""The language of a post, and whether the complaint classifier covers it (pure: no Django).

The classifier is trained and checked in English, French, Spanish, German and Portuguese
(``COVERED_LANGUAGES``; ``monitoring/training/README.md`` has the figures per language). A
post in any other language gets a verdict from a model that cannot read it, so detection
records the language and triage hands such a post to a person ("language not covered")
instead of letting a meaningless "not a complaint" dismiss it.

Where the language comes from, cheapest first:

1. The platform's own code (Mastodon, Bluesky, X and the sandbox send one per post; an RSS
   feed one per feed): "pt-BR" counts as "pt". Codes that say "no language" ("und", "zxx",
   X's "qme"/"qht"...) count as none.
2. Otherwise py3langid (langid.py's maintained fork: naive Bayes over byte n-grams, its model
   shipped inside the wheel, no download, no pickle), on the post with links, @handles and
   #hashtags taken out. It costs about half as much per post as the classifier itself, which
   is why a platform's code is preferred, and why plain ASCII text with two different English
   function words ("the", "my", "with", ...) is taken as English without asking it (see
   ``bench/classifier.py``).
3. A post with fewer than ``MIN_LETTERS`` letters once those are taken out ("ugh @brand",
   emoji only, empty), or one the detector is unsure of (below ``MIN_CONFIDENCE``), has no
   language to tell: its code is "" and it counts as covered, so the classifier judges it as
   it judges any short post. Such posts are never dropped.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# The classifier's languages: training rows, lexicon and an evaluation set in each.
COVERED_LANGUAGES = frozenset({"en", "fr", "es", "de", "pt"})
# Fewer letters than this (after links and handles are removed) and there is nothing to detect.
MIN_LETTERS = 12
# Below this probability the detector is guessing: on the airline tweets (all English) the
# 0.4% it called another language had a median of 0.12, while short posts really written in
# Italian, Dutch, Polish or Japanese score 0.6-1.0. A guess counts as "" (judged as covered).
MIN_CONFIDENCE = 0.5
# The detector reads at most this much of a post: the language shows in the first lines, and
# the detector's cost grows with the length.
DETECT_CHARS = 400
# Platform codes that name no language: undetermined, no linguistic content, X's pseudo-codes.
_NO_LANGUAGE = frozenset({"und", "zxx", "mul", "mis"})
# ISO 639-2 codes some feeds use for the covered languages.
_THREE_LETTER = {
    "eng": "en",
    "fra": "fr",
    "fre": "fr",
    "spa": "es",
    "deu": "de",
    "ger": "de",
    "por": "pt",
}
_PRIMARY = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]+)*$")
_STRIP = re.compile(r"(?:https?://|www\.)\S+|(?<!\w)[@#]\w+", re.IGNORECASE)


@dataclass(frozen=True)
class Language:
    """A post's language: ISO 639-1 code ("" when none can be told) and where it came from."""

    code: str
    source: str  # "platform", "detected" or "" (no language to tell)

    @property
    def covered(self) -> bool:
        """Whether the complaint classifier reads this language."""
        return is_covered(self.code)


def is_covered(code: str) -> bool:
    """True for the classifier's languages, and for "" (a post with no language to judge)."""
    return not code or code in COVERED_LANGUAGES


def platform_code(raw: object) -> str:
    """A platform's language tag as a bare lowercase code ("pt-BR" -> "pt"), or "" if none."""
    if not isinstance(raw, str):
        return ""
    match = _PRIMARY.match(raw.strip().lower()[:35])
    if match is None:
        return ""
    code = _THREE_LETTER.get(match.group(1), match.group(1))
    # X's pseudo-languages ("qme" media, "qht" hashtags only, ...) start with "q".
    if code in _NO_LANGUAGE or (len(code) == 3 and code.startswith("q")):
        return ""
    return code


@functools.lru_cache(maxsize=1)
def _identifier() -> Any:
    """py3langid's identifier, loaded once per process (about two seconds, 70-90 MB)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect(text: object) -> str:
    """The language py3langid reads in ``text``, or "" when it has too few letters."""
    if not isinstance(text, str):
        return ""
    cleaned = _STRIP.sub(" ", text[: DETECT_CHARS * 4])[:DETECT_CHARS]
    if sum(c.isalpha() for c in cleaned) < MIN_LETTERS:
        return ""
    if _plainly_english(cleaned):
        return "en"
    code, confidence = _identifier().classify(cleaned)
    if code in _NO_LANGUAGE or confidence < MIN_CONFIDENCE:
        return ""
    return str(code)


# English function words that are not words of the other languages py3langid is likely to
# name for a short ASCII post (no "is", "de", "en", "on", "in", "a", "die", "me" ...).
_ENGLISH_WORDS = (
    "the and my you your with for this that was have has not but just been they what "
    "about would could should there their from because when after still again it's i'm "
    "can't don't why how who get got are our any"
)
_ENGLISH = frozenset(_ENGLISH_WORDS.split())
_WORD = re.compile(r"[a-z']+")


def _plainly_english(text: str) -> bool:
    """A cheap shortcut before the detector: ASCII with two different English function words.

    Most posts a listening team reads are English, and the detector costs about as much as the
    classifier; this skips it for the plain cases (three in four English tweets) and never
    for text with accents, another script or too few of these words.
    """
    if not text.isascii():
        return False
    found = _ENGLISH.intersection(_WORD.findall(text.lower()))
    return len(found) >= 2


def language_of(text: object, platform_lang: object = "") -> Language:
    """The post's language: the platform's code when it gave one, else detected."""
    code = platform_code(platform_lang)
    if code:
        return Language(code, "platform")
    detected = detect(text)
    return Language(detected, "detected" if detected else "")


def languages_of(texts: Sequence[object], platform_langs: Sequence[object]) -> list[Language]:
    """``language_of`` for a batch of posts."""
    return [language_of(t, h) for t, h in zip(texts, platform_langs, strict=True)]
