"""The transition table and the one function that changes a case's stage."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from outreach.models import (
    OPEN_STAGES,
    Case,
    CaseEvent,
    OutboundAction,
    Stage,
)
from outreach.workflow.rules import MAX_NOTE_CHARS, TransitionNotAllowed, User, WorkflowError

_ENDINGS = frozenset({Stage.DISMISSED, Stage.OPTED_OUT, Stage.FAILED})

ALLOWED: dict[str, frozenset[str]] = {
    Stage.NEW: frozenset({Stage.RESEARCHING, Stage.EXPIRED}) | _ENDINGS,
    Stage.RESEARCHING: frozenset({Stage.DRAFTING, Stage.EXPIRED}) | _ENDINGS,
    Stage.DRAFTING: frozenset({Stage.AWAITING_APPROVAL, Stage.EXPIRED}) | _ENDINGS,
    Stage.AWAITING_APPROVAL: frozenset({Stage.APPROVED, Stage.DRAFTING, Stage.EXPIRED}) | _ENDINGS,
    Stage.APPROVED: frozenset({Stage.AWAITING_ENGAGEMENT, Stage.DRAFTING, Stage.EXPIRED})
    | _ENDINGS,
    Stage.AWAITING_ENGAGEMENT: frozenset({Stage.ENGAGED, Stage.NO_RESPONSE}) | _ENDINGS,
    Stage.ENGAGED: frozenset({Stage.FOLLOWED, Stage.RESOLVED}) | _ENDINGS,
    Stage.FOLLOWED: frozenset({Stage.RESOLVED}) | _ENDINGS,
    # Closed stages: only the person's own "stop" (and, for own-brand cases,
    # asking whether they would amend the post) still applies.
    Stage.RESOLVED: frozenset({Stage.AMEND_REQUESTED, Stage.OPTED_OUT}),
    Stage.AMEND_REQUESTED: frozenset({Stage.OPTED_OUT}),
    Stage.NO_RESPONSE: frozenset({Stage.OPTED_OUT}),
    Stage.DISMISSED: frozenset(),
    Stage.EXPIRED: frozenset(),
    Stage.OPTED_OUT: frozenset(),
    Stage.FAILED: frozenset(),
}


def _actor_id(actor: User | None) -> int | None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    return actor.pk  # type: ignore[return-value]


def _person_id(actor: User | None) -> int:
    """The id of the person doing something only a person can do (research, drafts)."""
    pk = _actor_id(actor)
    if pk is None:
        raise WorkflowError("only a signed-in person can do this")
    return pk


def _event(case: Case, *, action: str, actor: User | None, note: str = "") -> CaseEvent:
    """Record something that happened to a case without a stage change (rule 10)."""
    return CaseEvent.objects.create(
        case_id=case.pk,
        action=action,
        origin=case.stage,
        target=case.stage,
        actor_id=_actor_id(actor),
        note=note[:MAX_NOTE_CHARS],
    )


def _move(
    case: Case,
    *,
    to: str,
    actor: User | None,
    action: str,
    note: str = "",
    fields: Mapping[str, Any] | None = None,
) -> None:
    """Change ``case.stage`` by compare-and-set and record a CaseEvent, atomically."""
    origin = case.stage
    if to not in ALLOWED[origin]:
        raise TransitionNotAllowed(f"cannot {action.replace('_', ' ')}: case is {origin}")
    updates: dict[str, Any] = dict(fields or {})
    if to not in OPEN_STAGES and origin in OPEN_STAGES:
        updates["closed_at"] = timezone.now()
    with transaction.atomic():
        if Case.objects.filter(pk=case.pk, stage=origin).update(stage=to, **updates) != 1:
            raise TransitionNotAllowed(
                f"case {case.pk} is no longer {origin} (someone else moved it); reload the page"
            )
        CaseEvent.objects.create(
            case_id=case.pk,
            action=action,
            origin=origin,
            target=to,
            actor_id=_actor_id(actor),
            note=note[:MAX_NOTE_CHARS],
        )
    case.stage = to
    for name, value in updates.items():
        setattr(case, name, value)


def _case(case: Case | int) -> Case:
    if isinstance(case, Case):
        # Decide on the stage as it is now, not as the caller last saw it; the
        # compare-and-set in _move still catches a change between here and there.
        case.refresh_from_db(fields=["stage", "closed_at", "assignee", "incident"])
        return case
    return Case.objects.select_related("post", "person", "brand", "playbook").get(pk=case)


def _cancel_pending(case: Case, reason: str) -> int:
    """Cancel outbox rows not yet claimed by the dispatcher (sending rows are left alone)."""
    return OutboundAction.objects.filter(
        case_id=case.pk, state=OutboundAction.State.PENDING
    ).update(state=OutboundAction.State.CANCELLED, error=reason[:MAX_NOTE_CHARS])


def _now(now: dt.datetime | None = None) -> dt.datetime:
    return now or timezone.now()
