"""The one term matcher for adapters that filter what a platform sent back.

A platform's search may stem words, match a subreddit or a domain, or (feeds)
have no search at all; this keeps only posts that really say a term.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence


def matches(text: str, terms: Sequence[str], exclusions: Sequence[str] = ()) -> bool:
    """Any term as a whole word or phrase, no exclusion, case-insensitive; no terms: every text."""
    if any(word(x).search(text) for x in exclusions if x.strip()):
        return False
    wanted = [t for t in terms if t.strip()]
    return not wanted or any(word(t).search(text) for t in wanted)


@functools.lru_cache(maxsize=512)
def word(term: str) -> re.Pattern[str]:
    """A pattern for ``term`` standing alone: not inside a longer word."""
    return re.compile(r"(?<!\w)" + re.escape(term.strip()) + r"(?!\w)", re.IGNORECASE)
