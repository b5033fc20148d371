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


def _close(case: Case | int, move: str, *, actor: User | None, note: str, missing: str) -> Case:
    """Make closing ``move`` with its (required) note and cancel what is queued, atomically."""
    case = _case(case)
    note = note.strip()
    if not note:
        raise WorkflowError(missing)
    target = MOVES[move].target
    fields = {"dismiss_reason": note[:MAX_NOTE_CHARS]} if move == "dismiss" else None
    with transaction.atomic():
        _move(case, to=str(target), actor=actor, action=move, note=note, fields=fields)
        _cancel_pending(case, f"case {target}")
    return case


def dismiss(case: Case | int, *, actor: User | None, reason: str) -> Case:
    """Close an open case without (further) contact, with the reason."""
    return _close(case, "dismiss", actor=actor, note=reason, missing="a dismissal needs a reason")


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
    return _close(case, "mark_failed", actor=actor, note=note, missing="say why the case failed")


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
