"""The audit trail (rule 10): the only code that writes CaseEvent rows.

Every stage change records its origin and target; everything else that happens
to a case (a send refused, an alert, an assignment) records the stage it was in
as both. Rows are never edited (the model and the database refuse it).
"""

from __future__ import annotations

from outreach import rollups
from outreach.models import Case, CaseEvent
from outreach.workflow.rules import MAX_NOTE_CHARS, User, actor_id


def stage_change(
    case_id: int,
    *,
    action: str,
    origin: str,
    target: str,
    actor: User | None,
    note: str = "",
    case: Case | None = None,
    tally: rollups.Tally | None = None,
) -> CaseEvent:
    """Record a move from ``origin`` to ``target``; inside the move's transaction. The
    dashboard's per-day counts (outreach/rollups.py) follow in the same transaction, or
    go into ``tally`` for the caller to write with the rest of its batch."""
    event = CaseEvent.objects.create(
        case_id=case_id,
        action=action,
        origin=origin,
        target=target,
        actor_id=actor_id(actor),
        note=note[:MAX_NOTE_CHARS],
    )
    rollups.count_step(event, case, tally)
    return event


def happened(
    case: Case,
    *,
    action: str,
    actor: User | None = None,
    note: str = "",
    tally: rollups.Tally | None = None,
) -> CaseEvent:
    """Record something that happened to a case without a stage change."""
    return stage_change(
        case.pk,
        action=action,
        origin=case.stage,
        target=case.stage,
        actor=actor,
        note=note,
        case=case,
        tally=tally,
    )


def happened_to(case_id: int, *, action: str, note: str) -> CaseEvent | None:
    """The same for a case known by id only (the dispatcher): its stage is read now."""
    stage = Case.objects.filter(pk=case_id).values_list("stage", flat=True).first()
    if stage is None:
        return None
    return stage_change(case_id, action=action, origin=stage, target=stage, actor=None, note=note)
