"""Acting on a correction (issue #13, item 3): marking a detection as a complaint offers
to open its case in one step, through the workflow and all its rules; opening a case by
hand from a post shows the post and takes the kind from the brand."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from monitoring.models import Brand, Detection
from outreach import workflow
from outreach.models import Case, DoNotContact, PlaybookKind
from tests.factories import DetectionFactory
from tests.outreach.factories import COMPLAINT, PostFactory

pytestmark = pytest.mark.django_db

HOSTILE = 'Telvana <script>alert("x")</script> cut me off again, third time this week'


@pytest.fixture
def missed(world: None, competitor: Brand) -> Detection:
    """A complaint the classifier missed, corrected by a reviewer."""
    post = PostFactory(text=HOSTILE)
    return DetectionFactory(
        post=post,
        brand=competitor,
        complaint=False,
        triage=Detection.Triage.NOT_COMPLAINT,
        correction=Detection.Correction.COMPLAINT,
    )


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _messages(response: Any) -> str:
    return " | ".join(str(m) for m in response.context["messages"])


# --- Through the workflow -------------------------------------------------------------------


def test_a_corrected_detection_opens_a_competitor_case(missed: Detection, analyst: Any) -> None:
    case = workflow.open_for_detection(missed.pk, actor=analyst)
    assert case.kind == PlaybookKind.COMPETITOR and case.post_id == missed.post_id
    missed.refresh_from_db()
    assert missed.triage == Detection.Triage.OPENED and f"case {case.pk}" in missed.triage_note


def test_a_complaint_about_us_opens_an_own_brand_case(
    world: None, own_brand: Brand, own_playbook: Any, analyst: Any
) -> None:
    detection = DetectionFactory(
        post=PostFactory(text="Northwind billed me twice"), brand=own_brand
    )
    case = workflow.open_for_detection(detection.pk, actor=analyst)
    assert case.kind == PlaybookKind.OWN_BRAND


def test_an_unknown_detection_is_refused(world: None, analyst: Any) -> None:
    with pytest.raises(workflow.WorkflowError, match="no detection #424242"):
        workflow.open_for_detection(424242, actor=analyst)


@pytest.mark.parametrize(
    ("complaint", "correction"),
    [(False, ""), (True, Detection.Correction.NOT_COMPLAINT), (True, "wrong_brand")],
)
def test_a_detection_that_is_not_a_complaint_opens_nothing(
    world: None, competitor: Brand, analyst: Any, complaint: bool, correction: str
) -> None:
    detection = DetectionFactory(
        post=PostFactory(text=COMPLAINT),
        brand=competitor,
        complaint=complaint,
        correction=correction,
    )
    with pytest.raises(workflow.WorkflowError, match="not a complaint"):
        workflow.open_for_detection(detection.pk, actor=analyst)
    assert not Case.objects.exists()


def test_a_person_on_the_do_not_contact_list_gets_no_case(missed: Detection, analyst: Any) -> None:
    DoNotContact.objects.create(
        platform="sandbox", person_external_id=missed.post.author.external_id, reason="asked"
    )
    with pytest.raises(workflow.RuleViolation, match="do-not-contact"):
        workflow.open_for_detection(missed.pk, actor=analyst)


def test_a_second_competitor_case_for_the_person_is_still_refused(
    missed: Detection, competitor: Brand, analyst: Any
) -> None:
    first = PostFactory(author=missed.post.author, text=COMPLAINT)
    workflow.open_case(first.pk, competitor.pk, PlaybookKind.COMPETITOR)
    with pytest.raises(workflow.RuleViolation, match="already has an open case"):
        workflow.open_for_detection(missed.pk, actor=analyst)
    missed.refresh_from_db()
    assert missed.triage == Detection.Triage.NOT_COMPLAINT


def test_a_brands_own_account_gets_no_case(world: None, competitor: Brand, analyst: Any) -> None:
    Brand.objects.filter(pk=competitor.pk).update(handles={"sandbox": ["@telvana_help"]})
    post = PostFactory(text=COMPLAINT, author__handle="telvana_help")
    detection = DetectionFactory(post=post, brand=competitor)
    with pytest.raises(workflow.WorkflowError, match="brand's own account"):
        workflow.open_for_detection(detection.pk, actor=analyst)


# --- Through the admin -------------------------------------------------------------------------


def test_marking_a_complaint_offers_its_case_and_opens_it_in_one_step(
    world: None, competitor: Brand, analyst: Any
) -> None:
    detection = DetectionFactory(post=PostFactory(text=HOSTILE), brand=competitor, complaint=False)
    client = _client(analyst)
    response = client.post(
        reverse("admin:monitoring_detection_changelist"),
        {"action": "mark_complaint", "_selected_action": [detection.pk]},
        follow=True,
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith(reverse("admin:outreach_case_from_detections"))
    assert "will be used the next time the classifier is trained" in body
    assert "&lt;script&gt;" in body and "<script>alert" not in body
    assert "Competitor complaint" in body
    response = client.post(
        reverse("admin:outreach_case_from_detections"),
        {"ids": str(detection.pk), "severity": 3},
        follow=True,
    )
    case = Case.objects.get(post=detection.post)
    assert response.redirect_chain[-1][0] == reverse("admin:outreach_case_change", args=[case.pk])
    assert case.severity == 3 and case.kind == PlaybookKind.COMPETITOR
    assert f"Opened case {case.pk}" in _messages(response)


def test_a_refusal_is_a_message_not_a_server_error(missed: Detection, analyst: Any) -> None:
    DoNotContact.objects.create(
        platform="sandbox", person_external_id=missed.post.author.external_id, reason="asked"
    )
    response = _client(analyst).post(
        reverse("admin:outreach_case_from_detections"),
        {"ids": f"{missed.pk},999999", "severity": 2},
        follow=True,
    )
    assert response.status_code == 200
    text = _messages(response)
    assert f"detection #{missed.pk}: Refused by rule 6" in text
    assert "detection #999999: there is no detection" in text
    assert not Case.objects.exists()


@pytest.mark.parametrize("ids", ["abc", "1;DROP", "", ",,", "-1", "99999999999999999999"])
def test_bad_ids_are_reported_not_crashed_on(world: None, analyst: Any, ids: str) -> None:
    client = _client(analyst)
    url = reverse("admin:outreach_case_from_detections")
    assert client.get(url, {"ids": ids}).status_code == 200
    assert client.post(url, {"ids": ids}, follow=True).status_code == 200
    assert not Case.objects.exists()


def test_a_detection_that_is_not_a_complaint_is_shown_but_not_offered(
    world: None, competitor: Brand, analyst: Any
) -> None:
    detection = DetectionFactory(
        post=PostFactory(text=COMPLAINT), brand=competitor, complaint=False
    )
    body = (
        _client(analyst)
        .get(reverse("admin:outreach_case_from_detections"), {"ids": detection.pk})
        .content.decode()
    )
    assert "not a complaint" in body and "Open the cases" not in body


def test_opening_cases_for_detections_needs_the_case_permission(missed: Detection) -> None:
    from django.contrib.auth.models import User

    viewer = User.objects.create_user("viewer", is_staff=True)
    response = _client(viewer).post(
        reverse("admin:outreach_case_from_detections"), {"ids": str(missed.pk)}
    )
    assert response.status_code == 403
    assert not Case.objects.exists()


def test_the_open_form_shows_the_post_escaped_and_its_brand(
    missed: Detection, analyst: Any
) -> None:
    url = reverse("admin:outreach_case_add")
    body = _client(analyst).get(url, {"post": missed.post_id}).content.decode()
    assert "&lt;script&gt;" in body and "<script>alert" not in body
    assert "detected brand: <b>Telvana</b>" in body
    assert 'name="kind"' not in body


@pytest.mark.parametrize("post", ["abc", "999999", "-3"])
def test_the_open_form_with_a_bad_post_id_still_renders(
    world: None, analyst: Any, post: str
) -> None:
    url = reverse("admin:outreach_case_add")
    response = _client(analyst).get(url, {"post": post})
    assert response.status_code == 200 and 'id="nj-open-post"' not in response.content.decode()


@pytest.mark.parametrize(
    ("brand_fixture", "kind"),
    [("own_brand", PlaybookKind.OWN_BRAND), ("competitor", PlaybookKind.COMPETITOR)],
)
def test_opening_by_hand_picks_the_kind_from_the_brand(
    world: None, own_playbook: Any, analyst: Any, request: Any, brand_fixture: str, kind: str
) -> None:
    brand = request.getfixturevalue(brand_fixture)
    post = PostFactory(text=COMPLAINT)
    _client(analyst).post(
        reverse("admin:outreach_case_add"),
        # A "kind" sent by hand is not a field of the form: the brand decides.
        {"post_id": post.pk, "brand": brand.pk, "kind": "competitor", "severity": 2},
    )
    assert Case.objects.get(post=post).kind == kind
