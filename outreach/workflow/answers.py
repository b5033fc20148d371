"""The conversation after engagement: the team's next answers, public or private.

Modelled on the request to amend (``amend``): once the person engaged, one
``later`` draft holds the team's next answer; it is tone-checked as a later reply,
approved as one exact text (four eyes where the playbook asks) either as a public
reply to the person's latest message or, where they wrote to us privately or asked
for it, as a private message; the dispatcher sends it and the draft is free for
the next answer. Nothing of this is possible before engagement (rule 4): the
moves' checks, the dispatcher's and the database's all refuse it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from monitoring.models import Account
from outreach.models import (
    CONVERSATION_KINDS,
    Case,
    EngagementEvent,
    OutboundAction,
    ReplyDraft,
    text_hash,
)
from outreach.workflow import events
from outreach.workflow.amend import amend_target
from outreach.workflow.approval import _queue_approved
from outreach.workflow.checks import PRIVATE_CONSENT_ACTION, Attempt, in_conversation
from outreach.workflow.context import tone_findings
from outreach.workflow.drafting import _clean_text, _locked_draft, _new_text
from outreach.workflow.rules import (
    MAX_NOTE_CHARS,
    TransitionNotAllowed,
    User,
    WorkflowError,
)
from outreach.workflow.table import MOVES, _case


def private_target(case: Case) -> str:
    """What a private message answers: the person's latest private message to us, else
    their latest public answer (``amend_target``)."""
    for payload in (
        EngagementEvent.objects.filter(case_id=case.pk, kind=EngagementEvent.Kind.PRIVATE_MESSAGE)
        .order_by("-occurred_at", "-pk")
        .values_list("payload", flat=True)
    ):
        post_id = str((payload or {}).get("post_id") or "")
        if post_id:
            return post_id
    return amend_target(case)


def save_later_reply(case: Case | int, *, actor: User, text: str) -> ReplyDraft:
    """Write or edit the team's next answer (tone-checked as a later reply).

    Only in conversation (after engagement). An edit voids the approval and cancels
    a queued, unsent answer (rule 3).
    """
    case = _case(case)
    text = _clean_text(text, "answer")
    if (refused := in_conversation(Attempt(case, actor, later=True))) is not None:
        raise refused
    findings = tone_findings(case, text, first_reply=False)
    with transaction.atomic():
        draft, changed = _locked_draft(case, text, actor, findings, amend=False, later=True)
        if changed is None:
            return draft
        if (
            changed
            and OutboundAction.objects.filter(
                case_id=case.pk, draft_id=draft.pk, state=OutboundAction.State.SENDING
            ).exists()
        ):
            raise TransitionNotAllowed("the approved answer is being sent right now")
        draft.tone_findings = findings
        note = ""
        if changed:
            note = "approval void" if draft.approved_at else ""
            _new_text(draft, text, actor)
            cancelled = OutboundAction.objects.filter(
                case_id=case.pk,
                kind__in=CONVERSATION_KINDS,
                state=OutboundAction.State.PENDING,
            ).update(state=OutboundAction.State.CANCELLED, error="answer edited after approval")
            if cancelled:
                note = "answer edited after approval; the queued one is cancelled"
        draft.save()
        events.happened(case, action="save_later_reply", actor=actor, note=note)
    return draft


def _approve_answer(
    case: Case | int, actor: User, text_hash_seen: str, move: str
) -> OutboundAction:
    case = _case(case)
    attempt = MOVES[move].require(case, actor, fresh_tone=True, text_hash_seen=text_hash_seen)
    draft, findings = attempt.draft, attempt.findings
    reply = OutboundAction.objects.sent_reply(case)
    assert draft is not None and findings is not None and reply is not None  # the checks ran
    kind = MOVES[move].sends
    target = amend_target(case) if kind == OutboundAction.Kind.LATER_REPLY else private_target(case)
    now = timezone.now()
    with transaction.atomic():
        # From the account the person has been talking to.
        account = Account.objects.select_for_update().get(pk=reply.account_id)
        if not account.enabled:
            raise WorkflowError(f"{account} is disabled; enable it to send the answer")
        # The event first: the database queues an outbox row only after its approval.
        events.happened(
            case,
            action=move,
            actor=actor,
            note=f"approved text sha256 {text_hash(draft.text)[:12]}",
        )
        return _queue_approved(
            case, draft, actor, findings, account, now, kind=kind, in_reply_to=target
        )


def approve_later_reply(case: Case | int, *, actor: User, text_hash_seen: str) -> OutboundAction:
    """Approve the exact answer the reviewer read and queue it as a public reply to the
    person's latest message."""
    return _approve_answer(case, actor, text_hash_seen, "approve_later_reply")


def approve_private_message(
    case: Case | int, *, actor: User, text_hash_seen: str
) -> OutboundAction:
    """Approve the exact answer the reviewer read and queue it as a private message; only to
    a person who wrote to us privately or asked for it (``checks.wrote_privately``)."""
    return _approve_answer(case, actor, text_hash_seen, "approve_private_message")


def record_private_consent(case: Case | int, *, actor: User, note: str) -> Case:
    """Record that the person asked us to write privately, and where (a link, their words)."""
    case = _case(case)
    note = note.strip()
    if not note:
        raise WorkflowError("say where the person asked for a private message (a link, a quote)")
    MOVES["record_private_consent"].require(case, actor)
    events.happened(case, action=PRIVATE_CONSENT_ACTION, actor=actor, note=note[:MAX_NOTE_CHARS])
    return case
