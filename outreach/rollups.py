"""Per-day counts of the cases opened and of the steps they reached (``CaseDay``), and of
the time they took (``CaseDay`` for the first reply, ``StaffDay`` per member of staff).

``count_step`` is called by the audit trail (``workflow/events.py``) inside each move's
transaction: a case is counted once per step (a second entry into a stage, after a
rejected draft say, is not a second case). Triage counts a batch's new cases into a
``Tally`` written in one statement at the end of the batch's transaction. Times are
counted in bins of hours (``HOUR_EDGES``): the dashboard's medians and 90th percentiles
are read from the bins, exact to the quarter hour under 4 hours and to the hour under two
days, so that its cost does not grow with the number of cases. ``rebuild`` recounts
everything from the case events, for an upgrade or a history loaded behind the
workflow's back.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.functions import TruncDate

from monitoring import counters
from outreach.models import Case, CaseDay, CaseEvent, StaffDay, Stage

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
# The stages a member of staff works a case through; the time spent in each is counted.
WORK_STAGES = (Stage.NEW, Stage.RESEARCHING, Stage.DRAFTING, Stage.AWAITING_APPROVAL)
APPROVED = "approved"
FIRST_REPLY = "first_reply:"  # + the bin of hours from opening to the first reply
IN_INCIDENT = "in_incident:"  # + the incident's id: the replied cases that belong to it
# Upper edges of the bins of hours: quarter hours to 4 h, hours to 2 days, half days to a
# week; one more bin holds everything longer.
HOUR_EDGES: tuple[float, ...] = (
    *(q / 4 for q in range(1, 17)),
    *range(5, 49),
    *range(60, 169, 12),
)


def hour_bin(hours: float) -> int:
    """The bin of ``HOUR_EDGES`` that ``hours`` falls in (``len(HOUR_EDGES)``: longer)."""
    return bisect.bisect_left(HOUR_EDGES, max(0.0, hours))


def binned_percentile(bins: Mapping[int, int], q: float) -> float | None:
    """The ``q`` quantile (0..1) of hours counted in ``bins``, interpolated inside its bin;
    the lower edge of the last bin when it falls there (its length is unknown)."""
    total = sum(bins.values())
    if not total:
        return None
    rank = q * total
    seen = 0
    for index in sorted(bins):
        n = bins[index]
        if not n:
            continue
        low = HOUR_EDGES[index - 1] if index else 0.0
        if index >= len(HOUR_EDGES):
            return low
        if seen + n >= rank:
            return low + (HOUR_EDGES[index] - low) * max(0.0, rank - seen) / n
        seen += n
    return HOUR_EDGES[-1]


def _hours(since: dt.datetime, until: dt.datetime) -> float:
    return (until - since).total_seconds() / 3600


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


def _add_staff(day: dt.date, user_id: int, brand_id: int, measure: str, bin: int = 0) -> None:
    keys = {"day": day, "user": user_id, "brand": brand_id, "measure": measure, "bin": bin}
    counters.add(StaffDay, keys, {"count": 1})


def _entered(event: CaseEvent, case: Case) -> dt.datetime:
    """When the case entered the stage ``event`` leaves: the last move into it, or opening."""
    moved_in = (
        CaseEvent.objects.filter(case_id=event.case_id, target=event.origin)
        .exclude(origin=F("target"))
        .exclude(pk=event.pk)
        .order_by("-created_at", "-pk")
        .values_list("created_at", flat=True)
        .first()
    )
    return moved_in or case.opened_at


def count_step(event: CaseEvent, case: Case | None = None, tally: Tally | None = None) -> None:
    """Count the case once in the step ``event`` took it to, if the dashboard counts it, and
    the time the case spent in the working stage it left, for the member of staff on it.
    An opening counts into ``tally`` when given (its owner writes it), else at once."""
    if event.action != "open_case" and event.origin == event.target:
        return
    if case is None:
        case = Case.objects.only("brand_id", "kind", "opened_at", "assignee_id", "incident_id").get(
            pk=event.case_id
        )
    day = case.opened_at.astimezone(dt.UTC).date()
    if event.action == "open_case":
        if tally is not None:
            tally.add(day, case.brand_id, case.kind, OPENED)
        else:
            _add(day, case.brand_id, case.kind, OPENED)
        return
    # On a claim the case is not assigned yet: the one who claims it is who it waited for.
    staff = case.assignee_id or event.actor_id
    if event.origin in WORK_STAGES and staff:
        hours = _hours(_entered(event, case), event.created_at)
        _add_staff(day, staff, case.brand_id, event.origin, hour_bin(hours))
    if event.target == Stage.APPROVED and event.actor_id:
        _add_staff(day, event.actor_id, case.brand_id, APPROVED)
    if event.target not in STAGES:
        return
    earlier = CaseEvent.objects.filter(case_id=event.case_id, target=event.target).exclude(
        Q(origin=event.target) | Q(pk=event.pk)
    )
    if earlier.exists():
        return
    steps = [event.target]
    if event.target == Stage.OPTED_OUT:
        blocked = any(event.note.startswith(prefix) for prefix in BLOCKING)
        steps.append(BLOCKED if blocked else STOPPED)
    if event.target == Stage.AWAITING_ENGAGEMENT:
        steps.append(FIRST_REPLY + str(hour_bin(_hours(case.opened_at, event.created_at))))
        if case.incident_id:
            steps.append(IN_INCIDENT + str(case.incident_id))
    if tally is not None:
        for step in steps:
            tally.add(day, case.brand_id, case.kind, step)
    else:
        # The steps of one event in one upsert (a first reply counts two).
        counters.add_all(
            CaseDay, ((_keys(day, case.brand_id, case.kind, step), {"count": 1}) for step in steps)
        )


def count_times(
    events: Iterable[
        tuple[int, dt.datetime, int, str, int | None, str, str, int | None, dt.datetime]
    ],
) -> tuple[Counter[tuple[dt.date, int, str, str]], Counter[tuple[dt.date, int, int, str, int]]]:
    """The first-reply bins and replies per incident (CaseDay keys) and the staff counts
    (StaffDay keys) of stage changes ``(case, opened_at, brand, kind, assignee, incident,
    origin, target, actor, at)`` given in order of case and time: what ``count_step``
    counts one event at a time."""
    case_days: Counter[tuple[dt.date, int, str, str]] = Counter()
    staff_days: Counter[tuple[dt.date, int, int, str, int]] = Counter()
    current = None
    entered: dict[str, dt.datetime] = {}
    replied = False
    for case_id, opened, brand, kind, assignee, incident, origin, target, actor, at in events:
        if case_id != current:
            current, entered, replied = case_id, {}, False
        day = opened.astimezone(dt.UTC).date()
        staff = assignee or actor
        if origin in WORK_STAGES and staff:
            since = entered.get(origin, opened)
            staff_days[(day, staff, brand, origin, hour_bin(_hours(since, at)))] += 1
        if target == Stage.APPROVED and actor:
            staff_days[(day, actor, brand, APPROVED, 0)] += 1
        if target == Stage.AWAITING_ENGAGEMENT and not replied:
            replied = True
            case_days[(day, brand, kind, FIRST_REPLY + str(hour_bin(_hours(opened, at))))] += 1
            if incident:
                case_days[(day, brand, kind, IN_INCIDENT + str(incident))] += 1
        entered[target] = at
    return case_days, staff_days


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
        changes = (
            CaseEvent.objects.exclude(origin=F("target"))
            .exclude(action="open_case")
            .order_by("case_id", "created_at", "pk")
            .values_list(
                "case_id",
                "case__opened_at",
                "case__brand_id",
                "case__kind",
                "case__assignee_id",
                "case__incident_id",
                "origin",
                "target",
                "actor_id",
                "created_at",
            )
        )
        replies, staff = count_times(changes.iterator(chunk_size=5000))
        counted.update(replies)
        CaseDay.objects.bulk_create(
            [
                CaseDay(day=day, brand_id=brand, kind=kind, step=step, count=n)
                for (day, brand, kind, step), n in counted.items()
            ],
            batch_size=2000,
        )
        StaffDay.objects.all().delete()
        StaffDay.objects.bulk_create(
            [
                StaffDay(day=day, user_id=user, brand_id=brand, measure=measure, bin=bin, count=n)
                for (day, user, brand, measure, bin), n in staff.items()
            ],
            batch_size=2000,
        )
    return len(counted) + len(staff)
