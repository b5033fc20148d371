"""The conversation after engagement (issue #13, item 4): the team may answer again.

Each answer is a draft tone-checked as a later reply, approved as one exact text
(four eyes where the playbook asks), queued in the outbox and sent by the
dispatcher as a reply to the person's latest message; a private message only to
a person who wrote to us privately or asked for it. Before engagement nothing
further goes out, refused by the workflow and by the database alike. Run against
PostgreSQL and the sandbox network.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Brand, SandboxPost
from outreach import dispatch, expiry, workflow
from outreach.models import (
    Case,
    CaseEvent,
    DoNotContact,
    EngagementEvent,
    OutboundAction,
    Playbook,
    PlaybookKind,
    ReplyDraft,
    Stage,
    text_hash,
)
from outreach.workflow import RuleViolation, TransitionNotAllowed, WorkflowError
from tests.factories import PostFactory, SandboxPostFactory
from tests.outreach.factories import SUMMARY, CaseFactory, sandbox_post

pytestmark = pytest.mark.django_db

OWN_COMPLAINT = "Northwind billed me twice this month, really annoyed"
OWN_REPLY = (
    "So sorry you were billed twice this month, that should not happen. Could you email "
    "support@northwind.example with your account number so we can refund it today?"
)
ANSWER = "Thanks for sending that. The refund is on its way and should arrive within two days."


def _due(action: OutboundAction) -> None:
    OutboundAction.objects.filter(pk=action.pk).update(
        not_before=timezone.now() - dt.timedelta(seconds=1)
    )


def _events(case: Case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).values_list("action", flat=True))


@pytest.fixture
def replied(
    own_brand: Brand, own_playbook: Playbook, account: Any, analyst: Any, reviewer: Any
) -> Any:
    """An own-brand case whose first reply went out on the sandbox; ``answered``: the person
    answered it publicly (recorded with the answer's post id)."""

    def _replied(*, answered: bool = True, four_eyes: bool = False) -> Case:
        Playbook.objects.filter(pk=own_playbook.pk).update(four_eyes=four_eyes)
        post = sandbox_post(text=OWN_COMPLAINT)
        case = workflow.open_case(post.pk, own_brand.pk, PlaybookKind.OWN_BRAND)
        workflow.claim(case, actor=analyst)
        workflow.save_research(
            case, actor=analyst, summary=SUMMARY, thread_checked=True, scope="isolated"
        )
        workflow.save_draft(case, actor=analyst, text=OWN_REPLY)
        workflow.submit_draft(case, actor=analyst)
        reply = workflow.approve_reply(case, actor=reviewer, text_hash_seen=text_hash(OWN_REPLY))
        _due(reply)
        assert dispatch.send_action(reply.pk).result == "sent"
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
            workflow.record_engagement(
                case,
                kind="reply",
                external_id=f"n-{case.pk}",
                occurred_at=timezone.now(),
                text="thanks, emailed you just now",
                payload={"post_id": str(answer.pk)},
            )
        case.refresh_from_db()
        return case

    return _replied


def _approve_answer(case: Case, analyst: Any, reviewer: Any, text: str = ANSWER) -> OutboundAction:
    workflow.save_later_reply(case, actor=analyst, text=text)
    action = workflow.approve_later_reply(case, actor=reviewer, text_hash_seen=text_hash(text))
    _due(action)
    return action


# --- Public answers after engagement ------------------------------------------------------


def test_an_answer_after_engagement_goes_out_under_the_persons_latest_message(
    replied: Any, analyst: Any, reviewer: Any, account: Any
) -> None:
    case = replied()
    latest = SandboxPost.objects.get(text="thanks, emailed you just now")
    action = _approve_answer(case, analyst, reviewer)
    assert action.kind == OutboundAction.Kind.LATER_REPLY
    assert action.in_reply_to == str(latest.pk)
    assert dispatch.send_action(action.pk).result == "sent"
    posted = SandboxPost.objects.filter(author_handle=account.handle, reply_to_id=latest.pk)
    assert [p.text for p in posted] == [ANSWER]
    case.refresh_from_db()
    # The case stays in conversation until it is closed.
    assert case.stage == Stage.ENGAGED
    assert _events(case)[-3:] == ["save_later_reply", "approve_later_reply", "later_reply_sent"]


def test_the_next_answer_needs_its_own_approval_even_with_the_same_text(
    replied: Any, analyst: Any, reviewer: Any
) -> None:
    case = replied()
    first = _approve_answer(case, analyst, reviewer)
    assert dispatch.send_action(first.pk).result == "sent"
    draft = ReplyDraft.objects.get(case=case, later=True)
    assert draft.approved_at is None  # spent by the send
    second = workflow.approve_later_reply(case, actor=reviewer, text_hash_seen=text_hash(ANSWER))
    assert second.pk != first.pk
    with pytest.raises(WorkflowError, match="already queued"):
        workflow.approve_later_reply(case, actor=reviewer, text_hash_seen=text_hash(ANSWER))


def test_an_answer_is_tone_checked_as_a_later_reply(
    replied: Any, analyst: Any, reviewer: Any
) -> None:
    case = replied()
    # An own-brand first reply must offer a contact route; a later answer need not.
    first = workflow.tone_findings(case, ANSWER, first_reply=True)
    assert {f["code"]: f["blocking"] for f in first}["no_contact_route"] is True
    draft = workflow.save_later_reply(case, actor=analyst, text=ANSWER)
    assert draft.tone_findings == workflow.tone_findings(case, ANSWER, first_reply=False)
    assert {f["code"]: f["blocking"] for f in draft.tone_findings}["no_contact_route"] is False
    # and what blocks every reply still blocks an answer
    rude = "Honestly you should have read the terms before complaining about it."
    workflow.save_later_reply(case, actor=analyst, text=rude)
    with pytest.raises(RuleViolation, match="blocking findings"):
        workflow.approve_later_reply(case, actor=reviewer, text_hash_seen=text_hash(rude))


def test_a_template_sent_unchanged_stays_a_warning_in_a_later_answer(
    replied: Any, analyst: Any, own_playbook: Playbook
) -> None:
    template = "Thanks for bearing with us, we are on it and will write again soon."
    Playbook.objects.filter(pk=own_playbook.pk).update(reply_templates=[template])
    case = replied()
    draft = workflow.save_later_reply(case, actor=analyst, text=template)
    unchanged = [f for f in draft.tone_findings if "template" in f["code"]]
    assert unchanged and not any(f["blocking"] for f in unchanged)


def test_an_answer_needs_the_approve_permission_and_four_eyes(
    replied: Any, analyst: Any, reviewer: Any
) -> None:
    case = replied(four_eyes=True)
    workflow.save_later_reply(case, actor=reviewer, text=ANSWER)
    with pytest.raises(RuleViolation, match="approve permission"):
        workflow.approve_later_reply(case, actor=analyst, text_hash_seen=text_hash(ANSWER))
    with pytest.raises(RuleViolation, match="four eyes"):
        workflow.approve_later_reply(case, actor=reviewer, text_hash_seen=text_hash(ANSWER))
    assert not OutboundAction.objects.filter(case=case, kind="later_reply").exists()


def test_an_answer_approved_on_a_text_edited_since_is_refused(
    replied: Any, analyst: Any, reviewer: Any
) -> None:
    case = replied()
    workflow.save_later_reply(case, actor=analyst, text=ANSWER)
    with pytest.raises(RuleViolation, match="changed since you read it"):
        workflow.approve_later_reply(case, actor=reviewer, text_hash_seen=text_hash("other"))


def test_editing_a_queued_answer_cancels_it(replied: Any, analyst: Any, reviewer: Any) -> None:
    case = replied()
    action = _approve_answer(case, analyst, reviewer)
    workflow.save_later_reply(case, actor=analyst, text=ANSWER + " Sorry again.")
    action.refresh_from_db()
    assert action.state == OutboundAction.State.CANCELLED
    assert dispatch.send_action(action.pk).result == "skipped"


# --- Nothing further before engagement (rule 4) -------------------------------------------


def test_a_second_reply_before_engagement_is_refused(
    replied: Any, analyst: Any, reviewer: Any
) -> None:
    case = replied(answered=False)
    assert case.stage == Stage.AWAITING_ENGAGEMENT
    with pytest.raises(RuleViolation, match="before the person engages"):
        workflow.save_later_reply(case, actor=analyst, text=ANSWER)
    with pytest.raises(TransitionNotAllowed):
        workflow.approve_later_reply(case, actor=reviewer, text_hash_seen=text_hash(ANSWER))
    assert OutboundAction.objects.filter(case=case).count() == 1


def test_a_second_reply_before_engagement_is_refused_by_the_database(
    replied: Any, account: Any, analyst: Any
) -> None:
    case = replied(answered=False)
    # Even a draft approved behind the workflow's back and a row written by hand.
    draft = ReplyDraft.objects.create(
        case=case,
        is_first_reply=False,
        later=True,
        text=ANSWER,
        author=analyst,
        approved_by=analyst,
        approved_at=timezone.now(),
        approved_text_hash=text_hash(ANSWER),
    )
    for kind in ("reply", "later_reply", "private_message"):
        with pytest.raises(IntegrityError), transaction.atomic():
            OutboundAction.objects.create(
                case=case,
                kind=kind,
                account=account,
                draft=draft,
                idempotency_key=f"shell-{kind}",
                text=ANSWER,
                text_hash=text_hash(ANSWER),
                not_before=timezone.now(),
            )


def test_an_answer_is_checked_again_at_send_time(replied: Any, analyst: Any, reviewer: Any) -> None:
    case = replied()
    action = _approve_answer(case, analyst, reviewer)
    workflow.opt_out(case, actor=analyst, reason="asked us to stop")
    assert dispatch.send_action(action.pk).result in ("refused", "skipped")
    action.refresh_from_db()
    assert action.state == OutboundAction.State.CANCELLED


# --- Private messages -----------------------------------------------------------------------


def test_a_private_message_is_refused_to_a_person_who_has_not_written_privately(
    replied: Any, analyst: Any, reviewer: Any, monkeypatch: Any
) -> None:
    from monitoring.platforms.sandbox import SandboxPlatform

    monkeypatch.setattr(SandboxPlatform, "sends_private_messages", True)
    case = replied()
    workflow.save_later_reply(case, actor=analyst, text=ANSWER)
    with pytest.raises(RuleViolation, match="wrote to us privately or asked"):
        workflow.approve_private_message(case, actor=reviewer, text_hash_seen=text_hash(ANSWER))
    assert workflow.private_consent(case.pk) == ""
    # Once a reviewer records where they asked for it, it may be approved.
    with pytest.raises(WorkflowError, match="say where"):
        workflow.record_private_consent(case, actor=analyst, note=" ")
    workflow.record_private_consent(
        case, actor=analyst, note="their reply: 'can you DM me?' https://sandbox.example/p/1"
    )
    assert workflow.private_consent(case.pk).startswith("they asked for it: their reply")
    action = workflow.approve_private_message(
        case, actor=reviewer, text_hash_seen=text_hash(ANSWER)
    )
    assert action.kind == OutboundAction.Kind.PRIVATE_MESSAGE


def test_a_person_who_wrote_privately_may_get_a_private_message(
    replied: Any, analyst: Any, reviewer: Any, monkeypatch: Any
) -> None:
    from monitoring.platforms.sandbox import SandboxPlatform

    monkeypatch.setattr(SandboxPlatform, "sends_private_messages", True)
    sent: list[dict[str, str]] = []

    def private_message(self: Any, **kwargs: str) -> Any:
        from monitoring.platforms.base import Sent

        sent.append(kwargs)
        return Sent(external_id="dm-9", url="")

    monkeypatch.setattr(SandboxPlatform, "private_message", private_message)
    case = replied(answered=False)
    workflow.record_engagement(
        case,
        kind="private_message",
        external_id="dm-1",
        occurred_at=timezone.now(),
        text="hi, can we sort this privately?",
        payload={"post_id": "777"},
    )
    assert workflow.private_consent(case.pk) == "they wrote to us privately"
    workflow.save_later_reply(case, actor=analyst, text=ANSWER)
    action = workflow.approve_private_message(
        case, actor=reviewer, text_hash_seen=text_hash(ANSWER)
    )
    assert action.in_reply_to == "777"
    _due(action)
    assert dispatch.send_action(action.pk).result == "sent"
    assert sent == [
        {
            "person_external_id": case.person.external_id,
            "handle": case.person.handle,
            "in_reply_to": "777",
            "text": ANSWER,
            "idempotency_key": action.idempotency_key,
        }
    ]
    assert "private_message_sent" in _events(case)


# --- The end of a conversation ------------------------------------------------------------


def test_a_silent_conversation_goes_quiet_after_the_playbooks_window(
    replied: Any, own_playbook: Playbook
) -> None:
    case = replied()
    window = dt.timedelta(days=own_playbook.engagement_window_days)
    assert expiry.run(now=timezone.now() + window - dt.timedelta(hours=1))["gone_quiet"] == 0
    assert expiry.run(now=timezone.now() + window + dt.timedelta(hours=1))["gone_quiet"] == 1
    case.refresh_from_db()
    assert case.stage == Stage.GONE_QUIET
    assert case.closed_at is not None


def test_an_answer_keeps_the_conversation_open_past_the_first_window(
    replied: Any, analyst: Any, reviewer: Any, own_playbook: Playbook
) -> None:
    case = replied()
    action = _approve_answer(case, analyst, reviewer)
    later = timezone.now() + dt.timedelta(days=own_playbook.engagement_window_days - 1)
    assert dispatch.send_action(action.pk, now=later).result == "sent"
    OutboundAction.objects.filter(pk=action.pk).update(sent_at=later)
    window_after_start = timezone.now() + dt.timedelta(
        days=own_playbook.engagement_window_days, hours=1
    )
    assert expiry.close_quiet(now=window_after_start) == 0
    case.refresh_from_db()
    assert case.stage == Stage.ENGAGED


def test_a_resolved_conversation_takes_no_more_answers(
    replied: Any, analyst: Any, reviewer: Any
) -> None:
    case = replied()
    workflow.save_later_reply(case, actor=analyst, text=ANSWER)
    workflow.resolve(case, actor=analyst, note="refunded")
    with pytest.raises(TransitionNotAllowed):
        workflow.approve_later_reply(case, actor=reviewer, text_hash_seen=text_hash(ANSWER))


# --- Through the admin ----------------------------------------------------------------------

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _page(client: Client, case: Case) -> str:
    response = client.get(reverse("admin:outreach_case_change", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _post(client: Client, url: str, data: dict[str, Any]) -> str:
    response = client.post(url, data, follow=True)
    return " | ".join(str(m) for m in response.context["messages"])


def test_an_answer_is_written_and_approved_through_the_admin(
    replied: Any, analyst: Any, reviewer: Any
) -> None:
    case = replied(four_eyes=True)
    writer, approver = _client(analyst), _client(reviewer)
    said = _post(writer, reverse("admin:outreach_case_answer", args=[case.pk]), {"text": ANSWER})
    assert "Answer saved" in said
    move = reverse("admin:outreach_case_move", args=[case.pk, "approve_later_reply"])
    # The writer may not approve it (permission, then four eyes for a reviewer who wrote it).
    assert "approve permission" in _post(writer, move, {"text_hash": text_hash(ANSWER)})
    assert "changed since you read it" in _post(approver, move, {"text_hash": "0" * 64})
    assert "Done" in _post(approver, move, {"text_hash": text_hash(ANSWER)})
    action = OutboundAction.objects.get(case=case, kind="later_reply")
    # Queued, not sent: the page does not claim it went out.
    html = _page(approver, case)
    assert "later reply pending in the outbox (not sent yet)" in html
    _due(action)
    assert dispatch.send_action(action.pk).result == "sent"
    html = _page(approver, case)
    assert "not sent yet" not in html
    assert "later reply, sent" in html


def test_no_answer_before_engagement_through_the_admin(
    replied: Any, analyst: Any, reviewer: Any
) -> None:
    case = replied(answered=False)
    said = _post(
        _client(analyst), reverse("admin:outreach_case_answer", args=[case.pk]), {"text": ANSWER}
    )
    assert "before the person engages" in said
    html = _page(_client(reviewer), case)
    assert 'id="nj-answer"' not in html
    said = "replied, awaiting engagement · awaiting_engagement"
    assert f"answer again only once the person engaged (case is {said})" in html
    assert not ReplyDraft.objects.filter(case=case, later=True).exists()


def test_a_private_message_is_refused_through_the_admin_without_consent(
    replied: Any, analyst: Any, reviewer: Any, monkeypatch: Any
) -> None:
    from monitoring.platforms.sandbox import SandboxPlatform

    monkeypatch.setattr(SandboxPlatform, "sends_private_messages", True)
    case = replied()
    workflow.save_later_reply(case, actor=analyst, text=ANSWER)
    client = _client(reviewer)
    html = _page(client, case)
    assert "not allowed: the person has not written to us privately or asked for it" in html
    move = reverse("admin:outreach_case_move", args=[case.pk, "approve_private_message"])
    said = _post(client, move, {"text_hash": text_hash(ANSWER)})
    assert "wrote to us privately or asked" in said
    assert not OutboundAction.objects.filter(case=case, kind="private_message").exists()


def test_the_case_page_says_why_a_platform_sends_no_private_message(
    replied: Any, analyst: Any, reviewer: Any
) -> None:
    case = replied()
    Case.objects.filter(pk=case.pk).update(platform="bluesky")
    html = _page(_client(reviewer), case)
    assert "Bluesky chat is not supported by nojackal yet" in html


def test_a_follow_reads_follow_requested_until_the_platform_confirms_it(
    replied: Any, reviewer: Any
) -> None:
    case = replied()
    client = _client(reviewer)
    move = reverse("admin:outreach_case_move", args=[case.pk, "request_follow"])
    assert "Follow requested (queued)" in _post(client, move, {})
    case.refresh_from_db()
    assert case.stage == Stage.FOLLOW_REQUESTED
    follow = OutboundAction.objects.get(case=case, kind="follow")
    _due(follow)
    assert dispatch.send_action(follow.pk).result == "sent"
    case.refresh_from_db()
    assert case.stage == Stage.FOLLOWED


def test_templates_are_offered_as_starting_points_for_the_answer(
    replied: Any, reviewer: Any, own_playbook: Playbook
) -> None:
    template = "Thanks for bearing with us, we are on it <b>today</b>."
    Playbook.objects.filter(pk=own_playbook.pk).update(
        reply_templates=[template], guidance="Own the problem. " + HOSTILE
    )
    case = replied()
    client = _client(reviewer)
    html = _page(client, case)
    assert "&lt;script&gt;" in html and "<script>alert" not in html
    assert "?template=0" in html
    response = client.get(reverse("admin:outreach_case_change", args=[case.pk]), {"template": "0"})
    form = response.context["answer_form"]
    assert form.initial["text"] == template
    # an index out of range is ignored
    response = client.get(reverse("admin:outreach_case_change", args=[case.pk]), {"template": "9"})
    assert response.context["answer_form"].initial["text"] == ""


def _history(case: Case, reviewer: Any) -> None:
    """An earlier, closed case of the same person, with hostile text everywhere."""
    earlier = CaseFactory(
        person=case.person,
        post=PostFactory(author=case.person, text="Earlier complaint " + HOSTILE),
        brand=case.brand,
        kind=case.kind,
        playbook=case.playbook,
        stage=Stage.DISMISSED,
        closed_at=timezone.now() - dt.timedelta(days=60),
        dismiss_reason="old",
    )
    EngagementEvent.objects.create(
        case=earlier,
        platform=case.platform,
        kind="reply",
        external_id=f"old-{earlier.pk}",
        text="their old answer " + HOSTILE,
        occurred_at=timezone.now() - dt.timedelta(days=61),
    )


def test_history_shows_on_the_case_page_and_the_persons_page_escaped(
    replied: Any, reviewer: Any, analyst: Any
) -> None:
    case = replied()
    _history(case, reviewer)
    DoNotContact.objects.create(
        platform=case.platform,
        person_external_id=case.person.external_id,
        handle=case.person.handle,
        reason="asked by mail " + HOSTILE,
    )
    client = _client(reviewer)
    pages = [
        _page(client, case),
        client.get(
            reverse("admin:monitoring_person_change", args=[case.person_id])
        ).content.decode(),
    ]
    for html in pages:
        assert 'id="nj-history"' in html
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "their old answer &lt;script&gt;" in html
        assert "thanks, emailed you just now" in html  # their answer on this case
        assert OWN_REPLY in html  # our first reply
        assert "On the do-not-contact list" in html
        assert "asked by mail &lt;script&gt;" in html
        assert "Earlier complaint" in html or "case " in html
    # The person's page lists their posts too, the case page its earlier cases.
    assert "Earlier complaint &lt;script&gt;" in pages[1]
    assert "Dismissed" in pages[0]


def test_the_persons_page_reads_its_history_in_a_bounded_number_of_queries(
    replied: Any, reviewer: Any
) -> None:
    case = replied()
    client = _client(reviewer)
    url = reverse("admin:monitoring_person_change", args=[case.person_id])
    client.get(url)  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(4):
        _history(case, reviewer)
    with CaptureQueriesContext(connection) as many:
        html = client.get(url).content.decode()
    assert html.count("their old answer") == 4
    assert len(many) == len(few)


# --- The README tour's own-brand customer -----------------------------------------------------


def _their_last_words(case: Case) -> str:
    last = EngagementEvent.objects.filter(case=case, kind="reply").order_by("-pk").first()
    assert last is not None
    return last.text.split(" ", 1)[1]


def test_the_tours_customer_answers_from_complaint_to_the_request_to_amend(
    own_brand: Brand, own_playbook: Playbook, account: Any, analyst: Any, reviewer: Any
) -> None:
    from monitoring.models import Account
    from monitoring.sandbox_server import load_corpus
    from outreach import engagement

    pools = load_corpus()["responses"]
    Account.objects.filter(pk=account.pk).update(max_sends_per_hour=100_000)
    start = timezone.now()

    def at(minutes: int) -> Any:
        return time_machine.travel(start + dt.timedelta(minutes=minutes), tick=False)

    def send(action: OutboundAction) -> None:
        _due(action)
        assert dispatch.send_action(action.pk).result == "sent"

    # The complaint, our first reply, approved and sent
    post = sandbox_post(persona="customer", text=OWN_COMPLAINT)
    case = workflow.open_case(post.pk, own_brand.pk, PlaybookKind.OWN_BRAND)
    workflow.claim(case, actor=analyst)
    workflow.save_research(
        case, actor=analyst, summary=SUMMARY, thread_checked=True, scope="isolated"
    )
    workflow.save_draft(case, actor=analyst, text=OWN_REPLY)
    workflow.submit_draft(case, actor=analyst)
    send(workflow.approve_reply(case, actor=reviewer, text_hash_seen=text_hash(OWN_REPLY)))
    # She answers with her details: engaged
    with at(10):
        engagement.read_notifications(account.pk)
        case.refresh_from_db()
        assert case.stage == Stage.ENGAGED
        assert _their_last_words(case) in pools["customer_help"]
        # Our next answer; she says it works now
        send(_approve_answer(case, analyst, reviewer))
    with at(20):
        engagement.read_notifications(account.pk)
        assert _their_last_words(case) in pools["customer_fixed"]
        workflow.resolve(case, actor=analyst, note="payment went through")
        # The request to amend; she updated her post
        amend = "Glad it is sorted. Would you consider updating your post to say so?"
        workflow.save_amend_request(case, actor=analyst, text=amend)
        send(workflow.approve_amend_request(case, actor=reviewer, text_hash_seen=text_hash(amend)))
    with at(30):
        engagement.read_notifications(account.pk)
        assert _their_last_words(case) in pools["customer_amended"]
    case.refresh_from_db()
    assert case.stage == Stage.AMEND_REQUESTED


def _listed(client: Client, **params: str) -> list[int]:
    response = client.get(reverse("admin:outreach_case_changelist"), params)
    assert response.status_code == 200
    return [c.pk for c in response.context["cl"].result_list]


def test_the_queue_lists_answers_awaiting_approval_and_not_those_sent(
    replied: Any, analyst: Any, reviewer: Any
) -> None:
    case = replied()
    client = _client(reviewer)
    assert _listed(client, answer="to_approve") == []
    workflow.save_later_reply(case, actor=analyst, text=ANSWER)
    assert _listed(client, answer="to_approve") == [case.pk]
    action = workflow.approve_later_reply(case, actor=reviewer, text_hash_seen=text_hash(ANSWER))
    _due(action)
    assert dispatch.send_action(action.pk).result == "sent"
    # Sent, its approval spent: nothing waits for a reviewer
    assert _listed(client, answer="to_approve") == []
    # nor is a resolved case's sent answer taken for a request to amend
    workflow.resolve(case, actor=analyst, note="sorted")
    assert _listed(client, amend="to_approve") == []
    workflow.save_amend_request(case, actor=analyst, text="Would you consider updating your post?")
    assert _listed(client, amend="to_approve") == [case.pk]
