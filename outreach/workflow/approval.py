"""Approval: a human approves one exact text, which is queued in the outbox (rule 3)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from monitoring.models import Account, Brand
from outreach.models import (
    Case,
    OutboundAction,
    ReplyDraft,
    Stage,
    text_hash,
)
from outreach.workflow import caps
from outreach.workflow.context import sender_candidates
from outreach.workflow.rules import (
    MAX_NOTE_CHARS,
    ONE_UNSOLICITED,
    RuleViolation,
    TransitionNotAllowed,
    User,
    WorkflowError,
)
from outreach.workflow.table import MOVES, _case, _move


def approve_reply(case: Case | int, *, actor: User, text_hash_seen: str) -> OutboundAction:
    """Approve the exact draft text the reviewer read and queue the reply in the outbox.

    ``text_hash_seen`` is ``text_hash`` of the text shown to the reviewer; if the
    draft changed since, the approval is refused (rule 3).
    """
    case = _case(case)
    attempt = MOVES["approve_reply"].require(
        case, actor, fresh_tone=True, text_hash_seen=text_hash_seen
    )
    draft, findings = attempt.draft, attempt.findings
    assert draft is not None and findings is not None  # has_draft and tone_clean ran
    now = timezone.now()
    with transaction.atomic():
        # Serialise approvals per brand and per account so that two reviewers cannot
        # both squeeze under a cap (rule 7): counts below are read under these locks.
        Brand.objects.select_for_update().filter(pk=case.brand_id).first()
        account = pick_account(case)
        cap = caps.approval(case, account, now)
        if cap is not None:
            raise cap.violation()
        _move(
            case,
            to=Stage.APPROVED,
            actor=actor,
            action="approve_reply",
            note=f"approved text sha256 {text_hash(draft.text)[:12]}",
        )
        return _queue_approved(
            case, draft, actor, findings, account, now, kind=OutboundAction.Kind.REPLY
        )


def pick_account(case: Case) -> Account:
    """The account a case's replies go from, locked: the first of ``sender_candidates``
    (the same choice the tone guard's context makes to know whether it is personal)."""
    account = sender_candidates(case).select_for_update().first()
    if account is None:
        raise WorkflowError(f"no enabled {case.platform} account to reply from")
    return account


def _queue_approved(
    case: Case,
    draft: ReplyDraft,
    actor: User,
    findings: list[dict[str, Any]],
    account: Account,
    now: dt.datetime,
    *,
    kind: str,
    in_reply_to: str = "",
) -> OutboundAction:
    """Record the approval of the exact text read and queue it; inside the caller's transaction."""
    approved = ReplyDraft.objects.filter(pk=draft.pk, text=draft.text).update(
        approved_by_id=actor.pk,
        approved_at=now,
        approved_text_hash=text_hash(draft.text),
        tone_findings=findings,
    )
    if approved != 1:
        raise TransitionNotAllowed("the text changed while approving; reload the page")
    try:
        with transaction.atomic():
            return OutboundAction.objects.create(
                case_id=case.pk,
                kind=kind,
                account=account,
                draft=draft,
                idempotency_key=f"case{case.pk}-{kind}-{uuid.uuid4().hex}",
                text=draft.text,
                text_hash=text_hash(draft.text),
                in_reply_to=in_reply_to,
                not_before=caps.send_slot(case, account, now),
            )
    except IntegrityError:
        what = "public reply" if kind == OutboundAction.Kind.REPLY else "request to amend the post"
        raise RuleViolation(ONE_UNSOLICITED, f"this case already has a {what}") from None


def reject_draft(case: Case | int, *, actor: User, note: str) -> ReplyDraft:
    """Send the draft back to its author with a note (awaiting_approval -> drafting)."""
    case = _case(case)
    draft = MOVES["reject_draft"].require(case, actor).draft
    assert draft is not None  # has_draft ran
    note = note.strip()
    if not note:
        raise WorkflowError("say why the draft is rejected")
    with transaction.atomic():
        _move(case, to=Stage.DRAFTING, actor=actor, action="reject_draft", note=note)
        ReplyDraft.objects.filter(pk=draft.pk).update(
            rejected_by_id=actor.pk,
            rejection_note=note[:MAX_NOTE_CHARS],
            rejected_text=draft.text,
            submitted_at=None,
        )
    draft.refresh_from_db()
    return draft
