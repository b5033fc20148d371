"""The one term matcher the filtering adapters share (Hacker News, Reddit, feeds)."""

from __future__ import annotations

import pytest

from monitoring.platforms.terms import matches


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Telvana billed me twice", True),
        ("#telvana is down", True),
        ("telvanas are great", False),  # inside a longer word
        ("nothing to see", False),
    ],
)
def test_a_term_matches_only_as_a_whole_word(text: str, expected: bool) -> None:
    assert matches(text, ["telvana"]) is expected


def test_a_phrase_term_matches_as_a_phrase() -> None:
    assert matches("my card got blocked today", ["card got blocked"])
    assert not matches("my card was blocked", ["card got blocked"])


def test_an_exclusion_drops_a_matching_text() -> None:
    assert not matches("telvana giveaway, click here", ["telvana"], ["giveaway"])


def test_no_terms_means_every_text_and_blank_terms_are_ignored() -> None:
    assert matches("anything at all", [])
    assert matches("anything at all", ["  "], [" "])
