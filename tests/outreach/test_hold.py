"""No dropped customer (issue #13, item 2): an own-brand complaint from a person with an
open competitor case opens its own-brand case and puts the competitor case on hold; no
outreach goes to someone we are serving; the hold lifts when the own-brand case closes.
Rule 6 keeps its purpose: never two competitor cases, never two own-brand cases."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Brand, Detection, Post
from outreach import dispatch, expiry, workflow
from outreach.models import Case, CaseEvent, DoNotContact, OutboundAction, PlaybookKind, Stage
from outreach.workflow import triage
from tests.factories import DetectionFactory
from tests.outreach.factories import COMPLAINT, GOOD_REPLY, PostFactory, sandbox_post

pytestmark = pytest.mark.django_db

OWN_COMPLAINT = "Northwind billed me twice this month, really annoyed"


@pytest.fixture
def serve(own_brand: Brand, own_playbook: Any) -> Any:
    """Open an own-brand case for the author of ``case``'s post, as triage would."""

    def _serve(case: Case) -> Case:
        post = PostFactory(author=case.person, text=OWN_COMPLAINT, posted_at=timezone.now())
        return workflow.open_case(post.pk, own_brand.pk, PlaybookKind.OWN_BRAND)

    return _serve


def _events(case: Case) -> list[tuple[str, str]]:
    return list(CaseEvent.objects.filter(case=case).values_list("action", "note"))


