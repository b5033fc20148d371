"""The label queue in a browser: an analyst labels with the keys alone (y, n, s), the page's
script loads under the Content Security Policy (a violation is a console error: it fails)."""

from __future__ import annotations

from typing import Any

import pytest

from monitoring.models import Brand, ClassifierVersion, Label
from tests.factories import DetectionFactory, PostFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_analyst_labels_the_queue_with_y_n_and_s(sign_in: Any) -> None:
    # Given the active version's three unsure verdicts on the demo's first brand
    ClassifierVersion.objects.filter(active=True).update(active=False)
    ClassifierVersion.objects.create(version="browser-v", blob=b"x", active=True)
    brand = Brand.objects.order_by("pk").first()
    texts = ["first: the app logs me out at payment", "second: thanks, all fixed", "third: hmm"]
    posts = []
    for score, text in zip((0.5, 0.52, 0.55), texts, strict=True):
        post = PostFactory(text=text)
        DetectionFactory(post=post, brand=brand, score=score, model_version="browser-v")
        posts.append(post)
    analyst = sign_in("analyst")
    # When the analyst opens the queue and presses y, then n, then s
    analyst.open("/admin/monitoring/label/queue/")
    page = analyst.page
    assert texts[0] in page.inner_text("#nj-label-queue")
    analyst.shot("label-queue")
    for key, shown_next in (("y", texts[1]), ("n", texts[2])):
        with page.expect_navigation():
            page.keyboard.press(key)
        analyst.watched.check(f"analyst pressing {key}")
        assert shown_next in page.inner_text("#nj-label-queue")
    with page.expect_navigation():
        page.keyboard.press("s")
    analyst.watched.check("analyst pressing s")
    # Then two labels, the skipped post none, and the queue is empty for them
    assert dict(Label.objects.values_list("post_id", "complaint")) == {
        posts[0].pk: True,
        posts[1].pk: False,
    }
    assert "Nothing to label" in page.inner_text("#nj-label-queue")
    assert "2</b> by you" in page.inner_html("#nj-label-figures")
