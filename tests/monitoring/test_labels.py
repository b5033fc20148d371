"""Team labels: one row per text (a later label replaces the earlier), fed by corrections."""

from __future__ import annotations

import pytest
from django.urls import reverse

from monitoring import labels
from monitoring.models import Detection, Label, Post
from tests.factories import BrandFactory, DetectionFactory, PostFactory

pytestmark = pytest.mark.django_db


def test_a_later_label_of_the_same_text_replaces_the_earlier(admin_user) -> None:
    # given a text labelled a complaint by an import
    brand = BrandFactory()
    first = labels.record("Wifi down AGAIN", True, Label.Source.IMPORT, external_id="x1")
    # when the same text (other case and spacing) is labelled not a complaint in the queue
    post = PostFactory(text="wifi down again")
    second = labels.record(
        post.text,
        False,
        Label.Source.QUEUE,
        brand=brand,
        platform="sandbox",
        post=post,
        user=admin_user,
    )
    # then one row holds the later verdict, source and who
    assert Label.objects.count() == 1 and first.pk == second.pk
    label = Label.objects.get()
    assert (label.complaint, label.source, label.brand, label.post, label.labelled_by) == (
        False,
        "queue",
        brand,
        post,
        admin_user,
    )
    assert label.external_id == "" and label.text == "wifi down again"


def test_an_empty_text_or_an_unknown_source_is_refused() -> None:
    with pytest.raises(ValueError):
        labels.record("   ", True, Label.Source.IMPORT)
    with pytest.raises(ValueError):
        labels.record("fine", True, "gossip")
    assert not Label.objects.exists()


@pytest.mark.parametrize(
    "action, complaint",
    [("mark_complaint", True), ("mark_not_complaint", False)],
)
def test_a_reviewer_correction_becomes_a_team_label(admin_client, admin_user, action, complaint):
    # given two verdicts on the same text and one on another
    brand = BrandFactory()
    posts = [PostFactory(text=t) for t in ("app crashes at payment", "App crashes at payment", "x")]
    ds = [DetectionFactory(post=p, brand=brand, complaint=not complaint) for p in posts]
    # when a reviewer corrects the first two from the detection list
    admin_client.post(
        reverse("admin:monitoring_detection_changelist"),
        {"action": action, "_selected_action": [ds[0].pk, ds[1].pk]},
    )
    # then the correction is recorded and the text is one label, source correction
    assert Detection.objects.filter(correction=action.removeprefix("mark_")).count() == 2
    label = Label.objects.get()
    assert (label.complaint, label.source, label.brand, label.labelled_by) == (
        complaint,
        "correction",
        brand,
        admin_user,
    )
    assert label.post_id in (posts[0].pk, posts[1].pk) and label.platform == "sandbox"


def test_wrong_brand_records_the_correction_but_no_label(admin_client) -> None:
    d = DetectionFactory(post=PostFactory(), brand=BrandFactory())
    admin_client.post(
        reverse("admin:monitoring_detection_changelist"),
        {"action": "mark_wrong_brand", "_selected_action": [d.pk]},
    )
    d.refresh_from_db()
    assert d.correction == "wrong_brand"
    assert not Label.objects.exists()


def test_correcting_from_a_list_filtered_on_correction_still_labels(admin_user) -> None:
    # given the uncorrected verdicts, selected by a filter the correction itself falsifies
    d = DetectionFactory(post=PostFactory(text="still no refund"), brand=BrandFactory())
    # when corrected
    count = labels.record_corrections(
        Detection.objects.filter(correction=""), Detection.Correction.COMPLAINT, admin_user
    )
    # then the label is stored all the same
    assert count == 1
    assert Label.objects.get().post_id == d.post_id


def test_a_label_outlives_its_post_when_retention_deletes_it() -> None:
    post = PostFactory(text="the router died")
    labels.record(post.text, True, Label.Source.QUEUE, post=post)
    Post.objects.filter(pk=post.pk).delete()
    label = Label.objects.get()
    assert label.post is None and label.text == "the router died"
