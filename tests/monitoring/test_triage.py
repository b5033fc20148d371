"""Triage: every judged post either opens a case through the workflow or says why not."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.db.models import Count
from django.utils import timezone

from monitoring import triage
from monitoring.models import Brand, Detection, Incident, Post
from outreach import workflow
from outreach.models import Case, DoNotContact, PlaybookKind
from tests.outreach.factories import AccountFactory, PersonFactory, PlaybookFactory, PostFactory

pytestmark = pytest.mark.django_db
Triage = Detection.Triage


@dataclass
class Verdict:
    complaint: bool
    score: float
    sentiment: float
    topic: str
    model: str = "fake-1"


class FakeModel:
    """Triage is the subject here, not the classifier: "#fine" marks a non-complaint."""

    def predict(self, texts):
        return [
            Verdict(False, 0.1, 0.5, "") if "#fine" in t else Verdict(True, 0.9, -0.6, "outage")
            for t in texts
        ]


@pytest.fixture(autouse=True)
def fake_model(monkeypatch):
    monkeypatch.setattr(triage, "active_model", FakeModel)


@pytest.fixture
def brands(db):
    own = Brand.objects.create(
        name="Northwind", kind="own", handles={"sandbox": ["@northwind", "@northwind_help"]}
    )
    telvana = Brand.objects.create(
        name="Telvana",
        kind="competitor",
        aliases=["Telvana Home"],
        handles={"sandbox": ["@telvana"]},
    )
    return own, telvana


@pytest.fixture
def playbooks(db):
    return (
        PlaybookFactory(kind=PlaybookKind.COMPETITOR, version=1, max_replies_per_brand_per_day=20),
        PlaybookFactory(kind=PlaybookKind.OWN_BRAND, version=1, due_hours=2),
    )


def judge(*posts: Post) -> dict[str, str]:
    """Run the pipeline; return each post's triage outcome by its text."""
    triage.run()
    return dict(Detection.objects.filter(post__in=posts).values_list("post__text", "triage"))


def test_a_fresh_competitor_complaint_opens_a_competitor_case(brands, playbooks):
    post = PostFactory(text="telvana home has been down all day, third time this week")
    assert judge(post) == {post.text: Triage.OPENED}
    case = Case.objects.get()
    assert (case.kind, case.brand.name, case.post_id) == (
        PlaybookKind.COMPETITOR,
        "Telvana",
        post.pk,
    )


def test_an_own_brand_complaint_opens_a_service_case_with_its_shorter_due_time(brands, playbooks):
    post = PostFactory(text="@northwind my fibre is down and nobody answers the phone")
    assert judge(post) == {post.text: Triage.OPENED}
    case = Case.objects.get()
    assert case.kind == PlaybookKind.OWN_BRAND
    assert case.due_at <= timezone.now() + dt.timedelta(hours=2)


def test_a_post_naming_both_brands_is_our_own_service_case_first(brands, playbooks):
    post = PostFactory(text="left telvana for northwind and now northwind is down too")
    judge(post)
    assert Case.objects.get().kind == PlaybookKind.OWN_BRAND


def test_each_reason_for_not_opening_a_case_is_recorded(brands, playbooks):
    _, telvana = brands
    AccountFactory(platform="sandbox", handle="northwind_care")
    listed = PersonFactory(handle="leave_me_be")
    DoNotContact.objects.create(
        platform="sandbox", person_external_id=listed.external_id, reason="asked"
    )
    talking = PersonFactory(handle="already_talking")
    earlier = PostFactory(author=talking, text="telvana lost my order")
    workflow.open_case(earlier.pk, telvana.pk, PlaybookKind.COMPETITOR)
    Detection.objects.create(
        post=earlier,
        posted_at=earlier.posted_at,
        complaint=True,
        score=1,
        model_version="x",
        triage=Triage.OPENED,
    )
    posts = {
        Triage.NO_BRAND: PostFactory(text="my router is down again"),
        Triage.NOT_COMPLAINT: PostFactory(text="telvana fixed it in ten minutes #fine"),
        Triage.OUR_ACCOUNT: PostFactory(
            text="telvana customers: outage is on their side",
            author=PersonFactory(handle="northwind_care"),
        ),
        Triage.BRAND_ACCOUNT: PostFactory(
            text="Telvana: we are aware of the outage", author=PersonFactory(handle="telvana")
        ),
        Triage.DO_NOT_CONTACT: PostFactory(text="telvana down again", author=listed),
        Triage.IN_CONVERSATION: PostFactory(text="telvana still down", author=talking),
        Triage.TOO_OLD: PostFactory(
            text="telvana down", posted_at=timezone.now() - dt.timedelta(days=5)
        ),
    }
    outcomes = judge(*posts.values())
    assert {outcomes[post.text]: reason for reason, post in posts.items()} == {
        reason: reason for reason in posts
    }
    assert Case.objects.count() == 1


