"""After our reply: sent, engagement, follow, silence, resolution."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from celery import shared_task
from django.db import IntegrityError, transaction
from django.utils import timezone

from outreach.messages import is_id, refused
from outreach.models import (
    CONVERSATION_KINDS,
    Case,
    EngagementEvent,
    OutboundAction,
    ReplyDraft,
    Stage,
)
from outreach.retries import ON_LOST_DATABASE
from outreach.workflow import events
from outreach.workflow.checks import ENGAGING_KINDS, REFUSING_KINDS, Attempt, approved_text
from outreach.workflow.endings import opt_out
from outreach.workflow.lexicon import looks_like_opt_out
from outreach.workflow.refusals import try_move
from outreach.workflow.rules import (
    FOLLOW_AFTER_ENGAGEMENT,
    MAX_DRAFT_CHARS,
    RuleViolation,
    TransitionNotAllowed,
    User,
    WorkflowError,
    now_or,
)
from outreach.workflow.table import MOVES, _case, _move

# What a sent text moves the case to: the first reply waits for the person; the
# own-brand request to amend the post closes the case's last step.
_SENT_STAGE = {
    OutboundAction.Kind.REPLY: (Stage.AWAITING_ENGAGEMENT, "mark_reply_sent"),
    OutboundAction.Kind.AMEND_REQUEST: (Stage.AMEND_REQUESTED, "mark_amend_request_sent"),
}

log = logging.getLogger(__name__)


def mark_reply_sent(
    action_id: int, *, external_id: str, url: str = "", loaded: OutboundAction | None = None
) -> Case:
    """Record that the dispatcher posted an approved text: the first reply (approved ->
    awaiting_engagement), the request to amend the post (resolved -> amend_requested),
    or an answer in the conversation (no stage change; the draft is free for the next).

    ``loaded``: the row with its case and draft as the caller read them just before the
    send (the dispatcher): not read again. The checks below look at it, and the stage
    the move starts from is the compare-and-set's: a case moved on meanwhile refuses."""
    if loaded is not None and loaded.pk == action_id:
        action = loaded
    else:
        # The case and the approving draft: what the checks below and the move read.
        action = OutboundAction.objects.select_related("case", "draft").get(pk=action_id)
    case = action.case
    if action.kind in CONVERSATION_KINDS:
        return _mark_answer_sent(action, external_id=external_id, url=url)
    if action.kind not in _SENT_STAGE:
        raise WorkflowError("only a reply or a request to amend is recorded as a sent text")
    target, move = _SENT_STAGE[action.kind]
    # Rule 3 and, for the first reply, rule 1 once more; the stage is the compare-and-set's.
    MOVES[move].require(case, None, action=action)
    now = timezone.now()
    with transaction.atomic():
        claimed = OutboundAction.objects.filter(
            pk=action.pk,
            state__in=[OutboundAction.State.PENDING, OutboundAction.State.SENDING],
        ).update(
            state=OutboundAction.State.SENT,
            external_id=external_id,
            url=url,
            sent_at=now,
            outcome_unknown_since=None,  # the platform has it: the outcome is known
        )
        if claimed != 1:
            raise TransitionNotAllowed(f"outbound action {action.pk} is already {action.state}")
        _move(case, to=target, actor=None, action=move, note=url or external_id)
    return case


def _mark_answer_sent(action: OutboundAction, *, external_id: str, url: str) -> Case:
    """An answer after engagement went out: the row says sent, the history says so, and
    the draft's approval is spent (the next answer is approved again, whatever its text)."""
    case = action.case
    refused = approved_text(Attempt(case, None, later=True, action=action))
    if refused is not None:
        raise refused
    with transaction.atomic():
        claimed = OutboundAction.objects.filter(
            pk=action.pk,
            state__in=[OutboundAction.State.PENDING, OutboundAction.State.SENDING],
        ).update(
            state=OutboundAction.State.SENT,
            external_id=external_id,
            url=url,
            sent_at=timezone.now(),
        )
        if claimed != 1:
            raise TransitionNotAllowed(f"outbound action {action.pk} is already {action.state}")
        ReplyDraft.objects.filter(pk=action.draft_id, later=True).update(
            approved_by=None, approved_at=None, approved_text_hash="", submitted_at=None
        )
        events.happened(
            case,
            action=f"{action.kind}_sent",
            note=f"{action.get_kind_display()} sent: {url or external_id}",
        )
    return case


