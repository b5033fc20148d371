"""The label queue: least sure first, spread across brands, no near-duplicates, nothing labelled
twice; y / n / s from the page; analysts and reviewers only; cheap whatever the table's size."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from monitoring import label_queue, labels
from monitoring.models import Brand, ClassifierVersion, Label
from tests.factories import BrandFactory, DetectionFactory, PostFactory

pytestmark = pytest.mark.django_db

QUEUE = "admin:monitoring_label_queue"
LABEL = "admin:monitoring_label_queue_label"
HOSTILE = "<script>alert('x')</script> <b>bold</b> \u202eevil"


@pytest.fixture(autouse=True)
def active_version(db):
    # The queue reads the active version's string only: no model needs to be trained.
    return ClassifierVersion.objects.create(version="v-active", blob=b"x", active=True)


def verdict(brand, score, text, **kwargs):
    kwargs.setdefault("model_version", "v-active")
    return DetectionFactory(
        post=PostFactory(text=text), brand=brand, score=score, complaint=score >= 0.5, **kwargs
    )


def texts(candidates):
    return [c.detection.post.text for c in candidates]


def test_the_least_sure_verdicts_come_first_from_both_sides_of_the_threshold():
    brand = BrandFactory()
    for score, text in [
        (0.99, "sure yes"),
        (0.55, "a bit yes"),
        (0.47, "a bit no"),
        (0.02, "sure no"),
        (0.7, "rather yes"),
        (0.51, "coin toss"),
    ]:
        verdict(brand, score, text)
    assert texts(label_queue.queue(10)) == [
        "coin toss",
        "a bit no",
        "a bit yes",
        "rather yes",
        "sure no",  # 0.48 from the threshold
        "sure yes",  # 0.49
    ]


def test_brands_take_turns_so_one_brand_cannot_fill_the_queue():
    # given a loud brand with many uncertain posts and a quiet one whose best is less uncertain
    loud, quiet = BrandFactory(name="Loud"), BrandFactory(name="Quiet")
    for i in range(5):
        verdict(loud, 0.5 + i / 100, f"loud post number {'x' * i} about the outage")
    verdict(quiet, 0.6, "quiet one complains about billing")
    verdict(quiet, 0.7, "quiet two complains about the app")
    # then the queue alternates: round one, each brand's best (the least sure first), ...
    brands = [c.detection.brand.name for c in label_queue.queue(5)]
    assert brands == ["Loud", "Quiet", "Loud", "Quiet", "Loud"]


def test_a_brands_own_threshold_moves_its_centre():
    brand = BrandFactory()
    verdict(brand, 0.5, "at the default threshold")
    verdict(brand, 0.81, "at the brand's threshold")
    Brand.objects.filter(pk=brand.pk).update(threshold=0.8)
    assert texts(label_queue.queue(2))[0] == "at the brand's threshold"


def test_near_duplicates_are_shown_once():
    brand = BrandFactory()
    verdict(brand, 0.50, "RT @someone: the app crashes at payment https://t.co/abc")
    verdict(brand, 0.51, "the app crashes at payment!! https://t.co/xyz #fail")
    verdict(
        brand, 0.52, "@telvana the app crashes at payment every single time since the update today"
    )
    verdict(
        brand,
        0.53,
        "@telvana the app crashes at payment every single time since the update today!!!",
    )
    verdict(brand, 0.54, "a different complaint about roaming")
    assert texts(label_queue.queue(10)) == [
        "RT @someone: the app crashes at payment https://t.co/abc",
        "@telvana the app crashes at payment every single time since the update today",
        "a different complaint about roaming",
    ]


def test_labelled_corrected_skipped_and_other_versions_verdicts_are_left_out():
    brand = BrandFactory()
    queued = verdict(brand, 0.50, "labelled in the queue")
    labels.record(queued.post.text, True, Label.Source.QUEUE, post=queued.post)
    verdict(brand, 0.50, "Imported  TEXT")
    labels.record("imported text", False, Label.Source.IMPORT)
    verdict(brand, 0.50, "corrected already", correction="not_complaint")
    verdict(brand, 0.50, "an older model's verdict", model_version="v-old")
    skipped = verdict(brand, 0.50, "skipped by me")
    verdict(brand, 0.50, "")  # an erased post's empty row
    verdict(brand, 0.9, "still to label")
    assert texts(label_queue.queue(10, skipped=[skipped.pk])) == ["still to label"]


def test_posts_naming_no_brand_have_their_own_turn():
    verdict(None, 0.5, "no brand named here")
    verdict(BrandFactory(), 0.6, "brand named")
    assert sorted(texts(label_queue.queue(5))) == ["brand named", "no brand named here"]


def test_the_queue_costs_the_same_number_of_queries_for_few_and_many_posts():
    brand = BrandFactory()
    verdict(brand, 0.4, "first post")

    def cost():
        with CaptureQueriesContext(connection) as ctx:
            label_queue.queue(1)
        return len(ctx)

    few = cost()
    for i in range(60):
        verdict(brand, 0.45 + i / 1000, f"post {i} " + "word " * (i % 7) + chr(97 + i % 26) * 3)
    assert cost() == few


def test_the_queue_reads_the_detections_through_its_indexes_in_score_order():
    # The plan on a table too small to prefer an index says nothing: forbid the sequential
    # and bitmap scans and check the planner walks the queue's indexes in order (no sort of
    # the whole bucket), for a brand and for the posts naming none.
    brand = BrandFactory()
    verdict(brand, 0.5, "x")
    verdict(None, 0.5, "y")
    plans = {}
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        head = "EXPLAIN SELECT id FROM monitoring_detection WHERE model_version = 'v-active' AND "
        tail = " AND correction = '' AND score >= 0.5 ORDER BY score LIMIT 25"
        for name, sql, params in [
            ("brand", head + "brand_id = %s" + tail, [brand.pk]),
            ("none", head + "brand_id IS NULL" + tail, []),
        ]:
            cursor.execute(sql, params)
            plans[name] = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan using detection_label_queue on" in plans["brand"]
    assert "Index Scan using detection_label_queue_nobrand" in plans["none"]
    assert all(" Sort " not in plan and "Sort Key" not in plan for plan in plans.values())


# --- the page ------------------------------------------------------------------------


def staff_in(client, role):
    user = User.objects.create_user(f"someone-{role}", password="pw", is_staff=True)
    if role:
        user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return user


@pytest.mark.parametrize("role", ["Analyst", "Reviewer"])
def test_analysts_and_reviewers_label_with_y_and_n(client, role):
    user = staff_in(client, role)
    brand = BrandFactory()
    first = verdict(brand, 0.5, "first to label")
    second = verdict(brand, 0.6, "second to label")
    page = client.get(reverse(QUEUE)).content.decode()
    assert "first to label" in page and "second to label" not in page  # one at a time
    # y labels the post a complaint; the page then shows the next one
    response = client.post(reverse(LABEL), {"detection": first.pk, "verdict": "y"}, follow=True)
    body = response.content.decode()
    assert "second to label" in body and "first to label" not in body
    label = Label.objects.get()
    assert (label.complaint, label.source, label.post, label.brand, label.labelled_by) == (
        True,
        "queue",
        first.post,
        brand,
        user,
    )
    client.post(reverse(LABEL), {"detection": second.pk, "verdict": "n"})
    assert Label.objects.get(post=second.post).complaint is False
    figures = client.get(reverse(QUEUE)).content.decode()
    assert re.search(r'id="nj-today-mine">2<', figures)
    # the model said complaint for 0.6 and "n" disagreed; 0.5 was a complaint too and "y" agreed
    assert re.search(r'id="nj-disagreed">1<', figures)
    assert re.search(r'id="nj-disagreement">50%<', figures)
    assert "Nothing to label" in figures
    # the list shows the labels' page link for those who may label
    assert (
        "nj-label-queue-link"
        in client.get(reverse("admin:monitoring_label_changelist")).content.decode()
    )


def test_skip_moves_on_without_a_label(admin_client):
    brand = BrandFactory()
    first = verdict(brand, 0.5, "first to skip")
    verdict(brand, 0.6, "second one")
    body = admin_client.post(
        reverse(LABEL), {"detection": first.pk, "verdict": "s"}, follow=True
    ).content.decode()
    assert "second one" in body and "first to skip" not in body
    assert not Label.objects.exists()


def test_a_bad_verdict_or_post_labels_nothing(admin_client):
    d = verdict(BrandFactory(), 0.5, "x")
    for data in (
        {"detection": d.pk, "verdict": "maybe"},
        {"detection": "abc", "verdict": "y"},
        {"detection": 999999, "verdict": "y"},
    ):
        assert admin_client.post(reverse(LABEL), data).status_code == 302
    assert admin_client.get(reverse(LABEL)).status_code == 405
    assert not Label.objects.exists()


def test_staff_without_a_role_may_not_label(client):
    staff_in(client, None)
    d = verdict(BrandFactory(), 0.5, "x")
    assert client.get(reverse(QUEUE)).status_code == 403
    assert client.post(reverse(LABEL), {"detection": d.pk, "verdict": "y"}).status_code == 403
    assert not Label.objects.exists()


def test_the_list_view_escapes_hostile_text_documents_the_keys_and_has_no_inline_script(
    admin_client,
):
    brand = BrandFactory()
    verdict(brand, 0.5, HOSTILE)
    verdict(brand, 0.6, "a second post")
    body = admin_client.get(reverse(QUEUE) + "?view=list").content.decode()
    assert "<script>alert" not in body and "&lt;script&gt;" in body
    assert "a second post" in body
    assert "<kbd>y</kbd> complaint" in body and "<kbd>s</kbd> skip" in body
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", body, re.S)
    assert all("src=" in attrs and not inline.strip() for attrs, inline in scripts)
    assert "monitoring/label_queue.js" in body


def test_the_label_list_escapes_hostile_text_and_filters(admin_client):
    labels.record(HOSTILE, True, Label.Source.IMPORT)
    body = admin_client.get(
        reverse("admin:monitoring_label_changelist") + "?source=import&complaint__exact=1"
    ).content.decode()
    assert "&lt;script&gt;" in body and "<script>alert" not in body
    assert (
        admin_client.get(reverse("admin:monitoring_label_changelist") + "?q=alert").status_code
        == 200
    )
