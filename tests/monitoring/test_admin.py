"""Monitoring admin pages: they render, escape hostile posts, and keep a constant query count."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from monitoring import incidents
from monitoring.models import ClassifierVersion, Detection, Incident, Source
from tests.factories import BrandFactory, PersonFactory, PostFactory, SourceFactory

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert('x')</script> <b>bold</b> \u202eevil"


@pytest.fixture
def staff(admin_client):
    return admin_client


def detection(post, brand, **kwargs):
    defaults = dict(complaint=True, score=0.91, topic="outage", model_version="test")
    defaults.update(kwargs)
    return Detection.objects.create(post=post, brand=brand, posted_at=post.posted_at, **defaults)


@pytest.mark.parametrize(
    "model",
    [
        "brand",
        "source",
        "person",
        "post",
        "detection",
        "incident",
        "classifierversion",
        "label",
        "sandboxpost",
        "sandboxpersona",
        "sandboxnotification",
        "sandboxfollow",
    ],
)
def test_every_monitoring_list_page_renders(staff, model):
    response = staff.get(reverse(f"admin:monitoring_{model}_changelist"))
    assert response.status_code == 200


def test_hostile_post_text_is_escaped_in_the_post_list_and_page(staff):
    post = PostFactory(text=HOSTILE)
    for url in (
        reverse("admin:monitoring_post_changelist"),
        reverse("admin:monitoring_post_change", args=[post.pk]),
    ):
        body = staff.get(url).content.decode()
        assert "<script>alert" not in body
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body


def test_the_post_list_keeps_a_constant_query_count(staff):
    PostFactory.create_batch(3, source=SourceFactory())
    url = reverse("admin:monitoring_post_changelist")
    with CaptureQueriesContext(connection) as few:
        staff.get(url)
    PostFactory.create_batch(40, source=SourceFactory())
    with CaptureQueriesContext(connection) as many:
        staff.get(url)
    assert len(many) == len(few)


def test_the_detection_list_keeps_a_constant_query_count(staff):
    brand = BrandFactory()
    for post in PostFactory.create_batch(3):
        detection(post, brand)
    url = reverse("admin:monitoring_detection_changelist")
    with CaptureQueriesContext(connection) as few:
        staff.get(url)
    for post in PostFactory.create_batch(30):
        detection(post, brand)
    with CaptureQueriesContext(connection) as many:
        staff.get(url)
    assert len(many) == len(few)


def test_the_detection_list_shows_the_posts_waiting_for_a_person_because_of_their_language(
    staff,
):
    # Given a post in a language the classifier does not cover, and one it judged
    brand = BrandFactory()
    flagged = detection(
        PostFactory(text="Telvana mi ha addebitato due volte", lang="it"),
        brand,
        complaint=False,
        language="it",
        triage=Detection.Triage.LANGUAGE_NOT_COVERED,
    )
    detection(PostFactory(text="telvana is down"), brand, language="en", triage="opened")
    url = reverse("admin:monitoring_detection_changelist")
    # When the list is filtered to "Language not covered" (a choice of the triage filter)
    page = staff.get(url).content.decode()
    body = staff.get(url, {"triage__exact": "language_not_covered"}).content.decode()
    # Then the filter is offered, and it lists that post with its language, and only it
    assert "Language not covered: judge it" in page
    assert flagged.post.text in body and "telvana is down" not in body
    assert '<td class="field-language">it</td>' in body


def test_the_incident_page_shows_its_posts_and_a_volume_chart(staff):
    brand = BrandFactory(name="Zephyrline")
    now = timezone.now()
    for i in range(3):
        detection(PostFactory(text=f"{HOSTILE} {i}", posted_at=now - dt.timedelta(hours=i)), brand)
    incidents.assign(Detection.objects.values_list("pk", flat=True))
    incident = Incident.objects.get()
    body = staff.get(
        reverse("admin:monitoring_incident_change", args=[incident.pk])
    ).content.decode()
    # Two hours old: a bar per 5 minutes (25 of them), the normal rate as a line.
    assert "<svg" in body and body.count("<rect") == 25
    assert "complaints per 5 minutes" in body and "dashed line: the brand's normal rate" in body
    assert f"{HOSTILE} 0" not in body  # the posts' text is shown escaped
    assert "<script>alert" not in body


def test_a_reviewer_correction_is_recorded_with_who_and_when(staff, admin_user):
    d = detection(PostFactory(), BrandFactory())
    response = staff.post(
        reverse("admin:monitoring_detection_changelist"),
        {"action": "mark_not_complaint", "_selected_action": [d.pk]},
        follow=True,
    )
    assert "will be used the next time the classifier is trained" in response.content.decode()
    d.refresh_from_db()
    assert d.correction == "not_complaint" and d.corrected_by == admin_user
    assert d.complaint  # the model's verdict itself is kept


def test_activating_a_classifier_version_deactivates_the_other(staff):
    old = ClassifierVersion.objects.create(version="v1", blob=b"x", active=True)
    # measured against v1 and better on the team's labels: no confirmation asked
    kfold = {"folds": 5, "macro_f1": 0.8, "active_macro_f1": 0.7, "active_pk": old.pk}
    new = ClassifierVersion.objects.create(version="v2", blob=b"y", metrics={"kfold": kfold})
    staff.post(
        reverse("admin:monitoring_classifierversion_changelist"),
        {"action": "activate", "_selected_action": [new.pk]},
    )
    assert list(ClassifierVersion.objects.filter(active=True)) == [new]
    old.refresh_from_db()
    assert not old.active


def test_the_source_page_shows_why_a_source_was_disabled(staff):
    source = SourceFactory(enabled=False, disabled_reason="401: The access token is invalid")
    body = staff.get(reverse("admin:monitoring_source_changelist")).content.decode()
    assert "401: The access token is invalid" in body
    body = staff.get(reverse("admin:monitoring_source_change", args=[source.pk])).content.decode()
    assert "401: The access token is invalid" in body


def test_test_connection_reports_what_the_platform_found(staff):
    source = SourceFactory()
    response = staff.post(
        reverse("admin:monitoring_source_changelist"),
        {"action": "test_connection", "_selected_action": [source.pk]},
        follow=True,
    )
    assert "Sandbox network:" in response.content.decode()


def test_poll_now_skips_disabled_sources_and_says_so(staff):
    on, off = SourceFactory(name="on"), SourceFactory(name="off", enabled=False)
    response = staff.post(
        reverse("admin:monitoring_source_changelist"),
        {"action": "poll_now", "_selected_action": [on.pk, off.pk]},
        follow=True,
    )
    body = response.content.decode()
    assert "Queued a poll for 1 source(s)." in body
    assert "Skipped: off (disabled)" in body
    assert Source.objects.get(pk=on.pk).last_polled_at is not None


def test_source_credentials_are_write_only_in_the_admin(staff, secrets_key):
    source = SourceFactory(platform="x")
    url = reverse("admin:monitoring_source_change", args=[source.pk])
    form = staff.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        terms='["telvana"]',
        exclusions="[]",
        options="{}",
        credentials="bearer_token=s3cr3t-value",
        next_poll_at_0="2026-11-23",
        next_poll_at_1="12:00:00",
        account="",
        brand="",
        language="",
    )
    data.pop("next_poll_at", None)
    response = staff.post(url, data, follow=True)
    assert response.status_code == 200
    source.refresh_from_db()
    assert source.credentials_encrypted and "s3cr3t" not in source.credentials_encrypted
    assert source.adapter_settings()[0] == {"bearer_token": "s3cr3t-value"}
    page = staff.get(url).content.decode()
    assert "s3cr3t" not in page


@pytest.mark.parametrize("role", ["Analyst", "Reviewer"])
def test_analysts_and_reviewers_see_verdicts_and_incidents_and_may_correct(client, role):
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user("someone", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    for page in ["detection", "incident", "post", "source"]:
        assert client.get(reverse(f"admin:monitoring_{page}_changelist")).status_code == 200
    d = detection(PostFactory(), BrandFactory())
    client.post(
        reverse("admin:monitoring_detection_changelist"),
        {"action": "mark_wrong_brand", "_selected_action": [d.pk]},
    )
    d.refresh_from_db()
    assert d.correction == "wrong_brand"
    # Activating a classifier is the Admin group's.
    version = ClassifierVersion.objects.create(version="v9", blob=b"x")
    client.post(
        reverse("admin:monitoring_classifierversion_changelist"),
        {"action": "activate", "_selected_action": [version.pk]},
    )
    version.refresh_from_db()
    assert not version.active


def test_test_connection_on_an_account_reports_what_the_platform_found(staff, secrets_key):
    from monitoring.models import Account

    account = Account.objects.create(platform="sandbox", handle="northwind_care")
    broken = Account(platform="mastodon", handle="nobody")
    broken.set_credentials({"access_token": "t0ken-never-shown"})
    broken.save()
    response = staff.post(
        reverse("admin:monitoring_account_changelist"),
        {"action": "test_connection", "_selected_action": [account.pk, broken.pk]},
        follow=True,
    )
    body = response.content.decode()
    assert "posting as @northwind_care" in body
    assert "@nobody (mastodon):" in body  # the platform's refusal, shown as an error
    assert "t0ken-never-shown" not in body


def test_bidi_controls_are_marked_on_the_post_and_person_pages(staff):
    person = PersonFactory(handle="gpj\u202eexe", display_name="name \u2066x")
    post = PostFactory(author=person, text="see \u202eevil")
    for url in [
        reverse("admin:monitoring_post_changelist"),
        reverse("admin:monitoring_post_change", args=[post.pk]),
        reverse("admin:monitoring_person_changelist"),
        reverse("admin:monitoring_person_change", args=[person.pk]),
    ]:
        body = staff.get(url).content.decode()
        # The row checkbox's aria-label is read aloud, not laid out: it cannot reorder the page.
        body = re.sub(r'aria-label="[^"]*"', "", body)
        assert "\u202e" not in body and "\u2066" not in body, url
        assert "[U+202E]" in body, url