def mark_followed(action_id: int, *, external_id: str = "") -> Case:
    """Record that the platform confirmed our follow (follow_requested -> followed)."""
    action = OutboundAction.objects.select_related("case").get(pk=action_id)
    if action.kind != OutboundAction.Kind.FOLLOW:
        raise WorkflowError("only a follow is recorded as followed")
    case = _case(action.case)
    with transaction.atomic():
        claimed = OutboundAction.objects.filter(
            pk=action.pk,
            state__in=[OutboundAction.State.PENDING, OutboundAction.State.SENDING],
        ).update(state=OutboundAction.State.SENT, external_id=external_id, sent_at=timezone.now())
        if claimed != 1:
            raise TransitionNotAllowed(f"outbound action {action.pk} is already {action.state}")
        _move(case, to=Stage.FOLLOWED, actor=None, action="mark_followed", note="confirmed")
    return case


def follow_not_sent(action_id: int, *, reason: str) -> Case:
    """A follow that will not happen: the platform refused it, or a rule stopped it at send
    time, and the dispatcher has written its row failed or cancelled. The case goes back
    from follow_requested to engaged, ``reason`` in its history."""
    action = OutboundAction.objects.select_related("case").get(pk=action_id)
    if action.kind != OutboundAction.Kind.FOLLOW:
        raise WorkflowError("only a follow is recorded as not sent")
    if action.state not in (OutboundAction.State.FAILED, OutboundAction.State.CANCELLED):
        raise WorkflowError(f"outbound action {action.pk} is still on its way ({action.state})")
    case = _case(action.case)
    _move(case, to=Stage.ENGAGED, actor=None, action="follow_not_sent", note=reason)
    return case


def record_engagement(
    case: Case | int,
    *,
    kind: str,
    external_id: str,
    occurred_at: dt.datetime,
    text: str = "",
    payload: Mapping[str, Any] | None = None,
) -> EngagementEvent | None:
    """Record what the person did after our reply; safe to call twice for one notification.

    The worker that read the notification from the platform calls this
    (``engagement.read_notifications``); no task passes these facts in.

    A reply, mention, message or follow moves awaiting_engagement -> engaged; a
    block, mute or "stop" ends the case as opted out (rule 9). Returns None when
    the notification was already recorded.
    """
    case = _case(case)
    if kind not in EngagementEvent.Kind.values:
        raise WorkflowError(f"unknown engagement kind {kind!r}")
    if not OutboundAction.objects.sent_replies().filter(case_id=case.pk).exists():
        raise WorkflowError("nothing was sent on this case, so there is nothing to engage with")
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = EngagementEvent.objects.create(
                    case_id=case.pk,
                    platform=case.platform,
                    kind=kind,
                    external_id=external_id,
                    text=text[:MAX_DRAFT_CHARS],
                    payload=dict(payload or {}),
                    occurred_at=occurred_at,
                )
        except IntegrityError:
            return None
        if kind in REFUSING_KINDS or looks_like_opt_out(text):
            opt_out(case, actor=None, reason=f"{kind}: {text[:200]}".strip(": "))
            return event
        if kind in ENGAGING_KINDS and case.stage == Stage.AWAITING_ENGAGEMENT:
            # Rule 5 rests on this row: engaged only with the engagement stored (read
            # back, so a database that refused or dropped it stops the move too).
            if not EngagementEvent.objects.filter(
                pk=event.pk, case_id=case.pk, kind__in=ENGAGING_KINDS
            ).exists():
                raise RuleViolation(FOLLOW_AFTER_ENGAGEMENT, "no engagement is on record")
            _move(case, to=Stage.ENGAGED, actor=None, action="record_engagement", note=kind)
            if case.playbook.auto_follow:
                follow_after_engagement.delay_on_commit(case.pk)
        else:
            events.happened(case, action="record_engagement", actor=None, note=kind)
    return event


