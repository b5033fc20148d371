"""Closing a case before its conversation ends: dismissed, expired, failed, opted out."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from outreach.models import (
    Case,
    DoNotContact,
    OutboundAction,
    Stage,
)
from outreach.workflow import checks, events
from outreach.workflow.checks import Attempt, dnc_entry
from outreach.workflow.rules import (
    MAX_NOTE_CHARS,
    TransitionNotAllowed,
    User,
    WorkflowError,
    actor_id,
    now_or,
)
from outreach.workflow.table import MOVES, _cancel_pending, _case, _move


def dismiss(case: Case | int, *, actor: User | None, reason: str) -> Case:
    """Close an open case without (further) contact, with the reason."""
    case = _case(case)
    reason = reason.strip()
    if not reason:
        raise WorkflowError("a dismissal needs a reason")
    with transaction.atomic():
        _move(
            case,
            to=Stage.DISMISSED,
            actor=actor,
            action="dismiss",
            note=reason,
            fields={"dismiss_reason": reason[:MAX_NOTE_CHARS]},
        )
        _cancel_pending(case, "case dismissed")
    return case


def expire(case: Case | int, *, actor: User | None = None, now: dt.datetime | None = None) -> Case:
    """Close a case whose post got too old before our reply went out (rule 8)."""
    case = _case(case)
    if checks.fresh(Attempt(case, now=now_or(now))) is None:
        raise TransitionNotAllowed(f"case {case.pk} is still within the freshness limit")
    if case.stage not in MOVES["expire"].sources:
        raise TransitionNotAllowed(f"cannot expire: case is {case.stage}")
    with transaction.atomic():
        if OutboundAction.objects.filter(
            case_id=case.pk, state=OutboundAction.State.SENDING
        ).exists():
            raise TransitionNotAllowed("the reply is being sent; the dispatcher decides")
        _move(
            case,
            to=Stage.EXPIRED,
            actor=actor,
            action="expire",
            note=f"post older than {case.playbook.freshness_hours} h",
        )
        _cancel_pending(case, "case expired")
    return case


def mark_failed(case: Case | int, *, actor: User | None, note: str) -> Case:
    """End a case that cannot go on (the post was deleted, the account is gone...)."""
    case = _case(case)
    note = note.strip()
    if not note:
        raise WorkflowError("say why the case failed")
    with transaction.atomic():
        _move(case, to=Stage.FAILED, actor=actor, action="mark_failed", note=note)
        _cancel_pending(case, "case failed")
    return case


def opt_out(case: Case | int, *, actor: User | None, reason: str) -> Case:
    """The person asked us to stop: close the case, cancel sends, never contact again (rule 9)."""
    case = _case(case)
    reason = reason.strip() or "asked us to stop"
    with transaction.atomic():
        person = case.person
        entry = dnc_entry(case.platform, person.external_id, person.handle)
        if entry is None:
            DoNotContact.objects.create(
                platform=case.platform,
                person_external_id=person.external_id,
                handle=person.handle,
                reason=f"opted out on case {case.pk}: {reason}"[:MAX_NOTE_CHARS],
                added_by_id=actor_id(actor),
            )
        _cancel_pending(case, "person opted out")
        if case.stage in MOVES["opt_out"].sources:
            _move(case, to=Stage.OPTED_OUT, actor=actor, action="opt_out", note=reason)
        else:
            events.happened(case, action="opt_out", actor=actor, note=reason)
    return case
