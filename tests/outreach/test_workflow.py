"""The moves and the twelve rules, called directly (the shell entry point)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from monitoring.models import Brand
from outreach import workflow
from outreach.models import (
    Case,
    CaseEvent,
    DoNotContact,
    EngagementEvent,
    OutboundAction,
    Playbook,
    PlaybookKind,
    ReplyDraft,
    ResearchNote,
    Stage,
    text_hash,
)
from outreach.workflow import RuleViolation, TransitionNotAllowed, WorkflowError
from tests.factories import BrandFactory, DetectionFactory, IncidentFactory
from tests.outreach.factories import (
    COMPLAINT,
    GOOD_REPLY,
    SUMMARY,
    AccountFactory,
    PersonFactory,
    PostFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SALESY = "Sorry about that! Switch to Northwind, we never drop: northwind.example/deal"


def _stages(case: Case) -> list[tuple[str, str, str]]:
    return list(CaseEvent.objects.filter(case=case).values_list("action", "origin", "target"))


# --- the happy path and the audit trail (rule 10) ------------------------------


def test_a_case_walks_from_new_to_followed_with_an_event_for_every_move(advance: Any) -> None:
    # given / when
    case = advance(Stage.FOLLOWED)
    # then
    assert [a for a, _, _ in _stages(case)] == [
        "open_case",
        "claim",
        "save_research",
        "save_draft",
        "submit_draft",
        "approve_reply",
        "mark_reply_sent",
        "record_engagement",
        "request_follow",
        "mark_followed",
    ]
    assert OutboundAction.objects.filter(case=case, kind="follow", state="sent").count() == 1


def test_every_stage_change_is_recorded_with_origin_and_target(advance: Any) -> None:
    case = advance(Stage.AWAITING_APPROVAL)
    moves = [(o, t) for _, o, t in _stages(case) if o != t]
    assert moves == [
        (Stage.NEW, Stage.RESEARCHING),
        (Stage.RESEARCHING, Stage.DRAFTING),
        (Stage.DRAFTING, Stage.AWAITING_APPROVAL),
    ]


def test_a_failed_move_leaves_no_event(advance: Any, analyst: Any) -> None:
    case = advance(Stage.NEW)
    before = CaseEvent.objects.count()
    with pytest.raises(TransitionNotAllowed):
        workflow.submit_draft(case, actor=analyst)
    assert CaseEvent.objects.count() == before


def test_case_events_cannot_be_edited_or_deleted(advance: Any) -> None:
    case = advance(Stage.RESEARCHING)
    event = CaseEvent.objects.filter(case=case).first()
    assert event is not None
    event.note = "rewritten history"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()


def test_the_database_refuses_to_rewrite_case_events(advance: Any) -> None:
    from django.db import DatabaseError, transaction

    case = advance(Stage.RESEARCHING)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CaseEvent.objects.filter(case=case).update(note="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CaseEvent.objects.filter(case=case)._raw_delete(CaseEvent.objects.db)


def test_moves_not_in_the_transition_table_are_refused(advance: Any, analyst: Any) -> None:
    case = advance(Stage.NEW)
    with pytest.raises(TransitionNotAllowed, match="case is new"):
        workflow.resolve(case, actor=analyst)
    with pytest.raises(TransitionNotAllowed):
        workflow.save_research(
            case, actor=analyst, summary=SUMMARY, thread_checked=True, scope="isolated"
        )


# --- rule 1: research before reply --------------------------------------------


def test_draft_cannot_be_submitted_without_research(advance: Any, analyst: Any) -> None:
    # given a case in drafting whose research note was emptied out
    case = advance(Stage.DRAFTING)
    ResearchNote.objects.filter(case=case).update(thread_checked=False)
    # when / then
    with pytest.raises(RuleViolation) as refused:
        workflow.submit_draft(case, actor=analyst)
    assert refused.value.rule is workflow.RESEARCH_FIRST
    assert "rule 1" in str(refused.value)


@pytest.mark.parametrize(
    ("summary", "checked", "scope", "missing"),
    [
        ("ok", True, "isolated", "summary"),
        (SUMMARY, False, "isolated", "thread"),
        (SUMMARY, True, "", "incident"),
    ],
)
def test_incomplete_research_keeps_the_case_in_researching(
    advance: Any, analyst: Any, summary: str, checked: bool, scope: str, missing: str
) -> None:
    case = advance(Stage.RESEARCHING)
    note = workflow.save_research(
        case, actor=analyst, summary=summary, thread_checked=checked, scope=scope
    )
    case.refresh_from_db()
    assert case.stage == Stage.RESEARCHING
    assert any(missing in p for p in workflow.research_problems(note))


def test_research_for_an_incident_needs_the_incident(advance: Any, analyst: Any) -> None:
    case = advance(Stage.RESEARCHING)
    with pytest.raises(RuleViolation, match="choose the incident"):
        workflow.save_research(
            case, actor=analyst, summary=SUMMARY, thread_checked=True, scope="incident"
        )


def test_research_links_the_incident_and_takes_chatter_volume_from_it(
    advance: Any, analyst: Any, competitor: Brand
) -> None:
    # given an incident of four complaints (and a non-complaint) about the case's brand
    incident = IncidentFactory(brand=competitor)
    for complaint in (True, True, True, True, False):
        DetectionFactory(brand=competitor, incident=incident, complaint=complaint)
    case = advance(Stage.RESEARCHING)
    # when the analyst says the complaint is part of it
    note = workflow.save_research(
        case,
        actor=analyst,
        summary=SUMMARY,
        thread_checked=True,
        scope="incident",
        incident=incident,
    )
    # then the note and the case link it, and the volume is the incident's complaints
    assert note.incident_id == incident.pk
    assert note.chatter_volume == 4
    case.refresh_from_db()
    assert case.incident_id == incident.pk
    assert case.stage == Stage.DRAFTING


def test_isolated_research_counts_the_brands_recent_complaints(
    advance: Any, analyst: Any, competitor: Brand
) -> None:
    week_ago = timezone.now() - dt.timedelta(days=6)
    for posted_at, complaint in [(week_ago, True), (week_ago, True), (week_ago, False)]:
        DetectionFactory(brand=competitor, complaint=complaint, post__posted_at=posted_at)
    DetectionFactory(brand=competitor, post__posted_at=timezone.now() - dt.timedelta(days=30))
    DetectionFactory(brand=BrandFactory(name="Orbix"))
    case = advance(Stage.RESEARCHING)
    note = workflow.save_research(
        case, actor=analyst, summary=SUMMARY, thread_checked=True, scope="isolated"
    )
    assert note.chatter_volume == 2
    assert note.incident_id is None


def test_research_cannot_link_another_brands_incident(advance: Any, analyst: Any) -> None:
    other = IncidentFactory(brand=BrandFactory(name="Orbix"))
    case = advance(Stage.RESEARCHING)
    with pytest.raises(WorkflowError, match="not an incident about Telvana"):
        workflow.save_research(
            case,
            actor=analyst,
            summary=SUMMARY,
            thread_checked=True,
            scope="incident",
            incident=other,
        )
    assert not ResearchNote.objects.filter(case=case).exists()


def test_the_database_refuses_an_incident_note_without_its_incident(
    advance: Any, analyst: Any
) -> None:
    case = advance(Stage.RESEARCHING)
    with pytest.raises(IntegrityError, match="research_incident_named"):
        ResearchNote.objects.create(case=case, summary=SUMMARY, scope="incident", author=analyst)


def test_approval_rechecks_research(advance: Any, reviewer: Any) -> None:
    case = advance(Stage.AWAITING_APPROVAL)
    ResearchNote.objects.filter(case=case).delete()
    with pytest.raises(RuleViolation) as refused:
        workflow.approve_reply(case, actor=reviewer, text_hash_seen=text_hash(GOOD_REPLY))
    assert refused.value.rule.number == 1


# --- rule 2: tone guard ---------------------------------------------------------


def test_draft_with_a_sales_pitch_cannot_be_submitted(advance: Any, analyst: Any) -> None:
    case = advance(Stage.DRAFTING, reply=SALESY)
    draft = ReplyDraft.objects.get(case=case)
    assert draft.blocking_codes  # findings stored on save
    with pytest.raises(RuleViolation) as refused:
        workflow.submit_draft(case, actor=analyst)
    assert refused.value.rule is workflow.TONE_GUARD
    case.refresh_from_db()
    assert case.stage == Stage.DRAFTING


def test_tone_findings_are_updated_when_the_draft_is_saved(advance: Any, analyst: Any) -> None:
    case = advance(Stage.DRAFTING)
    assert ReplyDraft.objects.get(case=case).blocking_codes == []
    workflow.save_draft(case, actor=analyst, text=SALESY)
    assert ReplyDraft.objects.get(case=case).blocking_codes


def test_reply_over_the_platform_length_is_blocked(advance: Any, analyst: Any) -> None:
    long_reply = GOOD_REPLY + " " + ("I really do hope it gets better. " * 20)
    case = advance(Stage.DRAFTING, reply=long_reply)
    with pytest.raises(RuleViolation) as refused:
        workflow.submit_draft(case, actor=analyst)
    assert refused.value.rule.number == 2


def test_approval_reruns_the_tone_guard(advance: Any, reviewer: Any, competitor: Brand) -> None:
    # given a draft that was clean when submitted, and a new product name since
    case = advance(Stage.AWAITING_APPROVAL)
    Brand.objects.filter(kind=Brand.Kind.OWN).update(products=["connection"])
    with pytest.raises(RuleViolation) as refused:
        workflow.approve_reply(case, actor=reviewer, text_hash_seen=text_hash(GOOD_REPLY))
    assert refused.value.rule.number == 2


# --- rule 3: a human approves the exact text ------------------------------------


def test_approval_needs_the_approve_permission(advance: Any, analyst: Any) -> None:
    case = advance(Stage.AWAITING_APPROVAL)
    other_analyst = UserFactory(username="analyst2", groups=["Analyst"])
    with pytest.raises(RuleViolation) as refused:
        workflow.approve_reply(case, actor=other_analyst, text_hash_seen=text_hash(GOOD_REPLY))
    assert refused.value.rule is workflow.HUMAN_APPROVAL
    case.refresh_from_db()
    assert case.stage == Stage.AWAITING_APPROVAL


@pytest.mark.parametrize("actor", [None, AnonymousUser()])
def test_approval_without_a_person_is_refused(advance: Any, actor: Any) -> None:
    case = advance(Stage.AWAITING_APPROVAL)
    with pytest.raises(RuleViolation) as refused:
        workflow.approve_reply(case, actor=actor, text_hash_seen=text_hash(GOOD_REPLY))
    assert refused.value.rule.number == 3


def test_four_eyes_refuses_the_author_approving_their_own_draft(advance: Any) -> None:
    # given a reviewer who wrote the draft themselves
    reviewer = UserFactory(username="writer-reviewer", groups=["Reviewer"])
    case = advance(Stage.RESEARCHING)
    workflow.save_research(
        case, actor=reviewer, summary=SUMMARY, thread_checked=True, scope="isolated"
    )
    workflow.save_draft(case, actor=reviewer, text=GOOD_REPLY)
    workflow.submit_draft(case, actor=reviewer)
    with pytest.raises(RuleViolation, match="four eyes"):
        workflow.approve_reply(case, actor=reviewer, text_hash_seen=text_hash(GOOD_REPLY))


def test_four_eyes_also_refuses_a_reviewer_who_edited_the_draft(
    advance: Any, reviewer: Any, reviewer2: Any, analyst: Any
) -> None:
    case = advance(Stage.DRAFTING)
    workflow.save_draft(case, actor=reviewer, text=GOOD_REPLY + " Fingers crossed.")
    workflow.submit_draft(case, actor=analyst)
    with pytest.raises(RuleViolation, match="four eyes"):
        workflow.approve_reply(
            case, actor=reviewer, text_hash_seen=text_hash(GOOD_REPLY + " Fingers crossed.")
        )
    workflow.approve_reply(
        case, actor=reviewer2, text_hash_seen=text_hash(GOOD_REPLY + " Fingers crossed.")
    )


def test_without_four_eyes_the_author_may_approve(advance: Any, playbook: Playbook) -> None:
    Playbook.objects.filter(pk=playbook.pk).update(four_eyes=False)
    reviewer = UserFactory(username="solo", groups=["Reviewer"])
    case = advance(Stage.RESEARCHING)
    workflow.save_research(
        case, actor=reviewer, summary=SUMMARY, thread_checked=True, scope="isolated"
    )
    workflow.save_draft(case, actor=reviewer, text=GOOD_REPLY)
    workflow.submit_draft(case, actor=reviewer)
    workflow.approve_reply(case, actor=reviewer, text_hash_seen=text_hash(GOOD_REPLY))
    case.refresh_from_db()
    assert case.stage == Stage.APPROVED


def test_approval_is_bound_to_the_text_the_reviewer_read(advance: Any, reviewer: Any) -> None:
    case = advance(Stage.AWAITING_APPROVAL)
    with pytest.raises(RuleViolation, match="changed since you read it"):
        workflow.approve_reply(case, actor=reviewer, text_hash_seen=text_hash("another text"))


def test_approval_stores_the_hash_of_the_exact_text(advance: Any) -> None:
    case = advance(Stage.APPROVED)
    draft = ReplyDraft.objects.get(case=case)
    action = OutboundAction.objects.get(case=case, kind="reply")
    assert draft.approved_text_hash == text_hash(GOOD_REPLY) == action.text_hash
    assert action.text == GOOD_REPLY
    assert draft.approval_is_valid


def test_editing_an_approved_draft_voids_the_approval(advance: Any, analyst: Any) -> None:
    # given an approved case with its reply queued
    case = advance(Stage.APPROVED)
    # when the draft is edited
    workflow.save_draft(case, actor=analyst, text=GOOD_REPLY + " Take care.")
    # then the approval is gone, the queued reply is cancelled and the case is back in drafting
    case.refresh_from_db()
    draft = ReplyDraft.objects.get(case=case)
    assert case.stage == Stage.DRAFTING
    assert draft.approved_at is None and draft.approved_text_hash == ""
    assert OutboundAction.objects.get(case=case, kind="reply").state == "cancelled"


def test_a_draft_changed_behind_the_workflow_cannot_be_sent(advance: Any) -> None:
    # given an approved draft whose text is changed in the database directly
    case = advance(Stage.APPROVED)
    ReplyDraft.objects.filter(case=case).update(text="Switch to Northwind today!")
    action = OutboundAction.objects.get(case=case, kind="reply")
    # then neither the dispatcher's check nor marking it sent accepts it
    with pytest.raises(RuleViolation) as refused:
        workflow.check_sendable(action)
    assert refused.value.rule.number == 3
    with pytest.raises(RuleViolation):
        workflow.mark_reply_sent(action.pk, external_id="x")


def test_editing_after_the_reply_was_sent_is_refused(advance: Any, analyst: Any) -> None:
    case = advance(Stage.AWAITING_ENGAGEMENT)
    with pytest.raises(TransitionNotAllowed):
        workflow.save_draft(case, actor=analyst, text=GOOD_REPLY + " again")


def test_rejection_needs_a_note_and_the_permission(
    advance: Any, analyst: Any, reviewer: Any
) -> None:
    case = advance(Stage.AWAITING_APPROVAL)
    with pytest.raises(RuleViolation):
        workflow.reject_draft(case, actor=analyst, note="no")
    with pytest.raises(WorkflowError, match="why"):
        workflow.reject_draft(case, actor=reviewer, note="  ")
    draft = workflow.reject_draft(case, actor=reviewer, note="Too long, say less.")
    case.refresh_from_db()
    assert case.stage == Stage.DRAFTING
    assert draft.rejection_note == "Too long, say less."


# --- rule 4: one unsolicited message ----------------------------------------------


def test_second_reply_before_engagement_is_refused(advance: Any) -> None:
    # given a case whose reply is queued
    case = advance(Stage.APPROVED)
    first = OutboundAction.objects.get(case=case, kind="reply")
    # when something tries to queue a second reply, the database refuses
    with pytest.raises(IntegrityError):
        OutboundAction.objects.create(
            case=case,
            kind="reply",
            account=first.account,
            idempotency_key="second",
            text="hello again",
            text_hash=text_hash("hello again"),
            not_before=timezone.now(),
        )


def test_a_private_message_before_engagement_cannot_be_sent(advance: Any, account: Any) -> None:
    case = advance(Stage.AWAITING_ENGAGEMENT)
    dm = OutboundAction(
        case=case,
        kind="private_message",
        account=account,
        idempotency_key="dm",
        text="hi",
        not_before=timezone.now(),
    )
    # The database refuses to queue it (outreach.workflow.dbrules); the send-time check too.
    with pytest.raises(IntegrityError, match="queued only by its move"), transaction.atomic():
        dm.save()
    with pytest.raises(RuleViolation) as refused:
        workflow.check_sendable(dm)
    assert refused.value.rule.number == 4


def test_a_reply_cannot_be_sent_once_the_case_moved_on(advance: Any) -> None:
    case = advance(Stage.AWAITING_ENGAGEMENT)
    action = OutboundAction.objects.get(case=case, kind="reply")
    with pytest.raises(RuleViolation) as refused:
        workflow.check_sendable(action)
    assert refused.value.rule.number == 4


def test_marking_a_reply_sent_twice_is_refused(advance: Any) -> None:
    case = advance(Stage.AWAITING_ENGAGEMENT)
    action = OutboundAction.objects.get(case=case, kind="reply")
    with pytest.raises(TransitionNotAllowed):
        workflow.mark_reply_sent(action.pk, external_id="again")


# --- rule 5: follow only after engagement -----------------------------------------


@pytest.mark.parametrize(
    "stage", [Stage.NEW, Stage.DRAFTING, Stage.APPROVED, Stage.AWAITING_ENGAGEMENT]
)
def test_follow_before_engagement_is_refused(advance: Any, reviewer: Any, stage: str) -> None:
    case = advance(stage)
    with pytest.raises(RuleViolation) as refused:
        workflow.request_follow(case, actor=reviewer)
    assert refused.value.rule is workflow.FOLLOW_AFTER_ENGAGEMENT
    assert not OutboundAction.objects.filter(case=case, kind="follow").exists()


def test_a_favourite_is_recorded_but_is_not_engagement(advance: Any, reviewer: Any) -> None:
    case = advance(Stage.AWAITING_ENGAGEMENT)
    workflow.record_engagement(
        case, kind="favourite", external_id="fav-1", occurred_at=timezone.now()
    )
    case.refresh_from_db()
    assert case.stage == Stage.AWAITING_ENGAGEMENT
    with pytest.raises(RuleViolation):
        workflow.request_follow(case, actor=reviewer)


def test_follow_is_checked_again_at_send_time(advance: Any) -> None:
    case = advance(Stage.FOLLOW_REQUESTED)
    follow = OutboundAction.objects.get(case=case, kind="follow")
    workflow.check_sendable(follow)  # fine while the follow is requested
    EngagementEvent.objects.filter(case=case).delete()
    with pytest.raises(RuleViolation) as refused:
        workflow.check_sendable(follow)
    assert refused.value.rule.number == 5


def test_auto_follow_queues_a_follow_after_engagement(
    advance: Any, playbook: Playbook, django_capture_on_commit_callbacks: Any
) -> None:
    Playbook.objects.filter(pk=playbook.pk).update(auto_follow=True)
    case = advance(Stage.AWAITING_ENGAGEMENT)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.record_engagement(
            case, kind="reply", external_id="r-1", occurred_at=timezone.now(), text="thanks!"
        )
    case.refresh_from_db()
    assert case.stage == Stage.FOLLOW_REQUESTED
    assert OutboundAction.objects.filter(case=case, kind="follow").count() == 1


def test_recording_the_same_notification_twice_is_harmless(advance: Any) -> None:
    case = advance(Stage.AWAITING_ENGAGEMENT)
    now = timezone.now()
    first = workflow.record_engagement(
        case, kind="reply", external_id="r-1", occurred_at=now, text="hi"
    )
    again = workflow.record_engagement(
        case, kind="reply", external_id="r-1", occurred_at=now, text="hi"
    )
    assert first is not None and again is None
    assert EngagementEvent.objects.filter(case=case).count() == 1


def test_engagement_before_any_reply_is_refused(advance: Any) -> None:
    case = advance(Stage.APPROVED)
    with pytest.raises(WorkflowError, match="nothing was sent"):
        workflow.record_engagement(case, kind="reply", external_id="r", occurred_at=timezone.now())


# --- rule 6: one conversation per person, cooldown, do-not-contact ------------------


def test_a_second_open_case_for_a_person_is_refused(advance: Any, competitor: Brand) -> None:
    case = advance(Stage.DRAFTING)
    another_post = PostFactory(author=case.person, text=COMPLAINT)
    with pytest.raises(RuleViolation) as refused:
        workflow.open_case(another_post.pk, competitor.pk, PlaybookKind.COMPETITOR)
    assert refused.value.rule is workflow.ONE_CONVERSATION


def test_the_database_holds_one_open_case_per_person(advance: Any) -> None:
    case = advance(Stage.NEW)
    clone = Case(
        post=case.post,
        person=case.person,
        brand=case.brand,
        platform=case.platform,
        kind=case.kind,
        playbook=case.playbook,
        due_at=case.due_at,
    )
    with pytest.raises(IntegrityError, match="case_one_open_per_person"):
        clone.save()


def test_cooldown_blocks_a_new_case_after_one_closed(
    advance: Any, competitor: Brand, analyst: Any
) -> None:
    case = advance(Stage.NEW)
    workflow.dismiss(case, actor=analyst, reason="not a complaint")
    newer = PostFactory(author=case.person, text=COMPLAINT)
    with pytest.raises(RuleViolation, match="30 days"):
        workflow.open_case(newer.pk, competitor.pk, PlaybookKind.COMPETITOR)
    # and after the cooldown it is allowed again
    with time_machine.travel(timezone.now() + dt.timedelta(days=31)):
        fresh = PostFactory(author=case.person, text=COMPLAINT, posted_at=timezone.now())
        assert workflow.open_case(fresh.pk, competitor.pk, PlaybookKind.COMPETITOR).pk


@pytest.mark.parametrize("by", ["id", "handle"])
def test_do_not_contact_blocks_case_creation(world: None, competitor: Brand, by: str) -> None:
    person = PersonFactory(handle="Angry_Ann")
    post = PostFactory(author=person, text=COMPLAINT)
    if by == "id":
        DoNotContact.objects.create(
            platform="sandbox", person_external_id=person.external_id, reason="asked"
        )
    else:
        DoNotContact.objects.create(platform="sandbox", handle="@angry_ann", reason="asked")
    with pytest.raises(RuleViolation) as refused:
        workflow.open_case(post.pk, competitor.pk, PlaybookKind.COMPETITOR)
    assert refused.value.rule.number == 6
    assert not Case.objects.exists()


def test_do_not_contact_blocks_approval_and_every_send(advance: Any, reviewer: Any) -> None:
    case = advance(Stage.AWAITING_APPROVAL)
    DoNotContact.objects.create(platform="sandbox", handle=case.person.handle, reason="asked")
    with pytest.raises(RuleViolation) as refused:
        workflow.approve_reply(case, actor=reviewer, text_hash_seen=text_hash(GOOD_REPLY))
    assert refused.value.rule.number == 6
    sent_case = advance(Stage.APPROVED)
    DoNotContact.objects.create(platform="sandbox", handle=sent_case.person.handle, reason="asked")
    with pytest.raises(RuleViolation):
        workflow.check_sendable(OutboundAction.objects.get(case=sent_case))


def test_our_own_accounts_never_get_a_case(world: None, competitor: Brand) -> None:
    me = PersonFactory(handle="northwind_care")
    post = PostFactory(author=me, text=COMPLAINT)
    with pytest.raises(WorkflowError, match="our own"):
        workflow.open_case(post.pk, competitor.pk, PlaybookKind.COMPETITOR)


# --- rule 7: don't pile on ---------------------------------------------------------


def test_replies_per_brand_per_day_are_capped(
    advance: Any, playbook: Playbook, reviewer: Any
) -> None:
    Playbook.objects.filter(pk=playbook.pk).update(max_replies_per_brand_per_day=1)
    advance(Stage.APPROVED)
    second = advance(Stage.AWAITING_APPROVAL)
    with pytest.raises(RuleViolation) as refused:
        workflow.approve_reply(second, actor=reviewer, text_hash_seen=text_hash(GOOD_REPLY))
    assert refused.value.rule is workflow.NO_PILE_ON


def test_replies_per_incident_are_capped(advance: Any, playbook: Playbook, reviewer: Any) -> None:
    Playbook.objects.filter(pk=playbook.pk).update(max_replies_per_incident=1)
    first = advance(Stage.AWAITING_APPROVAL)
    second = advance(Stage.AWAITING_APPROVAL)
    incident = IncidentFactory(brand=first.brand)
    Case.objects.filter(pk__in=[first.pk, second.pk]).update(incident=incident)
    first.refresh_from_db(), second.refresh_from_db()
    workflow.approve_reply(first, actor=reviewer, text_hash_seen=text_hash(GOOD_REPLY))
    with pytest.raises(RuleViolation, match=f"incident #{incident.pk}"):
        workflow.approve_reply(second, actor=reviewer, text_hash_seen=text_hash(GOOD_REPLY))


def test_replies_per_account_per_hour_are_capped_and_spaced(
    advance: Any, playbook: Playbook, reviewer: Any
) -> None:
    Playbook.objects.filter(pk=playbook.pk).update(max_replies_per_account_per_hour=2)
    a = advance(Stage.APPROVED)
    b = advance(Stage.APPROVED)
    third = advance(Stage.AWAITING_APPROVAL)
    with pytest.raises(RuleViolation, match="this hour"):
        workflow.approve_reply(third, actor=reviewer, text_hash_seen=text_hash(GOOD_REPLY))
    first, second = (OutboundAction.objects.get(case=c) for c in (a, b))
    # sends from one account are at least 3600/cap seconds apart
    assert second.not_before - first.not_before >= dt.timedelta(minutes=30)


# --- rule 8: freshness ---------------------------------------------------------------


def test_a_case_cannot_be_opened_for_a_stale_post(world: None, competitor: Brand) -> None:
    post = PostFactory(text=COMPLAINT, posted_at=timezone.now() - dt.timedelta(hours=73))
    with pytest.raises(RuleViolation) as refused:
        workflow.open_case(post.pk, competitor.pk, PlaybookKind.COMPETITOR)
    assert refused.value.rule is workflow.FRESHNESS


def test_no_reply_is_approved_once_the_post_is_stale(advance: Any, reviewer: Any) -> None:
    case = advance(Stage.AWAITING_APPROVAL)
    with time_machine.travel(timezone.now() + dt.timedelta(hours=72)):
        with pytest.raises(RuleViolation) as refused:
            workflow.approve_reply(case, actor=reviewer, text_hash_seen=text_hash(GOOD_REPLY))
        assert refused.value.rule.number == 8
        workflow.expire(case)
    case.refresh_from_db()
    assert case.stage == Stage.EXPIRED and case.closed_at is not None


def test_a_fresh_case_does_not_expire(advance: Any) -> None:
    case = advance(Stage.DRAFTING)
    with pytest.raises(TransitionNotAllowed, match="freshness"):
        workflow.expire(case)


def test_expiring_an_approved_case_cancels_its_queued_reply(advance: Any) -> None:
    case = advance(Stage.APPROVED)
    with time_machine.travel(timezone.now() + dt.timedelta(hours=80)):
        workflow.expire(case)
    assert OutboundAction.objects.get(case=case).state == "cancelled"


def test_due_time_never_passes_the_freshness_limit(world: None, competitor: Brand) -> None:
    post = PostFactory(text=COMPLAINT, posted_at=timezone.now() - dt.timedelta(hours=60))
    case = workflow.open_case(post.pk, competitor.pk, PlaybookKind.COMPETITOR)
    assert case.due_at == post.posted_at + dt.timedelta(hours=72)


# --- rule 9: opt-out ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("reply", "stop replying to me"),
        ("reply", "Leave me alone."),
        ("mention", "this is spam"),
        ("block", ""),
        ("mute", ""),
    ],
)
def test_a_negative_answer_opts_the_person_out(advance: Any, kind: str, text: str) -> None:
    case = advance(Stage.AWAITING_ENGAGEMENT)
    workflow.record_engagement(
        case, kind=kind, external_id="n-x", occurred_at=timezone.now(), text=text
    )
    case.refresh_from_db()
    assert case.stage == Stage.OPTED_OUT
    assert workflow.dnc_entry("sandbox", case.person.external_id, "") is not None


def test_nothing_automatic_follows_an_opt_out(
    advance: Any, playbook: Playbook, django_capture_on_commit_callbacks: Any
) -> None:
    Playbook.objects.filter(pk=playbook.pk).update(auto_follow=True)
    case = advance(Stage.AWAITING_ENGAGEMENT)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        workflow.record_engagement(
            case, kind="reply", external_id="n-1", occurred_at=timezone.now(), text="go away, bot"
        )
    assert callbacks == []
    assert not OutboundAction.objects.filter(case=case, kind="follow").exists()


def test_opting_out_cancels_queued_sends(advance: Any, analyst: Any) -> None:
    case = advance(Stage.APPROVED)
    workflow.opt_out(case, actor=analyst, reason="asked by email")
    assert OutboundAction.objects.get(case=case).state == "cancelled"
    case.refresh_from_db()
    assert case.stage == Stage.OPTED_OUT


def test_an_opt_out_after_the_case_closed_still_lands_on_the_list(
    advance: Any, analyst: Any
) -> None:
    case = advance(Stage.NEW)
    workflow.dismiss(case, actor=analyst, reason="duplicate")
    workflow.opt_out(case, actor=analyst, reason="stop")
    case.refresh_from_db()
    assert case.stage == Stage.DISMISSED
    assert DoNotContact.objects.filter(person_external_id=case.person.external_id).exists()


# --- rule 11: one playbook ------------------------------------------------------------------


def test_cases_keep_the_playbook_version_they_started_under(
    advance: Any, playbook: Playbook, reviewer: Any
) -> None:
    case = advance(Stage.NEW)
    new = workflow.edit_playbook(
        playbook, actor=reviewer, note="shorter window", changes={"due_hours": 12}
    )
    case.refresh_from_db()
    playbook.refresh_from_db()
    assert case.playbook_id == playbook.pk and not playbook.is_active
    assert new.version == playbook.version + 1 and new.is_active and new.due_hours == 12
    assert new.previous_id == playbook.pk and new.created_by_id == reviewer.pk


def test_editing_the_playbook_needs_the_permission(playbook: Playbook, analyst: Any) -> None:
    with pytest.raises(RuleViolation) as refused:
        workflow.edit_playbook(playbook, actor=analyst, note="x", changes={"due_hours": 1})
    assert refused.value.rule is workflow.ONE_PLAYBOOK


def test_a_retired_playbook_cannot_be_edited(playbook: Playbook, reviewer: Any) -> None:
    workflow.edit_playbook(playbook, actor=reviewer, note="v2", changes={"due_hours": 12})
    with pytest.raises(RuleViolation, match="retired"):
        workflow.edit_playbook(playbook, actor=reviewer, note="v3", changes={"due_hours": 6})


def test_only_one_playbook_per_kind_is_active(playbook: Playbook) -> None:
    with pytest.raises(IntegrityError, match="playbook_one_active_per_kind"):
        Playbook.objects.create(
            kind=PlaybookKind.COMPETITOR, version=99, name="rogue", guidance="sell"
        )


def test_a_case_needs_an_active_playbook(competitor: Brand, account: Any) -> None:
    post = PostFactory(text=COMPLAINT)
    with pytest.raises(RuleViolation, match="no active"):
        workflow.open_case(post.pk, competitor.pk, PlaybookKind.COMPETITOR)


# --- own-brand cases ------------------------------------------------------------------------


def test_own_brand_case_is_due_sooner(
    own_brand: Brand, own_playbook: Playbook, account: Any
) -> None:
    post = PostFactory(text="Northwind billed me twice this month, really annoyed")
    case = workflow.open_case(post.pk, own_brand.pk, PlaybookKind.OWN_BRAND)
    assert case.due_at <= timezone.now() + dt.timedelta(hours=2)


def test_own_brand_first_reply_must_offer_a_private_channel(
    own_brand: Brand, own_playbook: Playbook, account: Any, analyst: Any
) -> None:
    post = PostFactory(text="Northwind billed me twice this month, really annoyed")
    case = workflow.open_case(post.pk, own_brand.pk, PlaybookKind.OWN_BRAND)
    workflow.claim(case, actor=analyst)
    workflow.save_research(
        case, actor=analyst, summary=SUMMARY, thread_checked=True, scope="isolated"
    )
    workflow.save_draft(case, actor=analyst, text="So sorry you were billed twice this month.")
    with pytest.raises(RuleViolation, match="no_contact_route"):
        workflow.submit_draft(case, actor=analyst)


def test_a_case_kind_must_match_the_brand(world: None, competitor: Brand) -> None:
    post = PostFactory(text=COMPLAINT)
    with pytest.raises(WorkflowError, match="needs a own brand"):
        workflow.open_case(post.pk, competitor.pk, PlaybookKind.OWN_BRAND)


# --- other moves -----------------------------------------------------------------------------


def test_dismiss_needs_a_reason(advance: Any, analyst: Any) -> None:
    case = advance(Stage.RESEARCHING)
    with pytest.raises(WorkflowError, match="reason"):
        workflow.dismiss(case, actor=analyst, reason=" ")
    workflow.dismiss(case, actor=analyst, reason="a joke, not a complaint")
    case.refresh_from_db()
    assert case.stage == Stage.DISMISSED and case.dismiss_reason == "a joke, not a complaint"


def test_no_response_only_after_the_engagement_window(advance: Any) -> None:
    case = advance(Stage.AWAITING_ENGAGEMENT)
    with pytest.raises(TransitionNotAllowed, match="window"):
        workflow.mark_no_response(case)
    with time_machine.travel(timezone.now() + dt.timedelta(days=8)):
        workflow.mark_no_response(case)
    case.refresh_from_db()
    assert case.stage == Stage.NO_RESPONSE


def test_assign_records_who_took_the_case(advance: Any, analyst: Any, reviewer: Any) -> None:
    case = advance(Stage.NEW)
    workflow.assign(case, analyst, actor=reviewer)
    case.refresh_from_db()
    assert case.assignee_id == analyst.pk
    assert CaseEvent.objects.filter(case=case, action="assign", actor=reviewer).exists()


def test_unknown_values_are_refused(world: None, competitor: Brand, advance: Any) -> None:
    post = PostFactory(text=COMPLAINT)
    with pytest.raises(WorkflowError):
        workflow.open_case(post.pk, competitor.pk, "jackal")
    with pytest.raises(WorkflowError):
        workflow.open_case(post.pk, competitor.pk, PlaybookKind.COMPETITOR, severity=99)
    case = advance(Stage.AWAITING_ENGAGEMENT)
    with pytest.raises(WorkflowError):
        workflow.record_engagement(case, kind="poke", external_id="p", occurred_at=timezone.now())


@pytest.mark.parametrize("text", ["", "   ", "x" * 10_001])
def test_empty_or_huge_drafts_are_refused(advance: Any, analyst: Any, text: str) -> None:
    case = advance(Stage.DRAFTING)
    with pytest.raises(WorkflowError):
        workflow.save_draft(case, actor=analyst, text=text)


def test_accounts_on_other_platforms_are_not_used(
    advance: Any, reviewer: Any, account: Any
) -> None:
    case = advance(Stage.AWAITING_APPROVAL)
    type(account).objects.filter(pk=account.pk).update(enabled=False)
    AccountFactory(platform="mastodon", handle="nw@social.example")
    with pytest.raises(WorkflowError, match="no enabled sandbox account"):
        workflow.approve_reply(case, actor=reviewer, text_hash_seen=text_hash(GOOD_REPLY))


@pytest.mark.parametrize(
    "text",
    [
        "STOP messaging me",
        "who even asked you",
        "Mind your own business, corporate",
        "nice try, vultures",
        "I'm blocking you",
        "blocked.",
        "reported",
        "are you a bot?",
        "stop tagging me",
        "this is spam",
        "please remove me from this",
        "don't tag me again",
    ],
)
def test_stop_and_hostile_answers_are_recognised(text: str) -> None:
    assert workflow.looks_like_opt_out(text)


@pytest.mark.parametrize(
    "text",
    [
        "thanks, that helps a bit",
        "Cheers, it's back on now",
        "Appreciated!",
        "",
        "🙏",
        # an own-brand customer describing the problem is not asking us to stop
        "my card got blocked again and your chatbot is useless",
        "it stopped working again this morning",
        "I reported the fault twice already",
        "the spam filter ate your email, can you resend?",
        "the bus didn't even stop, so I missed the shop",
    ],
)
def test_friendly_answers_are_not_opt_outs(text: str) -> None:
    assert not workflow.looks_like_opt_out(text)


def test_every_sandbox_persona_answer_is_read_the_way_the_persona_means_it() -> None:
    # The sandbox corpus ships with the project; its personas answer from these pools.
    import json
    from pathlib import Path

    import monitoring.platforms.sandbox as sandbox

    pools = json.loads(Path(sandbox.CORPUS_PATH).read_text(encoding="utf-8"))["responses"]
    wrong = [
        (pool, text)
        for pool, texts in pools.items()
        for text in texts
        if workflow.looks_like_opt_out(text) != (pool in ("hostile", "opt_out"))
    ]
    assert wrong == []


@pytest.mark.parametrize("text", ["@northwind STOP", "@northwind_help @bob stop.", "@a blocked"])
def test_a_one_word_stop_after_the_mentions_of_a_reply_is_an_opt_out(text: str) -> None:
    # A reply on most platforms starts with the handles it answers: the sandbox persona's
    # "STOP" arrives as "@northwind STOP".
    assert workflow.looks_like_opt_out(text)
