"""The default classifier on the sandbox's own labelled posts: what a new user sees in `make run`.

The sandbox corpus is an evaluation of generalisation: none of its posts is in the training
data, and training rows were written fresh, not copied from it (monitoring/training/README.md).
Pure tests: the corpus is read from the repository, the model trained from the shipped
examples; no Django, no database.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from sklearn.metrics import f1_score

from monitoring import classifier, language
from monitoring.platforms.sandbox import CORPUS_PATH

OWN_BRAND = "northwind"
# The demo's first ten minutes (`make run` releases the corpus by its "minute").
FIRST_MINUTES = 10
# The posts issue #17 found misjudged: an app that crashes at payment, "support said it was
# fixed", a complaint in French, sarcasm, and praise with a problem word ("hasn't dropped once").
ISSUE_EXAMPLES = {
    "sb-0033": True,
    "sb-0027": True,
    "sb-0043": True,
    "sb-0051": True,
    "sb-0070": False,
}
# Measured 2026-12-01 on the labelled posts in covered languages (396): macro-F1 0.777, and
# 53 of the 64 posts about our own brand right. The floors are those less a margin.
CORPUS_MACRO_F1_FLOOR = 0.75
OWN_BRAND_ACCURACY_FLOOR = 0.80


@cache
def _posts() -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(CORPUS_PATH.read_text(encoding="utf-8"))["posts"])


@pytest.fixture(scope="module")
def judged() -> list[tuple[dict[str, Any], classifier.Verdict, language.Language]]:
    """Every corpus post with the default model's verdict and its language."""
    posts = list(_posts())
    verdicts = classifier.load_default().predict([p["text"] for p in posts])
    languages = language.languages_of([p["text"] for p in posts], [p["lang"] for p in posts])
    return list(zip(posts, verdicts, languages, strict=True))


def test_every_sandbox_post_carries_a_complaint_label() -> None:
    assert all(isinstance(p.get("complaint"), bool) for p in _posts())


def test_own_brand_posts_of_the_first_ten_minutes_are_all_judged_right(judged) -> None:
    # Given the posts about our own brand the demo releases in its first ten minutes
    early = [
        (post, verdict)
        for post, verdict, lang in judged
        if post["brand"] == OWN_BRAND and post["minute"] <= FIRST_MINUTES and lang.covered
    ]
    assert len(early) >= 8
    assert {p["complaint"] for p, _ in early} == {True, False}
    # Then every complaint opens an own-brand case and no praise does
    wrong = [(p["id"], p["text"], v.score) for p, v in early if v.complaint != p["complaint"]]
    assert wrong == []


def test_the_posts_the_issue_found_misjudged_are_judged_right(judged) -> None:
    verdicts = {post["id"]: verdict for post, verdict, _ in judged}
    assert {pid: verdicts[pid].complaint for pid in ISSUE_EXAMPLES} == ISSUE_EXAMPLES


def test_the_default_model_on_every_labelled_post_stays_above_the_floors(judged) -> None:
    # Given every labelled post in a language the classifier covers
    covered = [(p, v) for p, v, lang in judged if lang.covered]
    truth = [int(p["complaint"]) for p, _ in covered]
    predicted = [int(v.complaint) for _, v in covered]
    # Then macro-F1 over the whole corpus, and the share right about our brand, hold
    assert f1_score(truth, predicted, average="macro") >= CORPUS_MACRO_F1_FLOOR
    own = [(p, v) for p, v in covered if p["brand"] == OWN_BRAND]
    right = sum(p["complaint"] == v.complaint for p, v in own)
    assert right / len(own) >= OWN_BRAND_ACCURACY_FLOOR


def test_posts_in_languages_not_covered_are_flagged_for_a_person(judged) -> None:
    # Given the corpus's Italian and Dutch posts (the platform gives their code)
    flagged = {post["lang"] for post, _, lang in judged if not lang.covered}
    # Then exactly those are not judged by the model, and every other post is
    assert flagged == {"it", "nl"}
    assert all(
        lang.covered == (post["lang"] in language.COVERED_LANGUAGES) for post, _, lang in judged
    )