def test_a_person_in_cooldown_after_a_closed_case_gets_no_new_case(brands, playbooks):
    _, telvana = brands
    person = PersonFactory()
    case = workflow.open_case(
        PostFactory(author=person, text="telvana x").pk, telvana.pk, PlaybookKind.COMPETITOR
    )
    workflow.dismiss(case, actor=None, reason="not a real complaint")
    post = PostFactory(author=person, text="telvana is down again")
    assert judge(post)[post.text] == Triage.COOLDOWN


def test_without_an_active_playbook_nothing_opens_and_the_reason_says_so(brands):
    post = PostFactory(text="telvana is down")
    assert judge(post) == {post.text: Triage.NO_PLAYBOOK}


def outcome_counts() -> dict[str, int]:
    return dict(Detection.objects.values_list("triage").annotate(n=Count("pk")).order_by())


def test_a_burst_about_one_competitor_opens_cases_only_up_to_the_caps(brands, playbooks):
    # Given a playbook that allows 5 replies per incident and 20 per brand a day
    posts = [PostFactory(text=f"telvana outage, day ruined ({i})") for i in range(1000)]
    # When the whole burst is judged
    judged = 0
    while done := triage.run(limit=500):
        judged += done
    # Then it is one incident, and only the incident's cap of cases is opened
    assert judged == 1000
    incident = Incident.objects.get()
    assert incident.volume == len(posts)
    assert Case.objects.count() == 5
    # and every case opened is linked to the incident its post belongs to
    assert set(Case.objects.values_list("incident_id", flat=True)) == {incident.pk}
    assert outcome_counts() == {Triage.OPENED: 5, Triage.CAP_REACHED: 995}


def test_complaints_spread_over_topics_stop_at_the_brands_daily_cap(brands, playbooks, monkeypatch):
    topics = iter(f"topic-{i}" for i in range(10_000))

    class SpreadModel(FakeModel):
        def predict(self, texts):
            return [Verdict(True, 0.9, -0.6, next(topics)) for _ in texts]

    monkeypatch.setattr(triage, "active_model", SpreadModel)
    for i in range(30):
        PostFactory(text=f"telvana let me down ({i})")
    triage.run()
    assert Case.objects.count() == 20
    assert outcome_counts() == {Triage.OPENED: 20, Triage.CAP_REACHED: 10}


def test_own_brand_service_cases_have_no_cap(brands, playbooks):
    for i in range(30):
        PostFactory(text=f"@northwind my fibre is down ({i})")
    triage.run()
    assert Case.objects.filter(kind=PlaybookKind.OWN_BRAND).count() == 30


def test_judging_twice_never_judges_a_post_twice(brands, playbooks):
    PostFactory.create_batch(3, text="telvana is down")
    assert triage.run() == 3
    assert triage.run() == 0
    assert Detection.objects.count() == 3


def test_every_detection_records_the_model_version_and_the_brands_named(brands, playbooks):
    post = PostFactory(text="telvana home or northwind? both down #fine")
    triage.run()
    detection = Detection.objects.get(post=post)
    assert detection.model_version == "fake-1"
    assert set(detection.brands.values_list("name", flat=True)) == {"Northwind", "Telvana"}


# --- The wiring: monitoring hands detections on; it never imports outreach ---------------


def test_without_a_triage_hook_detections_wait_untriaged(brands, playbooks, settings):
    settings.NOJACKAL_AFTER_DETECTION = ""
    post = PostFactory(text="telvana is down again, third time this week")
    assert judge(post) == {post.text: Triage.PENDING}
    assert not Case.objects.exists()


def test_the_configured_triage_is_outreachs():
    from django.conf import settings

    from outreach.workflow.triage import triage as outreach_triage

    assert triage.after_detection() is outreach_triage
    assert settings.NOJACKAL_AFTER_DETECTION == "outreach.workflow.triage.triage"


@pytest.mark.parametrize("module", ["triage", "tasks", "incidents"])
def test_the_monitoring_pipeline_does_not_import_outreach(module):
    import ast
    from pathlib import Path

    import monitoring

    source = (Path(monitoring.__file__).parent / f"{module}.py").read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    assert not {name for name in imported if name.split(".")[0] == "outreach"}


