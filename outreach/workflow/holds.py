"""Rule 6, service first: a competitor case is put on hold while we serve the same person.

A customer who complains about us is never dropped because a competitor case is
open for them (DESIGN, "Own-brand playbook"). Opening their own-brand case puts
the open competitor case on hold (``Case.on_hold``, ``Case.held_by``); while it
is held, ``checks.not_held`` refuses every move that reaches out to the person
(claim, draft, submit, approve, follow) and the dispatcher defers its sends.
When the own-brand case closes, ``_move`` lifts the hold in the same transaction
and the competitor case goes on under its playbook's rules: the expiry tick ends
it if its post went stale or its engagement window passed meanwhile.

Both cases' histories record the hold and its end. The database holds the rest:
one open case per person per kind, one open case not on hold per person, and
only an open competitor case can be held (``Case.Meta.constraints``).
"""

from __future__ import annotations

from outreach.models import OPEN_STAGES, Case, PlaybookKind
from outreach.workflow import events
from outreach.workflow.rules import User


def _record(case_id: int, *, action: str, actor: User | None, note: str) -> None:
    stage = Case.objects.filter(pk=case_id).values_list("stage", flat=True).get()
    events.stage_change(case_id, action=action, origin=stage, target=stage, actor=actor, note=note)


def hold_for(person_id: int) -> list[int]:
    """Put the person's open competitor case on hold, before their own-brand case is
    created; its id (or none). Inside the opening transaction, under a row lock."""
    held = list(
        Case.objects.select_for_update()
        .filter(
            person_id=person_id,
            kind=PlaybookKind.COMPETITOR,
            stage__in=OPEN_STAGES,
            on_hold=False,
        )
        .values_list("pk", flat=True)
    )
    # Held first: the one-open-case index then sees the new own-brand case alone.
    Case.objects.filter(pk__in=held).update(on_hold=True)
    return held


def link(held: list[int], holder: Case, *, actor: User | None) -> None:
    """Name the own-brand case that holds ``held`` and record the hold in both histories."""
    for case_id in held:
        Case.objects.filter(pk=case_id, on_hold=True).update(held_by=holder)
        _record(
            case_id,
            action="hold",
            actor=actor,
            note=f"on hold: we serve this person in own-brand case {holder.pk}; "
            "no outreach until it closes",
        )
        events.happened(
            holder,
            action="hold",
            actor=actor,
            note=f"competitor case {case_id} put on hold while we serve this person",
        )


def lift(holder: Case, *, actor: User | None, closed_as: str) -> list[int]:
    """The own-brand case ``holder`` closed: lift its holds and record it; the ids.
    Inside the closing move's transaction, after its stage changed."""
    held = list(Case.objects.filter(held_by_id=holder.pk).values_list("pk", flat=True))
    for case_id in held:
        Case.objects.filter(pk=case_id).update(on_hold=False, held_by=None)
        _record(
            case_id,
            action="hold_lifted",
            actor=actor,
            note=f"own-brand case {holder.pk} is {closed_as}: this case goes on under "
            "its playbook's rules",
        )
        _record(
            holder.pk, action="hold_lifted", actor=actor, note=f"competitor case {case_id} resumes"
        )
    return held
