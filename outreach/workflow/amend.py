"""Own-brand: one polite request to amend the post, after resolution."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from monitoring.models import Account
from outreach.models import (
    Case,
    EngagementEvent,
    OutboundAction,
    ReplyDraft,
    text_hash,
)
from outreach.workflow import events
from outreach.workflow.approval import _queue_approved
from outreach.workflow.checks import AMEND_ALLOWED, Attempt
from outreach.workflow.context import tone_findings
from outreach.workflow.drafting import _clean_text, _locked_draft, _new_text
from outreach.workflow.rules import (
    TransitionNotAllowed,
    User,
    WorkflowError,
)
from outreach.workflow.table import MOVES, _case


def amend_target(case: Case) -> str:
    """The post a request to amend answers: the person's latest public answer to us in the
    conversation (so they are notified, and it is not the post our first reply answered),
    else their original post."""
    for payload in (
        EngagementEvent.objects.filter(
            case_id=case.pk,
            kind__in=[EngagementEvent.Kind.REPLY, EngagementEvent.Kind.MENTION],
        )
        .order_by("-occurred_at", "-pk")
        .values_list("payload", flat=True)
    ):
        post_id = str((payload or {}).get("post_id") or "")
        if post_id:
            return post_id
    return case.post.external_id


def save_amend_request(case: Case | int, *, actor: User, text: str) -> ReplyDraft:
    """Write or edit the own-brand request to amend the post (tone-checked as a later reply).

    An edit voids the approval and cancels a queued, unsent request (rule 3).
    """
    case = _case(case)
    text = _clean_text(text, "request")
    attempt = Attempt(case, actor, amend=True)
    for check in AMEND_ALLOWED:
        if (refused := check(attempt)) is not None:
            raise refused
    findings = tone_findings(case, text, first_reply=False)
    with transaction.atomic():
        draft, changed = _locked_draft(case, text, actor, findings, amend=True)
        if changed is None:
            return draft
        if (
            changed
            and OutboundAction.objects.filter(
                case_id=case.pk,
                kind=OutboundAction.Kind.AMEND_REQUEST,
                state__in=[OutboundAction.State.SENDING, OutboundAction.State.SENT],
            ).exists()
        ):
            raise TransitionNotAllowed("the approved request is already being sent")
        draft.tone_findings = findings
        note = ""
        if changed:
            note = "approval void" if draft.approved_at else ""
            _new_text(draft, text, actor)
            cancelled = OutboundAction.objects.filter(
                case_id=case.pk,
                kind=OutboundAction.Kind.AMEND_REQUEST,
                state=OutboundAction.State.PENDING,
            ).update(state=OutboundAction.State.CANCELLED, error="request edited after approval")
            if cancelled:
                note = "request edited after approval; the queued one is cancelled"
        draft.save()
        events.happened(case, action="save_amend_request", actor=actor, note=note)
    return draft


def approve_amend_request(case: Case | int, *, actor: User, text_hash_seen: str) -> OutboundAction:
    """Approve the exact request text the reviewer read and queue it in the outbox.

    It goes out from the account that sent our first reply, as a reply to the
    person's latest answer (``amend_target``); the case moves to amend_requested
    when it is sent.
    """
    case = _case(case)
    attempt = MOVES["approve_amend_request"].require(
        case, actor, fresh_tone=True, text_hash_seen=text_hash_seen
    )
    draft, findings, reply = (
        attempt.draft,
        attempt.findings,
        OutboundAction.objects.sent_reply(case),
    )
    assert draft is not None and findings is not None and reply is not None  # the checks ran
    now = timezone.now()
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=reply.account_id)
        if not account.enabled:
            raise WorkflowError(f"{account} is disabled; enable it to send the request")
        # The event first: the database queues an outbox row only after its approval.
        events.happened(
            case,
            action="approve_amend_request",
            actor=actor,
            note=f"approved text sha256 {text_hash(draft.text)[:12]}",
        )
        return _queue_approved(
            case,
            draft,
            actor,
            findings,
            account,
            now,
            kind=OutboundAction.Kind.AMEND_REQUEST,
            in_reply_to=amend_target(case),
        )