# --- Languages the classifier does not cover reach a person ---------------------------------


def test_a_complaint_in_an_uncovered_language_goes_to_a_person_not_to_a_case(brands, playbooks):
    # Given a post about a brand that its platform says is Italian (the fake model calls
    # it a complaint; the real one cannot read Italian either way)
    post = PostFactory(text="Telvana mi ha addebitato due volte, nessun rimborso", lang="it")
    # When it is judged
    outcome = judge(post)
    # Then no case opens on a verdict the model cannot give, and it waits for a person
    assert outcome == {post.text: Triage.LANGUAGE_NOT_COVERED}
    assert Detection.objects.get().language == "it"
    assert not Case.objects.exists()


def test_a_non_complaint_verdict_in_an_uncovered_language_is_not_dismissed(brands, playbooks):
    # Given an uncovered-language post the model scores as "not a complaint"
    post = PostFactory(
        text="Telvana: internet nie działa od wczoraj i nikt nie odbiera telefonu #fine"
    )
    # Then it is flagged for a person instead of being recorded as "not a complaint"
    assert judge(post) == {post.text: Triage.LANGUAGE_NOT_COVERED}
    assert Detection.objects.get().language == "pl"


def test_covered_languages_are_triaged_as_before_and_record_their_language(brands, playbooks):
    posts = {
        "fr": PostFactory(text="Telvana en panne depuis ce matin, personne ne répond au téléphone"),
        "pt": PostFactory(text="a Telvana cobrou duas vezes e ninguém atende", lang="pt-BR"),
        "en": PostFactory(text="telvana home has been down all day and nobody answers"),
        "": PostFactory(text="ugh @telvana"),
    }
    outcomes = judge(*posts.values())
    assert set(outcomes.values()) == {Triage.OPENED}
    languages = dict(Detection.objects.values_list("post__text", "language"))
    assert {code: languages[post.text] for code, post in posts.items()} == {c: c for c in posts}


def test_an_uncovered_post_without_a_brand_or_from_a_brand_account_keeps_that_reason(
    brands, playbooks
):
    unbranded = PostFactory(text="La connessione non funziona da ieri", lang="it")
    official = PostFactory(
        text="Telvana: stiamo lavorando al guasto",
        lang="it",
        author=PersonFactory(handle="telvana"),
    )
    assert judge(unbranded, official) == {
        unbranded.text: Triage.NO_BRAND,
        official.text: Triage.BRAND_ACCOUNT,
    }


def test_a_person_can_open_the_case_of_a_post_in_an_uncovered_language(
    brands, playbooks, admin_user
):
    # Given an Italian complaint flagged for a person
    post = PostFactory(text="Telvana mi ha addebitato due volte, nessun rimborso", lang="it")
    judge(post)
    detection = Detection.objects.get()
    # When a reviewer marks it a complaint and opens its case (the detection list's flow)
    Detection.objects.filter(pk=detection.pk).update(correction=Detection.Correction.COMPLAINT)
    case = workflow.open_for_detection(detection.pk, actor=admin_user)
    # Then the case opens like any other
    assert case.post_id == post.pk
    assert Detection.objects.get().triage == Triage.OPENED


def test_each_brand_threshold_decides_what_is_a_complaint_about_it(brands, playbooks):
    # given our own brand with a low threshold (chosen on the team's labels: miss nothing)
    # and a competitor with a high one; the model scores "#fine" posts 0.1, others 0.9
    own, telvana = brands
    Brand.objects.filter(pk=own.pk).update(threshold=0.05)
    Brand.objects.filter(pk=telvana.pk).update(threshold=0.95)
    ours = PostFactory(text="@northwind the app logged me out again #fine")
    theirs = PostFactory(text="telvana home has been down all day")
    # when triage judges them
    outcomes = judge(ours, theirs)
    # then each score is cut at its brand's threshold, not at the model's 0.5
    verdicts = dict(Detection.objects.values_list("post__text", "complaint"))
    assert verdicts == {ours.text: True, theirs.text: False}
    assert outcomes == {ours.text: Triage.OPENED, theirs.text: Triage.NOT_COMPLAINT}
    assert Case.objects.get().kind == PlaybookKind.OWN_BRAND


def test_a_brand_without_a_threshold_keeps_the_model_verdict(brands, playbooks):
    post = PostFactory(text="telvana fixed it in ten minutes #fine")
    assert judge(post) == {post.text: Triage.NOT_COMPLAINT}
