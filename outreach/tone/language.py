"""The language a reply is written in, and whether the lexicon covers it.

Detected with py3langid, the detector detection already uses for posts
(``monitoring/language.py``: its model ships in the wheel, nothing is downloaded),
restricted here to the languages the lexicon covers and the neighbours most easily
taken for them, so that an Italian or Dutch reply is named as such rather than read
as Spanish or German. Text in a script other than Latin is named by its script
without asking the detector.

A reply too short to tell (a few words) counts as covered: the patterns of every
covered language run on every reply anyway, so the language only decides whether
the guard warns that it could not read the reply, and whether the findings that
stand for something missing ("no reference to the problem") may block.
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Any

import regex

# The languages the lexicon has patterns for (ISO 639-1).
COVERED = ("en", "es", "fr", "de", "pt")
# Also known to the detector, so that they are recognised as not covered.
NEIGHBOURS = ("it", "nl", "pl")
# Fewer letters than this and the language is not judged.
MIN_LETTERS = 16
# The detector's confidence (0..1, relative to the languages it knows) needed
# before a reply is called uncovered.
MIN_CONFIDENCE = 0.5
UNDETERMINED = "und"
# Plainly English text is told without the detector (most replies, and a third of the
# guard's time otherwise): at least this share of its words from ENGLISH_WORDS, which
# holds no word that is also common in the other covered or neighbouring languages.
ENGLISH_SHARE = 0.3
ENGLISH_WORDS = frozenset(
    """the you your you're it's that this and is are with for to of have has we our i i'm
    be was what sorry hope it they their there been will would can can't don't not just
    get got my me hear sounds really""".split()  # noqa: SIM905
)


@functools.cache
def detector() -> Any:
    """py3langid's identifier over the covered and neighbouring languages, built once per
    process (its model loads in a second or two)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages([*COVERED, *NEIGHBOURS])
    return identifier


def _script(char: str) -> str:
    """The first word of the character's Unicode name: LATIN, CYRILLIC, CJK, ARABIC..."""
    try:
        return unicodedata.name(char).split(" ", 1)[0]
    except ValueError:
        return ""


def detect(text: str) -> str:
    """The ISO 639-1 code of ``text``'s language, a script name ("cyrillic") for a
    non-Latin text, or ``UNDETERMINED`` when it is too short to tell."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) < MIN_LETTERS:
        return UNDETERMINED
    latin = sum(1 for c in letters if _script(c) == "LATIN")
    if latin * 2 < len(letters):
        scripts: dict[str, int] = {}
        for c in letters:
            scripts[_script(c)] = scripts.get(_script(c), 0) + 1
        return max(scripts, key=lambda s: scripts[s]).lower() or "other"
    words = regex.findall(r"[\w']+", text.casefold().replace("\u2019", "'"))
    if len(words) >= 4 and sum(w in ENGLISH_WORDS for w in words) >= ENGLISH_SHARE * len(words):
        return "en"
    ranked = detector().rank(text)  # [(code, probability)], most likely first
    if not ranked:
        return UNDETERMINED
    code, confidence = str(ranked[0][0]), float(ranked[0][1])
    if code in COVERED or confidence >= MIN_CONFIDENCE:
        return code
    # Unsure between an uncovered language and others: the best covered one.
    covered = [str(c) for c, _ in ranked if c in COVERED]
    return covered[0] if covered else UNDETERMINED


def covered(language: str) -> bool:
    """Whether the lexicon reads ``language`` (too short to tell counts as covered)."""
    return language in COVERED or language == UNDETERMINED