def _reload(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


# --- Opening -----------------------------------------------------------------------------


def test_a_customer_with_an_open_competitor_case_gets_an_own_brand_case(
    advance: Any, serve: Any
) -> None:
    competitor_case = advance(Stage.NEW)
    own = serve(competitor_case)
    assert own.kind == PlaybookKind.OWN_BRAND and own.stage == Stage.NEW
    held = _reload(competitor_case)
    assert held.on_hold and held.held_by_id == own.pk and held.stage == Stage.NEW
    assert [a for a, _ in _events(held)][-1] == "hold"
    assert f"own-brand case {own.pk}" in _events(held)[-1][1]
    assert ("hold", f"competitor case {held.pk} put on hold while we serve this person") in (
        _events(own)
    )


def test_triage_opens_the_own_brand_case_instead_of_refusing_it(
    advance: Any, own_brand: Brand, own_playbook: Any
) -> None:
    competitor_case = advance(Stage.DRAFTING)
    post = PostFactory(author=competitor_case.person, text=OWN_COMPLAINT)
    detection = DetectionFactory(post=post, brand=own_brand)
    assert triage.triage([detection.pk]) == {Detection.Triage.OPENED: 1}
    own = Case.objects.get(post=post)
    assert _reload(competitor_case).held_by_id == own.pk


def test_a_competitor_case_opened_after_triage_read_its_batch_is_put_on_hold(
    advance: Any, own_brand: Brand, own_playbook: Any
) -> None:
    from outreach.workflow.opening import Batch

    own_post = PostFactory(text=OWN_COMPLAINT, posted_at=timezone.now())
    # Triage reads the batch while the person has no open case (no hold to look for)...
    batch = Batch.read([Post.objects.select_related("author").get(pk=own_post.pk)])
    # ...and another worker opens their competitor case before the own-brand case.
    competitor_case = advance(Stage.NEW, post=PostFactory(author=own_post.author))
    own = workflow.open_case(own_post.pk, own_brand.pk, PlaybookKind.OWN_BRAND, batch=batch)
    assert own.kind == PlaybookKind.OWN_BRAND and own.stage == Stage.NEW
    held = _reload(competitor_case)
    assert held.on_hold and held.held_by_id == own.pk


def test_a_second_competitor_case_is_still_refused(
    advance: Any, serve: Any, competitor: Brand
) -> None:
    held = advance(Stage.NEW)
    serve(held)
    another = PostFactory(author=held.person, text=COMPLAINT)
    with pytest.raises(workflow.RuleViolation, match="already has an open case") as refused:
        workflow.open_case(another.pk, competitor.pk, PlaybookKind.COMPETITOR)
    assert refused.value.rule is workflow.ONE_CONVERSATION


def test_a_competitor_case_while_we_serve_the_person_is_refused(
    own_brand: Brand, own_playbook: Any, world: None, competitor: Brand
) -> None:
    own_post = PostFactory(text=OWN_COMPLAINT)
    workflow.open_case(own_post.pk, own_brand.pk, PlaybookKind.OWN_BRAND)
    theirs = PostFactory(author=own_post.author, text=COMPLAINT)
    with pytest.raises(workflow.RuleViolation, match="already has an open case"):
        workflow.open_case(theirs.pk, competitor.pk, PlaybookKind.COMPETITOR)


def test_a_second_own_brand_case_is_refused(advance: Any, serve: Any) -> None:
    held = advance(Stage.NEW)
    serve(held)
    with pytest.raises(workflow.RuleViolation, match="already has an open case"):
        serve(held)
    assert Case.objects.filter(person=held.person).count() == 2


def test_a_competitor_case_closed_last_week_does_not_turn_the_customer_away(
    advance: Any, serve: Any, analyst: Any
) -> None:
    # Service first: an open competitor case does not stand in the way, so a closed one
    # must not either (its cooldown keeps our outreach away, not our service).
    closed = advance(Stage.NEW)
    workflow.dismiss(closed, actor=analyst, reason="not a complaint")
    own = serve(closed)
    assert own.kind == PlaybookKind.OWN_BRAND and own.stage == Stage.NEW


def test_triage_serves_a_customer_whose_competitor_case_just_closed(
    advance: Any, analyst: Any, own_brand: Brand, own_playbook: Any
) -> None:
    closed = advance(Stage.NEW)
    workflow.dismiss(closed, actor=analyst, reason="not a complaint")
    post = PostFactory(author=closed.person, text=OWN_COMPLAINT)
    detection = DetectionFactory(post=post, brand=own_brand)
    assert triage.triage([detection.pk]) == {Detection.Triage.OPENED: 1}


def test_an_own_brand_case_closed_last_week_still_starts_the_cooldown(
    advance: Any, serve: Any, analyst: Any, own_playbook: Any
) -> None:
    first = serve(advance(Stage.NEW))
    workflow.dismiss(first, actor=analyst, reason="answered elsewhere")
    with pytest.raises(workflow.RuleViolation, match="days ago") as refused:
        serve(first)
    assert refused.value.reason == "cooldown"


def test_outreach_after_an_own_brand_case_still_waits_out_the_cooldown(
    own_brand: Brand, own_playbook: Any, world: None, competitor: Brand, analyst: Any
) -> None:
    own_post = PostFactory(text=OWN_COMPLAINT)
    own = workflow.open_case(own_post.pk, own_brand.pk, PlaybookKind.OWN_BRAND)
    workflow.dismiss(own, actor=analyst, reason="answered elsewhere")
    theirs = PostFactory(author=own_post.author, text=COMPLAINT)
    with pytest.raises(workflow.RuleViolation, match="days ago"):
        workflow.open_case(theirs.pk, competitor.pk, PlaybookKind.COMPETITOR)


def test_a_person_on_the_do_not_contact_list_gets_no_case_and_no_hold(
    advance: Any, serve: Any
) -> None:
    held = advance(Stage.NEW)
    DoNotContact.objects.create(
        platform=held.platform, person_external_id=held.person.external_id, reason="asked"
    )
    with pytest.raises(workflow.RuleViolation, match="do-not-contact"):
        serve(held)
    assert not _reload(held).on_hold


# --- While held ---------------------------------------------------------------------------


def test_no_claim_on_a_held_case(advance: Any, serve: Any, analyst: Any) -> None:
    held = advance(Stage.NEW)
    serve(held)
    with pytest.raises(workflow.RuleViolation, match="on hold"):
        workflow.claim(held, actor=analyst)


def test_no_draft_or_submit_on_a_held_case(advance: Any, serve: Any, analyst: Any) -> None:
    held = advance(Stage.DRAFTING)
    serve(held)
    with pytest.raises(workflow.RuleViolation, match="on hold"):
        workflow.save_draft(held, actor=analyst, text=GOOD_REPLY + " edited")
    with pytest.raises(workflow.RuleViolation, match="on hold"):
        workflow.submit_draft(held, actor=analyst)


def test_no_approval_on_a_held_case(advance: Any, serve: Any, reviewer: Any) -> None:
    from outreach.models import text_hash

    held = advance(Stage.AWAITING_APPROVAL)
    serve(held)
    with pytest.raises(workflow.RuleViolation, match="on hold"):
        workflow.approve_reply(held, actor=reviewer, text_hash_seen=text_hash(GOOD_REPLY))
    assert not OutboundAction.objects.filter(case=held).exists()


def test_no_follow_on_a_held_case(advance: Any, serve: Any, reviewer: Any) -> None:
    held = advance(Stage.ENGAGED)
    serve(held)
    with pytest.raises(workflow.RuleViolation, match="on hold"):
        workflow.request_follow(held, actor=reviewer)


def test_the_case_page_greys_the_moves_and_names_the_hold(
    advance: Any, serve: Any, analyst: Any
) -> None:
    held = advance(Stage.NEW)
    own = serve(held)
    client = Client()
    client.force_login(analyst)
    body = client.get(reverse("admin:outreach_case_change", args=[held.pk])).content.decode()
    assert f"own-brand case {own.pk}" in body and 'id="nj-hold"' in body
    response = client.post(reverse("admin:outreach_case_move", args=[held.pk, "claim"]))
    assert response.status_code == 302
    assert _reload(held).stage == Stage.NEW
    own_page = client.get(reverse("admin:outreach_case_change", args=[own.pk])).content.decode()
    assert f"competitor case {held.pk}</a> is on hold" in own_page


def test_an_approved_competitor_reply_waits_in_the_outbox_while_held(
    advance: Any, serve: Any, analyst: Any
) -> None:
    held = advance(Stage.APPROVED, post=sandbox_post())
    action = OutboundAction.objects.get(case=held, kind="reply")
    OutboundAction.objects.filter(pk=action.pk).update(not_before=timezone.now())
    own = serve(held)
    outcome = dispatch.send_action(action.pk)
    assert outcome.result == "deferred" and "on hold" in outcome.detail
    action.refresh_from_db()
    assert action.state == OutboundAction.State.PENDING and action.attempts == 0
    assert action.not_before > timezone.now()
    # The hold lifts when the own-brand case closes; the reply then goes.
    workflow.dismiss(own, actor=analyst, reason="sorted by phone")
    OutboundAction.objects.filter(pk=action.pk).update(not_before=timezone.now())
    assert dispatch.send_action(action.pk).result == "sent"
    assert _reload(held).stage == Stage.AWAITING_ENGAGEMENT


# --- Lifting ----------------------------------------------------------------------------------


def test_closing_the_own_brand_case_lifts_the_hold_in_both_histories(
    advance: Any, serve: Any, analyst: Any
) -> None:
    held = advance(Stage.NEW)
    own = serve(held)
    workflow.dismiss(own, actor=analyst, reason="duplicate of an email ticket")
    held = _reload(held)
    assert not held.on_hold and held.held_by_id is None
    assert _events(held)[-1][0] == "hold_lifted"
    assert "dismissed" in _events(held)[-1][1]
    assert ("hold_lifted", f"competitor case {held.pk} resumes") in _events(own)
    workflow.claim(held, actor=analyst)
    assert _reload(held).stage == Stage.RESEARCHING


def test_a_held_case_whose_post_went_stale_expires_after_the_hold(
    advance: Any, serve: Any, analyst: Any
) -> None:
    held = advance(Stage.NEW)
    own = serve(held)
    later = timezone.now() + dt.timedelta(hours=held.playbook.freshness_hours + 1)
    with time_machine.travel(later):
        workflow.dismiss(own, actor=analyst, reason="answered by email")
        expiry.run()
    assert _reload(held).stage == Stage.EXPIRED


def test_a_held_case_that_expires_while_held_is_held_no_more(advance: Any, serve: Any) -> None:
    held = advance(Stage.NEW)
    serve(held)
    later = timezone.now() + dt.timedelta(hours=held.playbook.freshness_hours + 1)
    with time_machine.travel(later):
        expiry.run()
    held = _reload(held)
    assert held.stage == Stage.EXPIRED and not held.on_hold and held.held_by_id is None


# --- The database -----------------------------------------------------------------------------


def _clone(case: Case, **fields: Any) -> Case:
    values = {
        "post": case.post,
        "person": case.person,
        "brand": case.brand,
        "platform": case.platform,
        "kind": case.kind,
        "playbook": case.playbook,
        "due_at": case.due_at,
        **fields,
    }
    return Case(**values)


def test_the_database_refuses_two_open_competitor_cases_even_if_one_is_held(
    advance: Any, serve: Any
) -> None:
    held = advance(Stage.NEW)
    serve(held)
    refused = pytest.raises(IntegrityError, match="case_one_open_per_person_per_kind")
    with refused, transaction.atomic():
        _clone(_reload(held), on_hold=True).save()


def test_the_database_refuses_two_open_own_brand_cases(advance: Any, serve: Any) -> None:
    own = serve(advance(Stage.NEW))
    with pytest.raises(IntegrityError, match="case_one_open_per_person"), transaction.atomic():
        _clone(own, on_hold=False).save()


def test_the_database_refuses_lifting_a_hold_while_the_own_brand_case_is_open(
    advance: Any, serve: Any
) -> None:
    held = advance(Stage.NEW)
    serve(held)
    with pytest.raises(IntegrityError, match="case_one_open_per_person"), transaction.atomic():
        Case.objects.filter(pk=held.pk).update(on_hold=False, held_by=None)


def test_the_database_refuses_a_hold_on_an_own_brand_case(advance: Any, serve: Any) -> None:
    own = serve(advance(Stage.NEW))
    with pytest.raises(IntegrityError, match="case_hold_consistent"), transaction.atomic():
        Case.objects.filter(pk=own.pk).update(on_hold=True)


def test_the_database_refuses_a_hold_by_a_closed_case(advance: Any, serve: Any) -> None:
    held = advance(Stage.NEW)
    own = serve(held)
    workflow.dismiss(own, actor=None, reason="closed")
    # The trigger (a closed holder) and the check (a link without a hold) both refuse it.
    for change in ({"held_by": own}, {"on_hold": True, "held_by": own}):
        refused = pytest.raises(IntegrityError, match=r"held only by an open own|hold_consistent")
        with refused, transaction.atomic():
            Case.objects.filter(pk=held.pk).update(**change)


def test_an_own_brand_case_for_someone_else_holds_nothing(
    advance: Any, own_brand: Brand, own_playbook: Any
) -> None:
    theirs = advance(Stage.NEW)
    stranger: Post = PostFactory(text=OWN_COMPLAINT)
    workflow.open_case(stranger.pk, own_brand.pk, PlaybookKind.OWN_BRAND)
    assert not _reload(theirs).on_hold


def test_the_case_page_forecast_names_the_hold(advance: Any, serve: Any) -> None:
    held = advance(Stage.APPROVED, post=sandbox_post())
    serve(held)
    action = OutboundAction.objects.select_related("account").get(case=held, kind="reply")
    forecast = workflow.send_forecast(action)
    assert "on_hold" in {r.code for r in forecast.reasons}
    assert forecast.at is not None  # it waits; it is not refused
