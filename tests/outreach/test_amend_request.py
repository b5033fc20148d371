"""Own-brand service, last step: after resolution, one polite request to amend the post.

It is a real message: written, tone-checked as a later reply, approved like any
reply (permission, four eyes, the exact text), queued in the outbox and sent by
the dispatcher as a reply in the conversation; the case moves to
amend_requested only when the platform has it. Run against PostgreSQL and the
sandbox network, whose "server" is tables in the same database.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Brand, SandboxPost
from monitoring.platforms.sandbox import SandboxPlatform
from outreach import dispatch, workflow
from outreach.models import (
    Case,
    CaseEvent,
    DoNotContact,
    OutboundAction,
    Playbook,
    PlaybookKind,
    ReplyDraft,
    ResearchNote,
    Stage,
    text_hash,
)
from outreach.workflow import RuleViolation, TransitionNotAllowed, WorkflowError
from tests.factories import SandboxPostFactory
from tests.outreach.factories import SUMMARY, sandbox_post

pytestmark = pytest.mark.django_db

OWN_COMPLAINT = "Northwind billed me twice this month, really annoyed"
OWN_REPLY = (
    "So sorry you were billed twice this month, that should not happen. Could you email "
    "support@northwind.example with your account number so we can refund it today?"
)
AMEND = (
    "Glad the refund came through. If you feel it is fair, would you consider updating "
    "your post to say it is sorted? No pressure at all either way."
)


def _due(action: OutboundAction) -> None:
    OutboundAction.objects.filter(pk=action.pk).update(not_before=timezone.now())


def _events(case: Case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).values_list("action", flat=True))


def _ours_under(account_handle: str, parent: str) -> list[SandboxPost]:
    return list(
        SandboxPost.objects.filter(author_handle=account_handle, reply_to_id=int(parent)).order_by(
            "pk"
        )
    )


@pytest.fixture
def resolved(
    own_brand: Brand, own_playbook: Playbook, account: Any, analyst: Any, reviewer: Any
) -> Any:
    """An own-brand case whose first reply really went out on the sandbox, then resolved.

    ``answered=True``: the person answered our reply publicly (their answer is
    recorded with its post id); otherwise they only wrote a private message.
    """

    def _resolved(*, answered: bool = True, resolve: bool = True) -> Case:
        post = sandbox_post(text=OWN_COMPLAINT)
        case = workflow.open_case(post.pk, own_brand.pk, PlaybookKind.OWN_BRAND)
        workflow.claim(case, actor=analyst)
        workflow.save_research(
            case,
            actor=analyst,
            summary=SUMMARY,
            thread_checked=True,
            scope=ResearchNote.Scope.ISOLATED,
        )
        workflow.save_draft(case, actor=analyst, text=OWN_REPLY)
        workflow.submit_draft(case, actor=analyst)
        reply = workflow.approve_reply(case, actor=reviewer, text_hash_seen=text_hash(OWN_REPLY))
        _due(reply)
        assert dispatch.send_action(reply.pk).result == "sent"
        # The conversation took a while: the account's spacing between sends has passed.
        OutboundAction.objects.filter(pk=reply.pk).update(
            sent_at=timezone.now() - dt.timedelta(hours=2)
        )
        reply.refresh_from_db()
        if answered:
            answer = SandboxPostFactory(
                author_id_text=post.author.external_id,
                author_handle=post.author.handle,
                text="thanks, emailed you just now",
                reply_to_id=int(reply.external_id),
            )
            kind, payload = "reply", {"post_id": str(answer.pk)}
        else:
            kind, payload = "private_message", {"post_id": ""}
        workflow.record_engagement(
            case,
            kind=kind,
            external_id=f"n-{case.pk}",
            occurred_at=timezone.now(),
            text="thanks, emailed you just now",
            payload=payload,
        )
        if resolve:
            workflow.resolve(case, actor=analyst, note="refunded")
        case.refresh_from_db()
        return case

    return _resolved


def _approve(case: Case, analyst: Any, reviewer: Any, text: str = AMEND) -> OutboundAction:
    workflow.save_amend_request(case, actor=analyst, text=text)
    action = workflow.approve_amend_request(case, actor=reviewer, text_hash_seen=text_hash(text))
    _due(action)
    return action


# --- The step, end to end ---------------------------------------------------------------


def test_the_request_answers_the_persons_reply_and_moves_the_case_when_sent(
    resolved: Any, analyst: Any, reviewer: Any, account: Any
) -> None:
    case = resolved(answered=True)
    answer = SandboxPost.objects.get(text="thanks, emailed you just now")
    # when the analyst writes it and a reviewer approves it
    action = _approve(case, analyst, reviewer)
    # then nothing moved yet: the case waits for the send
    case.refresh_from_db()
    assert case.stage == Stage.RESOLVED
    assert action.kind == OutboundAction.Kind.AMEND_REQUEST
    assert action.in_reply_to == str(answer.pk)
    # when the dispatcher sends it
    assert dispatch.send_action(action.pk).result == "sent"
    # then it is one reply under the person's answer, with the approved text
    posted = _ours_under(account.handle, str(answer.pk))
    assert [p.text for p in posted] == [AMEND]
    case.refresh_from_db()
    assert case.stage == Stage.AMEND_REQUESTED
    assert _events(case)[-3:] == [
        "save_amend_request",
        "approve_amend_request",
        "mark_amend_request_sent",
    ]
    # and sending it again posts nothing more
    assert dispatch.send_action(action.pk).result == "skipped"
    assert len(_ours_under(account.handle, str(answer.pk))) == 1


def test_without_a_public_answer_the_request_answers_the_original_post(
    resolved: Any, analyst: Any, reviewer: Any, account: Any
) -> None:
    case = resolved(answered=False)
    action = _approve(case, analyst, reviewer)
    assert action.in_reply_to == case.post.external_id
    assert dispatch.send_action(action.pk).result == "sent"
    texts = [p.text for p in _ours_under(account.handle, case.post.external_id)]
    assert texts == [OWN_REPLY, AMEND]


def _crash(action: OutboundAction, *, posted: bool) -> None:
    """Leave the row as a worker killed between claim and record leaves it."""
    if posted:
        SandboxPlatform(options={"handle": action.account.handle}).reply(
            in_reply_to=action.in_reply_to, text=action.text, idempotency_key=action.idempotency_key
        )
    OutboundAction.objects.filter(pk=action.pk).update(
        state=OutboundAction.State.SENDING,
        attempts=1,
        not_before=timezone.now() - dt.timedelta(seconds=1),
    )


def test_a_crash_after_posting_reconciles_the_request_not_our_first_reply(
    resolved: Any, analyst: Any, reviewer: Any, account: Any
) -> None:
    # Both our posts answer the same post here: reconciliation must tell them apart.
    case = resolved(answered=False)
    action = _approve(case, analyst, reviewer)
    _crash(action, posted=True)
    assert dispatch.send_action(action.pk).result == "reconciled"
    action.refresh_from_db()
    ours = _ours_under(account.handle, case.post.external_id)
    assert [p.text for p in ours] == [OWN_REPLY, AMEND]
    assert action.external_id == str(ours[1].pk)
    case.refresh_from_db()
    assert case.stage == Stage.AMEND_REQUESTED


def test_a_crash_before_posting_sends_the_request_once_after_checking(
    resolved: Any, analyst: Any, reviewer: Any, account: Any
) -> None:
    # Our first reply under the same post must not be taken for the request.
    case = resolved(answered=False)
    action = _approve(case, analyst, reviewer)
    _crash(action, posted=False)
    assert dispatch.send_action(action.pk).result == "sent"
    texts = [p.text for p in _ours_under(account.handle, case.post.external_id)]
    assert texts == [OWN_REPLY, AMEND]


# --- Who may ask, and when ---------------------------------------------------------------


def test_competitor_cases_never_ask_to_amend(advance: Any, analyst: Any) -> None:
    case = advance(Stage.ENGAGED)
    workflow.resolve(case, actor=analyst)
    with pytest.raises(WorkflowError, match="own-brand"):
        workflow.save_amend_request(case, actor=analyst, text=AMEND)


def test_only_after_resolution(resolved: Any, analyst: Any) -> None:
    case = resolved(resolve=False)
    with pytest.raises(TransitionNotAllowed, match="resolved"):
        workflow.save_amend_request(case, actor=analyst, text=AMEND)


def test_no_request_to_amend_once_the_person_was_erased(
    resolved: Any, analyst: Any, reviewer: Any
) -> None:
    from django.core.management import call_command

    case = resolved(answered=True)
    call_command("forget_person", "sandbox", case.person.external_id, stdout=None)
    case = Case.objects.get(pk=case.pk)  # as the admin loads it: the person has no name now
    workflow.save_amend_request(case, actor=analyst, text=AMEND)
    with pytest.raises(RuleViolation, match="erased"):
        workflow.approve_amend_request(case, actor=reviewer, text_hash_seen=text_hash(AMEND))
    assert not OutboundAction.objects.filter(case=case, kind="amend_request").exists()


def test_only_within_the_window_after_resolution(
    resolved: Any, analyst: Any, reviewer: Any, own_playbook: Playbook
) -> None:
    case = resolved()
    workflow.save_amend_request(case, actor=analyst, text=AMEND)
    later = timezone.now() + dt.timedelta(days=own_playbook.engagement_window_days, hours=1)
    with time_machine.travel(later), pytest.raises(RuleViolation) as refused:
        workflow.approve_amend_request(case, actor=reviewer, text_hash_seen=text_hash(AMEND))
    assert refused.value.rule is workflow.FRESHNESS


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Now that it's fixed, please delete this post.", "delete_request"),
        ("You were wrong about the bill, update your post.", "arguing"),
        ("Update your post or we will take legal action.", "legal_threat"),
    ],
)
def test_a_request_the_tone_guard_blocks_cannot_be_approved(
    resolved: Any, analyst: Any, reviewer: Any, text: str, code: str
) -> None:
    case = resolved()
    draft = workflow.save_amend_request(case, actor=analyst, text=text)
    assert code in draft.blocking_codes
    with pytest.raises(RuleViolation) as refused:
        workflow.approve_amend_request(case, actor=reviewer, text_hash_seen=text_hash(text))
    assert refused.value.rule is workflow.TONE_GUARD
    assert not OutboundAction.objects.filter(case=case, kind="amend_request").exists()


def test_asking_to_amend_is_allowed_after_resolution_but_not_in_a_first_reply(
    resolved: Any, analyst: Any
) -> None:
    case = resolved()
    draft = workflow.save_amend_request(case, actor=analyst, text=AMEND)
    assert draft.blocking_codes == []
    assert "delete_request" in [
        f["code"] for f in workflow.tone_findings(case, AMEND) if f["blocking"]
    ]


def test_an_analyst_cannot_approve(resolved: Any, analyst: Any) -> None:
    case = resolved()
    workflow.save_amend_request(case, actor=analyst, text=AMEND)
    with pytest.raises(RuleViolation) as refused:
        workflow.approve_amend_request(case, actor=analyst, text_hash_seen=text_hash(AMEND))
    assert refused.value.rule is workflow.HUMAN_APPROVAL


def test_four_eyes_applies_when_the_playbook_asks(
    resolved: Any, reviewer: Any, own_playbook: Playbook
) -> None:
    Playbook.objects.filter(pk=own_playbook.pk).update(four_eyes=True)
    case = resolved()
    workflow.save_amend_request(case, actor=reviewer, text=AMEND)
    with pytest.raises(RuleViolation, match="four eyes"):
        workflow.approve_amend_request(case, actor=reviewer, text_hash_seen=text_hash(AMEND))


def test_a_text_changed_since_it_was_read_is_not_approved(
    resolved: Any, analyst: Any, reviewer: Any
) -> None:
    case = resolved()
    workflow.save_amend_request(case, actor=analyst, text=AMEND)
    workflow.save_amend_request(case, actor=analyst, text=AMEND + " Thanks again.")
    with pytest.raises(RuleViolation, match="changed since you read it"):
        workflow.approve_amend_request(case, actor=reviewer, text_hash_seen=text_hash(AMEND))


def test_the_request_is_asked_once(resolved: Any, analyst: Any, reviewer: Any) -> None:
    case = resolved()
    action = _approve(case, analyst, reviewer)
    with pytest.raises(RuleViolation) as refused:
        workflow.approve_amend_request(case, actor=reviewer, text_hash_seen=text_hash(AMEND))
    assert refused.value.rule is workflow.ONE_UNSOLICITED
    dispatch.send_action(action.pk)
    with pytest.raises(TransitionNotAllowed):
        workflow.save_amend_request(case, actor=analyst, text=AMEND + " Please?")


def test_the_database_keeps_one_request_and_one_draft_per_case(
    resolved: Any, analyst: Any, reviewer: Any
) -> None:
    from django.db import IntegrityError, transaction

    case = resolved()
    action = _approve(case, analyst, reviewer)
    with pytest.raises(IntegrityError, match="draft_one_amend_request"), transaction.atomic():
        ReplyDraft.objects.create(case=case, is_first_reply=False, text="x", author=analyst)
    with pytest.raises(IntegrityError, match="action_one_amend_request"), transaction.atomic():
        OutboundAction.objects.create(
            case=case,
            kind="amend_request",
            account=action.account,
            idempotency_key="dup",
            text="x",
            text_hash=text_hash("x"),
            not_before=timezone.now(),
        )


def test_editing_an_approved_request_cancels_the_queued_one(
    resolved: Any, analyst: Any, reviewer: Any
) -> None:
    case = resolved()
    first = _approve(case, analyst, reviewer)
    draft = workflow.save_amend_request(case, actor=analyst, text=AMEND + " Thank you.")
    first.refresh_from_db()
    assert first.state == OutboundAction.State.CANCELLED
    assert not draft.approval_is_valid
    # a new approval queues the new text, which is what goes out
    second = workflow.approve_amend_request(
        case, actor=reviewer, text_hash_seen=text_hash(AMEND + " Thank you.")
    )
    _due(second)
    assert dispatch.send_action(second.pk).result == "sent"
    assert dispatch.send_action(first.pk).result == "skipped"


# --- At the moment of sending ----------------------------------------------------------------


def test_do_not_contact_added_after_approval_refuses_the_send(
    resolved: Any, analyst: Any, reviewer: Any, account: Any
) -> None:
    case = resolved()
    action = _approve(case, analyst, reviewer)
    DoNotContact.objects.create(
        platform=case.platform, person_external_id=case.person.external_id, reason="asked by email"
    )
    assert dispatch.send_action(action.pk).result == "refused"
    action.refresh_from_db()
    assert action.state == OutboundAction.State.CANCELLED
    assert "send_refused" in _events(case)
    case.refresh_from_db()
    assert case.stage == Stage.RESOLVED
    assert len(_ours_under(account.handle, action.in_reply_to)) == 0


def test_a_request_still_queued_when_the_window_closes_is_not_sent(
    resolved: Any, analyst: Any, reviewer: Any, own_playbook: Playbook, account: Any
) -> None:
    case = resolved()
    action = _approve(case, analyst, reviewer)
    later = timezone.now() + dt.timedelta(days=own_playbook.engagement_window_days, hours=1)
    with time_machine.travel(later):
        outcome = dispatch.send_action(action.pk)
    assert outcome.result == "refused"
    assert "too late" in outcome.detail
    action.refresh_from_db()
    assert action.state == OutboundAction.State.CANCELLED
    case.refresh_from_db()
    assert case.stage == Stage.RESOLVED
    assert _ours_under(account.handle, action.in_reply_to) == []


def test_a_stop_before_the_send_cancels_the_request(
    resolved: Any, analyst: Any, reviewer: Any
) -> None:
    case = resolved()
    action = _approve(case, analyst, reviewer)
    workflow.record_engagement(
        case, kind="reply", external_id="n-stop", occurred_at=timezone.now(), text="stop"
    )
    case.refresh_from_db()
    assert case.stage == Stage.OPTED_OUT
    action.refresh_from_db()
    assert action.state == OutboundAction.State.CANCELLED
    assert dispatch.send_action(action.pk).result == "skipped"


def test_a_stop_after_the_request_opts_the_person_out(
    resolved: Any, analyst: Any, reviewer: Any
) -> None:
    case = resolved()
    dispatch.send_action(_approve(case, analyst, reviewer).pk)
    workflow.record_engagement(
        case,
        kind="reply",
        external_id="n-after",
        occurred_at=timezone.now(),
        text="leave me alone",
    )
    case.refresh_from_db()
    assert case.stage == Stage.OPTED_OUT
    assert DoNotContact.objects.filter(person_external_id=case.person.external_id).exists()


# --- The admin -------------------------------------------------------------------------------


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_writes_and_approves_the_request(
    resolved: Any, analyst: Any, reviewer: Any
) -> None:
    case = resolved()
    page = _client(analyst).get(reverse("admin:outreach_case_change", args=[case.pk]))
    assert 'id="nj-amend"' in page.content.decode()
    # the analyst writes it
    response = _client(analyst).post(
        reverse("admin:outreach_case_amend", args=[case.pk]), {"text": AMEND}, follow=True
    )
    assert "a reviewer approves it" in response.content.decode()
    # the analyst may not approve it; the button says why
    page = _client(analyst).get(reverse("admin:outreach_case_change", args=[case.pk]))
    assert "approve permission" in page.content.decode()
    # the reviewer approves the exact text shown
    response = _client(reviewer).post(
        reverse("admin:outreach_case_move", args=[case.pk, "approve_amend_request"]),
        {"text_hash": text_hash(AMEND)},
        follow=True,
    )
    assert "Done" in response.content.decode()
    assert OutboundAction.objects.filter(case=case, kind="amend_request", state="pending").exists()
    # and the queue shows nothing left to approve
    listing = _client(reviewer).get(reverse("admin:outreach_case_changelist") + "?amend=to_approve")
    assert listing.context["cl"].result_count == 0


def test_the_admin_lists_requests_awaiting_approval(resolved: Any, analyst: Any) -> None:
    case = resolved()
    workflow.save_amend_request(case, actor=analyst, text=AMEND)
    listing = _client(analyst).get(reverse("admin:outreach_case_changelist") + "?amend=to_approve")
    assert [c.pk for c in listing.context["cl"].result_list] == [case.pk]


def test_the_admin_escapes_a_hostile_request(resolved: Any, analyst: Any) -> None:
    case = resolved()
    hostile = "Glad it's fixed <script>alert(1)</script> would you update the post?"
    workflow.save_amend_request(case, actor=analyst, text=hostile)
    page = _client(analyst).get(reverse("admin:outreach_case_change", args=[case.pk]))
    body = page.content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_the_admin_refuses_an_empty_request(resolved: Any, analyst: Any) -> None:
    case = resolved()
    response = _client(analyst).post(
        reverse("admin:outreach_case_amend", args=[case.pk]), {"text": "   "}, follow=True
    )
    assert "not saved" in response.content.decode() or "empty" in response.content.decode()
    assert not ReplyDraft.objects.filter(case=case, is_first_reply=False).exists()


def test_competitor_case_pages_offer_no_amend_request(advance: Any, analyst: Any) -> None:
    case = advance(Stage.ENGAGED)
    workflow.resolve(case, actor=analyst)
    body = _client(analyst).get(reverse("admin:outreach_case_change", args=[case.pk])).content
    assert b'id="nj-amend"' not in body
    assert b"approve_amend_request" not in body