def request_follow(case: Case | int, *, actor: User | None) -> OutboundAction:
    """Queue a follow of the person, only after they engaged (engaged -> follow_requested;
    followed once the dispatcher records the platform's confirmation)."""
    case = _case(case)
    MOVES["request_follow"].require(case, actor)
    reply = OutboundAction.objects.sent_reply(case)
    assert reply is not None  # the replied check ran
    with transaction.atomic():
        _move(case, to=Stage.FOLLOW_REQUESTED, actor=actor, action="request_follow")
        try:
            with transaction.atomic():
                action = OutboundAction.objects.create(
                    case_id=case.pk,
                    kind=OutboundAction.Kind.FOLLOW,
                    account=reply.account,
                    idempotency_key=f"case{case.pk}-follow-{uuid.uuid4().hex}",
                    not_before=timezone.now(),
                )
        except IntegrityError:
            raise TransitionNotAllowed("a follow is already queued for this case") from None
    return action


def mark_no_response(
    case: Case | int, *, actor: User | None = None, now: dt.datetime | None = None
) -> Case:
    """Close a case whose engagement window passed in silence (-> no_response)."""
    case = _case(case)
    sent = (
        OutboundAction.objects.sent_replies()
        .filter(case_id=case.pk)
        .values_list("sent_at", flat=True)
        .first()
    )
    window = dt.timedelta(days=case.playbook.engagement_window_days)
    if sent is None or sent + window > now_or(now):
        raise TransitionNotAllowed("the engagement window has not passed yet")
    _move(case, to=Stage.NO_RESPONSE, actor=actor, action="mark_no_response")
    return case


def last_heard(case: Case) -> dt.datetime | None:
    """When the conversation last moved: the person's latest engagement or our latest send."""
    heard = (
        EngagementEvent.objects.filter(case_id=case.pk, kind__in=ENGAGING_KINDS)
        .order_by("-occurred_at")
        .values_list("occurred_at", flat=True)
        .first()
    )
    said = (
        OutboundAction.objects.filter(case_id=case.pk, state=OutboundAction.State.SENT)
        .order_by("-sent_at")
        .values_list("sent_at", flat=True)
        .first()
    )
    return max((t for t in (heard, said) if t is not None), default=None)


def mark_gone_quiet(
    case: Case | int, *, actor: User | None = None, now: dt.datetime | None = None
) -> Case:
    """Close a conversation silent for the playbook's engagement window (-> gone_quiet)."""
    case = _case(case)
    last = last_heard(case)
    window = dt.timedelta(days=case.playbook.engagement_window_days)
    if last is None or last + window > now_or(now):
        raise TransitionNotAllowed("the conversation was active within the playbook's window")
    if OutboundAction.objects.filter(
        case_id=case.pk, state__in=[OutboundAction.State.PENDING, OutboundAction.State.SENDING]
    ).exists():
        raise TransitionNotAllowed("something of ours is still queued on this case")
    _move(
        case,
        to=Stage.GONE_QUIET,
        actor=actor,
        action="mark_gone_quiet",
        note=f"nothing since {last:%Y-%m-%d %H:%M} UTC",
    )
    return case


def resolve(case: Case | int, *, actor: User, note: str = "") -> Case:
    """Close an engaged conversation as resolved."""
    case = _case(case)
    _move(case, to=Stage.RESOLVED, actor=actor, action="resolve", note=note)
    return case


@shared_task(name="outreach.tasks.follow_after_engagement", **ON_LOST_DATABASE)
def follow_after_engagement(case_id: int) -> int | None:
    """Queue the follow of an engaged person (playbooks with auto_follow); rule 5 applies."""
    if not is_id(case_id):
        refused("follow_after_engagement", case_id)
        return None
    if not Case.objects.filter(pk=case_id).exists():
        refused("follow_after_engagement", case_id, "is no case")
        return None
    action = try_move(
        lambda: request_follow(case_id, actor=None), what=f"no follow on case {case_id}"
    )
    return action.pk if action else None
