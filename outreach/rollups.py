"""Per-day counts of the cases opened and of the steps they reached (``CaseDay``).

``count_step`` is called by the audit trail (``workflow/events.py``) inside each move's
transaction: a case is counted once per step (a second entry into a stage, after a
rejected draft say, is not a second case). Triage counts a batch's new cases into a
``Tally`` written in one statement at the end of the batch's transaction. ``rebuild``
recounts everything from the case events, for an upgrade or a history loaded behind
the workflow's back.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import TruncDate

from monitoring import counters
from outreach.models import Case, CaseDay, CaseEvent, Stage

OPENED = "opened"
BLOCKED = "blocked"
STOPPED = "stopped"
# The stages the dashboard counts a case reaching.
STAGES = (
    Stage.DRAFTING,
    Stage.AWAITING_ENGAGEMENT,
    Stage.ENGAGED,
    Stage.FOLLOWED,
    Stage.OPTED_OUT,
    Stage.NO_RESPONSE,
)
# An opt-out's note starts with what the person did (workflow/conversation.py).
BLOCKING = ("block", "mute")


def blocking_note() -> Q:
    q = Q()
    for prefix in BLOCKING:
        q |= Q(note__startswith=prefix)
    return q


def _keys(day: dt.date, brand_id: int, kind: str, step: str) -> dict[str, object]:
    return {"day": day, "brand": brand_id, "kind": kind, "step": step}


def _add(day: dt.date, brand_id: int, kind: str, step: str) -> None:
    counters.add(CaseDay, _keys(day, brand_id, kind, step), {"count": 1})


class Tally:
    """Steps counted for a batch of moves, written together by ``flush`` (one query).

    Triage opens a batch of cases in one transaction: counting each in its own upsert
    would cost a query per case. A move that may still be undone (its savepoint rolled
    back) counts into a tally of its own, merged into the batch's once it stands.
    """

    def __init__(self) -> None:
        self.counts: Counter[tuple[dt.date, int, str, str]] = Counter()

    def add(self, day: dt.date, brand_id: int, kind: str, step: str) -> None:
        self.counts[(day, brand_id, kind, step)] += 1

    def merge(self, other: Tally) -> None:
        self.counts.update(other.counts)

    def flush(self) -> None:
        """Write the counts (inside the batch's transaction) and start again from none."""
        counters.add_all(CaseDay, ((_keys(*key), {"count": n}) for key, n in self.counts.items()))
        self.counts.clear()


def count_step(event: CaseEvent, case: Case | None = None, tally: Tally | None = None) -> None:
    """Count the case once in the step ``event`` took it to, if the dashboard counts it;
    into ``tally`` when given (its owner writes it), else at once."""
    if event.action == "open_case":
        steps = [OPENED]
    elif event.origin != event.target and event.target in STAGES:
        earlier = CaseEvent.objects.filter(case_id=event.case_id, target=event.target).exclude(
            Q(origin=event.target) | Q(pk=event.pk)
        )
        if earlier.exists():
            return
        steps = [event.target]
        if event.target == Stage.OPTED_OUT:
            blocked = any(event.note.startswith(prefix) for prefix in BLOCKING)
            steps.append(BLOCKED if blocked else STOPPED)
    else:
        return
    if case is None:
        case = Case.objects.only("brand_id", "kind", "opened_at").get(pk=event.case_id)
    day = case.opened_at.astimezone(dt.UTC).date()
    for step in steps:
        if tally is not None:
            tally.add(day, case.brand_id, case.kind, step)
        else:
            _add(day, case.brand_id, case.kind, step)


def rebuild() -> int:
    """Recount every day from the cases and their events (slow: once, at an upgrade)."""
    counted: dict[tuple[dt.date, int, str, str], int] = {}

    def tally(step: str, cases: object) -> None:
        for row in (
            cases.annotate(day=TruncDate("opened_at"))  # type: ignore[attr-defined]
            .order_by()
            .values("day", "brand_id", "kind")
            .annotate(n=Count("pk"))
        ):
            counted[(row["day"], row["brand_id"], row["kind"], step)] = row["n"]

    def reached(stage: str, extra: Q | None = None) -> Exists:
        events = CaseEvent.objects.filter(case_id=OuterRef("pk"), target=stage).exclude(
            origin=stage
        )
        return Exists(events.filter(extra) if extra is not None else events)

    with transaction.atomic():
        CaseDay.objects.all().delete()
        tally(OPENED, Case.objects.all())
        for stage in STAGES:
            tally(stage, Case.objects.filter(reached(stage)))
        tally(BLOCKED, Case.objects.filter(reached(Stage.OPTED_OUT, blocking_note())))
        tally(STOPPED, Case.objects.filter(reached(Stage.OPTED_OUT, ~blocking_note())))
        CaseDay.objects.bulk_create(
            [
                CaseDay(day=day, brand_id=brand, kind=kind, step=step, count=n)
                for (day, brand, kind, step), n in counted.items()
            ],
            batch_size=2000,
        )
    return len(counted)
