"""The blind evaluation set of the tone guard (tests/outreach/tone_blind/) is well formed.

It was written from DESIGN.md's rules and the list of finding codes only, without
seeing the guard, and is used to measure it (bench/tone_eval.py), never to tune it.
These tests check the set itself, not the guard's answers.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from monitoring.platforms.text import text_length

SET = Path(__file__).with_name("tone_blind") / "tone_blind.jsonl"
KEYS = {
    "id", "text", "platform", "playbook", "own_terms", "competitor_terms", "post_text",
    "max_length", "length_unit", "first_reply", "personal_account", "language",
    "expect_blocking", "expect_ok",
}  # fmt: skip
BLOCKING_CODES = {
    "own_brand_named", "link", "price", "discount", "offer", "promo_code", "call_to_action",
    "self_promotion", "follow_request", "own_hashtag", "disparages_competitor", "legal_threat",
    "threat", "arguing", "blames_customer", "delete_request", "placeholder", "too_long", "empty",
    "no_reference_to_problem", "no_contact_route", "no_disclosure",
}  # fmt: skip
PLATFORM_LIMITS = {
    "mastodon": (500, "characters"),
    "bluesky": (300, "graphemes"),
    "x": (280, "weighted"),
    "reddit": (10_000, "characters"),
    "sandbox": (500, "characters"),
}


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines()]


def test_every_row_has_the_documented_keys_and_values(rows: list[dict[str, Any]]) -> None:
    for number, row in enumerate(rows, start=1):
        assert set(row) == KEYS, row["id"]
        assert row["id"] == f"q{number:03d}"
        assert (row["max_length"], row["length_unit"]) == PLATFORM_LIMITS[row["platform"]]
        assert row["playbook"] in {"competitor", "own_brand"}
        assert row["language"] in {"en", "es", "fr", "de", "pt"}
        assert set(row["expect_blocking"]) <= BLOCKING_CODES, row["id"]
        assert row["expect_ok"] == (not row["expect_blocking"]), row["id"]


def test_too_long_rows_are_over_the_platforms_limit_and_no_other_is(
    rows: list[dict[str, Any]],
) -> None:
    for row in rows:
        over = text_length(row["text"], row["length_unit"]) > row["max_length"]
        assert over == ("too_long" in row["expect_blocking"]), row["id"]


def test_the_set_covers_what_it_must(rows: list[dict[str, Any]]) -> None:
    codes = Counter(code for row in rows for code in row["expect_blocking"])
    assert len(rows) >= 300
    assert 0.4 <= sum(row["expect_ok"] for row in rows) / len(rows) <= 0.6
    assert all(codes[code] >= 3 for code in BLOCKING_CODES), codes
    assert sum(row["language"] != "en" for row in rows) / len(rows) >= 0.10
    assert {row["platform"] for row in rows} == set(PLATFORM_LIMITS)
    assert {row["playbook"] for row in rows} == {"competitor", "own_brand"}
    assert sum(not row["first_reply"] for row in rows) >= 40
    assert sum(row["personal_account"] for row in rows) >= 20
