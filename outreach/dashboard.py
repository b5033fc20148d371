"""The team's dashboard: its figures, for a period and some brands, from small tables.

Each panel is a list of rows (dicts) with the cases behind every figure selectable by
``CohortFilter`` in the queue (``cohort_query`` builds that link). Nothing here reads
the posts: complaints and mentions come from ``monitoring.BrandDay`` (kept as posts
are judged), the funnel and the jackal check from ``outreach.CaseDay`` (kept by the
workflow's audit trail), time to first reply and time in each working stage from the
same trail's bins of hours (``CaseDay`` ``first_reply:<bin>``, ``outreach.StaffDay``),
incidents from their own small table, replies per incident from ``CaseDay``
``in_incident:<id>``. Only the open cases are read from the case table, by its indexes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from monitoring.models import Brand, BrandDay, Incident
from outreach import rollups
from outreach.models import (
    OPEN_STAGES,
    Case,
    CaseDay,
    CaseEvent,
    Playbook,
    PlaybookKind,
    StaffDay,
    Stage,
)

DEFAULT_DAYS = 28
MAX_DAYS = 366
SOON = dt.timedelta(hours=1)

# The funnel: a step is reached when the case entered that stage (its CaseEvent).
FUNNEL = (
    ("detected", "Detected", None),
    ("case", "Case", None),
    ("researched", "Researched", Stage.DRAFTING),
    ("replied", "Replied", Stage.AWAITING_ENGAGEMENT),
    ("engaged", "Engaged", Stage.ENGAGED),
    ("followed", "Followed", Stage.FOLLOWED),
)
REACHED = {key: stage for key, _, stage in FUNNEL if stage}


class PeriodError(ValueError):
    """A period or brand choice the dashboard cannot use (shown to the user as is)."""


@dataclasses.dataclass(frozen=True)
class Period:
    """Days ``start`` to ``end`` inclusive (UTC), and the brands chosen (none: all)."""

    start: dt.date
    end: dt.date
    brand_ids: tuple[int, ...] = ()

    @property
    def since(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), tzinfo=dt.UTC)

    @property
    def until(self) -> dt.datetime:
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]


def default_period(today: dt.date | None = None) -> Period:
    today = today or timezone.now().astimezone(dt.UTC).date()
    return Period(today - dt.timedelta(days=DEFAULT_DAYS - 1), today)


def parse_period(params: Any, today: dt.date | None = None) -> Period:
    """The period and brands from query parameters ``start``, ``end`` and ``brand``."""
    fallback = default_period(today)

    def day(name: str, default: dt.date) -> dt.date:
        raw = (params.get(name) or "").strip()
        if not raw:
            return default
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise PeriodError(f"The {name} date must look like 2026-11-30.") from None

    start, end = day("start", fallback.start), day("end", fallback.end)
    if end < start:
        raise PeriodError("The period ends before it starts.")
    if (end - start).days + 1 > MAX_DAYS:
        raise PeriodError(f"Choose a period of at most {MAX_DAYS} days.")
    raw_brands = params.getlist("brand") if hasattr(params, "getlist") else []
    brand_ids: list[int] = []
    for raw in raw_brands:
        if not str(raw).isdigit():
            raise PeriodError("Choose brands from the list.")
        brand_ids.append(int(raw))
    if brand_ids and Brand.objects.filter(pk__in=brand_ids).count() != len(set(brand_ids)):
        raise PeriodError("Choose brands from the list.")
    return Period(start, end, tuple(sorted(set(brand_ids))))


def cohort(period: Period, kind: str | None = None) -> QuerySet[Case]:
    """The cases opened in the period (of the chosen brands, and kind)."""
    cases = Case.objects.filter(opened_at__gte=period.since, opened_at__lt=period.until)
    if period.brand_ids:
        cases = cases.filter(brand_id__in=period.brand_ids)
    if kind:
        cases = cases.filter(kind=kind)
    return cases


def reached(stage: str) -> Exists:
    return Exists(
        CaseEvent.objects.filter(case_id=OuterRef("pk"), target=stage).exclude(origin=stage)
    )


def refused(how: str) -> Exists:
    """The case ended opted out by a block or mute (``blocked``) or by words (``stopped``)."""
    events = CaseEvent.objects.filter(case_id=OuterRef("pk"), target=Stage.OPTED_OUT).exclude(
        origin=Stage.OPTED_OUT
    )
    blocking = rollups.blocking_note()
    return Exists(events.filter(blocking) if how == "blocked" else events.exclude(blocking))


def detections_query(period: Period, kind: str) -> dict[str, str]:
    """The detection list's parameters selecting the complaints counted as detected."""
    brand_kind = Brand.Kind.OWN if kind == PlaybookKind.OWN_BRAND else Brand.Kind.COMPETITOR
    brands = Brand.objects.filter(kind=brand_kind)
    if period.brand_ids:
        brands = brands.filter(pk__in=period.brand_ids)
    return {
        "complaint__exact": "1",
        "brand__id__in": ",".join(str(pk) for pk in brands.values_list("pk", flat=True)) or "0",
        "posted_at__gte": period.since.isoformat(),
        "posted_at__lt": period.until.isoformat(),
    }


def cohort_query(period: Period, **extra: str) -> dict[str, str]:
    """The queue's parameters selecting the period's cases (``CohortFilter``), plus ``extra``."""
    query = {"queue": "all", "opened_from": period.start.isoformat()}
    query["opened_to"] = period.end.isoformat()
    if period.brand_ids:
        query["brands"] = ",".join(map(str, period.brand_ids))
    query.update(extra)
    return query


# --- panels -----------------------------------------------------------------------------


def funnel(period: Period) -> list[dict[str, Any]]:
    """Per kind (competitor, own brand) and step: the count, and the share of the step before."""
    detected = complaints_by_kind(period)
    counts = _funnel_counts(period)
    rows = []
    for kind, label in PlaybookKind.choices:
        before: int | None = None
        for key, step, stage in FUNNEL:
            n = detected.get(kind, 0) if key == "detected" else counts.get(kind, {}).get(key, 0)
            link: dict[str, str] | None
            if key == "detected":
                link = detections_query(period, kind)
            else:
                link = cohort_query(
                    period, kind__exact=kind, **({"reached": stage} if stage else {})
                )
            rows.append(
                {
                    "kind": label,
                    "kind_code": kind,
                    "step": step,
                    "count": n,
                    "conversion": None if before in (None, 0) else round(100 * n / before),
                    "link": link,
                    "detected": key == "detected",
                }
            )
            before = n
    return rows


STEP_OF = {"case": "opened", **{key: stage for key, stage in REACHED.items()}}


def _case_days(period: Period) -> QuerySet[CaseDay]:
    days = CaseDay.objects.filter(day__gte=period.start, day__lte=period.end)
    if period.brand_ids:
        days = days.filter(brand_id__in=period.brand_ids)
    return days


def _funnel_counts(period: Period) -> dict[str, dict[str, int]]:
    """From the per-day rollup: per kind, the cases opened and reaching each step."""
    by_step = {step: key for key, step in STEP_OF.items()}
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    rows = (
        _case_days(period)
        .filter(step__in=list(by_step))
        .order_by()
        .values("kind", "step")
        .annotate(n=Sum("count"))
    )
    for row in rows:
        counts[row["kind"]][by_step[row["step"]]] = row["n"] or 0
    return counts


def complaints_by_kind(period: Period) -> dict[str, int]:
    rows = _brand_days(period).values("brand__kind").annotate(n=Sum("complaints")).order_by()
    kinds = {Brand.Kind.OWN: PlaybookKind.OWN_BRAND, Brand.Kind.COMPETITOR: PlaybookKind.COMPETITOR}
    return {kinds[row["brand__kind"]]: row["n"] or 0 for row in rows}


def _brand_days(period: Period) -> QuerySet[BrandDay]:
    days = BrandDay.objects.filter(day__gte=period.start, day__lte=period.end)
    if period.brand_ids:
        days = days.filter(brand_id__in=period.brand_ids)
    return days


def complaints(period: Period) -> dict[str, Any]:
    """Per brand: complaints and mentions per day, share of all complaints, rate per 1,000."""
    brands = {b.pk: b for b in Brand.objects.all()}
    per_day: dict[int, dict[dt.date, tuple[int, int]]] = defaultdict(dict)
    for brand_id, day, n_complaints, n_mentions in _brand_days(period).values_list(
        "brand_id", "day", "complaints", "mentions"
    ):
        per_day[brand_id][day] = (n_complaints, n_mentions)
    total = sum(c for days in per_day.values() for c, _ in days.values())
    incidents = Incident.objects.filter(
        last_seen_at__gte=period.since, first_seen_at__lt=period.until
    )
    if period.brand_ids:
        incidents = incidents.filter(brand_id__in=period.brand_ids)
    marks: dict[int, list[tuple[dt.date, int, str]]] = defaultdict(list)
    for pk, brand_id, first, topic in incidents.values_list(
        "pk", "brand_id", "first_seen_at", "topic"
    ).order_by("first_seen_at")[:200]:
        marks[brand_id].append((max(first.astimezone(dt.UTC).date(), period.start), pk, topic))
    shown = [b for b in brands.values() if b.pk in per_day or b.pk in period.brand_ids]
    shown.sort(key=lambda b: (b.kind != Brand.Kind.OWN, b.name))
    rows = []
    for brand in shown:
        days = per_day.get(brand.pk, {})
        n = sum(c for c, _ in days.values())
        mentions = sum(m for _, m in days.values())
        rows.append(
            {
                "brand": brand,
                "own": brand.kind == Brand.Kind.OWN,
                "complaints": n,
                "mentions": mentions,
                "share": None if not total else round(100 * n / total, 1),
                "per_thousand": None if not mentions else round(1000 * n / mentions, 1),
                "series": [days.get(d, (0, 0))[0] for d in period.days()],
                "incidents": marks.get(brand.pk, []),
            }
        )
    return {"days": period.days(), "rows": rows, "total": total}


def _weeks(period: Period) -> list[dt.date]:
    first = period.start - dt.timedelta(days=period.start.weekday())
    return [first + dt.timedelta(weeks=i) for i in range((period.end - first).days // 7 + 1)]


def active_playbook(kind: str) -> Playbook | None:
    return Playbook.objects.filter(kind=kind, is_active=True).order_by("-version").first()


def service(period: Period, now: dt.datetime | None = None) -> dict[str, Any]:
    """Own brand: hours to first reply per week (median, 90th percentile) against the SLA,
    and the open cases past or near their due time."""
    now = now or timezone.now()
    playbook = active_playbook(PlaybookKind.OWN_BRAND)
    sla = playbook.due_hours if playbook else None
    bins: dict[dt.date, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    rows = (
        _case_days(period)
        .filter(kind=PlaybookKind.OWN_BRAND, step__startswith=rollups.FIRST_REPLY)
        .values_list("day", "step", "count")
    )
    for day, step, n in rows:
        week = day - dt.timedelta(days=day.weekday())
        bins[week][int(step.removeprefix(rollups.FIRST_REPLY))] += n
    weeks = []
    for week in _weeks(period):
        counted = bins.get(week, {})
        median = rollups.binned_percentile(counted, 0.5)
        p90 = rollups.binned_percentile(counted, 0.9)
        weeks.append(
            {
                "week": week,
                "replies": sum(counted.values()),
                "median_hours": None if median is None else round(median, 1),
                "p90_hours": None if p90 is None else round(p90, 1),
                "over_sla": sla is not None and p90 is not None and p90 > sla,
            }
        )
    open_own = Case.objects.filter(kind=PlaybookKind.OWN_BRAND, stage__in=OPEN_STAGES)
    if period.brand_ids:
        open_own = open_own.filter(brand_id__in=period.brand_ids)
    due = open_own.aggregate(
        overdue=Count("pk", filter=Q(due_at__lt=now)),
        soon=Count("pk", filter=Q(due_at__gte=now, due_at__lt=now + SOON)),
    )
    brands = ",".join(map(str, period.brand_ids))
    return {
        "sla_hours": sla,
        "weeks": weeks,
        "overdue": due["overdue"],
        "soon": due["soon"],
        "overdue_link": _due_query("overdue", brands),
        "soon_link": _due_query("soon", brands),
    }


def _due_query(due: str, brands: str) -> dict[str, str]:
    query = {"queue": "all", "kind__exact": PlaybookKind.OWN_BRAND, "due": due}
    if brands:
        query["brands"] = brands
    return query


JACKAL_MEASURES = (
    ("opted_out", "Opted out", "alert_opt_out_percent"),
    ("stopped", '"Stop" answers', "alert_stop_percent"),
    ("blocked", "Blocks and mutes", "alert_block_percent"),
    ("no_response", "No response", "alert_no_response_percent"),
)


def jackals(period: Period) -> dict[str, Any]:
    """Per week of competitor cases replied to: how many refused us or never answered, and
    replies per incident, against the competitor playbook's thresholds."""
    playbook = active_playbook(PlaybookKind.COMPETITOR)
    per_week: dict[dt.date, dict[str, Any]] = defaultdict(
        lambda: (
            {"replied": 0, "incidents": set(), "in_incidents": 0}
            | {key: 0 for key, _, _ in JACKAL_MEASURES}
        )
    )
    steps = {Stage.AWAITING_ENGAGEMENT: "replied", **{key: key for key, _, _ in JACKAL_MEASURES}}
    # Replies per incident: the replied cases counted per incident they belonged to.
    in_incident = Q(step__startswith=rollups.IN_INCIDENT)
    rows = (
        _case_days(period)
        .filter(Q(step__in=list(steps)) | in_incident, kind=PlaybookKind.COMPETITOR)
        .values_list("day", "step", "count")
    )
    for day, step, n in rows:
        week = per_week[day - dt.timedelta(days=day.weekday())]
        if step.startswith(rollups.IN_INCIDENT):
            week["incidents"].add(step)
            week["in_incidents"] += n
        else:
            week[steps[step]] += n
    limit = playbook.max_replies_per_incident if playbook else None
    weeks = []
    for start in _weeks(period):
        week = per_week.get(start) or per_week.default_factory()  # type: ignore[misc]
        measures = []
        for key, label, field in JACKAL_MEASURES:
            threshold = getattr(playbook, field) if playbook else None
            rate = None if not week["replied"] else round(100 * week[key] / week["replied"], 1)
            measures.append(
                {
                    "key": key,
                    "label": label,
                    "count": week[key],
                    "rate": rate,
                    "threshold": threshold,
                    "crossed": rate is not None and threshold is not None and rate > threshold,
                    "link": _week_query(period, start, key),
                }
            )
        per_incident = (
            None
            if not week["incidents"]
            else round(week["in_incidents"] / len(week["incidents"]), 1)
        )
        weeks.append(
            {
                "week": start,
                "replied": week["replied"],
                "replied_link": _week_query(period, start, "replied"),
                "measures": measures,
                "per_incident": per_incident,
                "per_incident_threshold": limit,
                "per_incident_crossed": per_incident is not None
                and limit is not None
                and per_incident > limit,
            }
        )
    return {"weeks": weeks, "measures": JACKAL_MEASURES}


def _week_query(period: Period, week: dt.date, key: str) -> dict[str, str]:
    start = max(week, period.start)
    end = min(week + dt.timedelta(days=6), period.end)
    week_period = Period(start, end, period.brand_ids)
    extra = {"kind__exact": PlaybookKind.COMPETITOR}
    if key in ("blocked", "stopped"):
        extra["ended"] = key
    else:
        extra["reached"] = Stage.AWAITING_ENGAGEMENT if key == "replied" else key
    return cohort_query(week_period, **extra)


def workload(period: Period) -> list[dict[str, Any]]:
    """Per member of staff: open cases, drafts awaiting approval (as author), approvals given on
    the period's cases, and the median hours their cases of the period spent in each stage
    (from ``StaffDay``)."""
    from django.contrib.auth import get_user_model

    users = {u.pk: u for u in get_user_model().objects.filter(is_staff=True, is_active=True)}
    open_cases = Case.objects.filter(stage__in=OPEN_STAGES, assignee__isnull=False)
    if period.brand_ids:
        open_cases = open_cases.filter(brand_id__in=period.brand_ids)
    counts = {
        row["assignee_id"]: row
        for row in open_cases.order_by()
        .values("assignee_id")
        .annotate(open=Count("pk"), awaiting=Count("pk", filter=Q(stage=Stage.AWAITING_APPROVAL)))
    }
    approvals: dict[int, int] = defaultdict(int)
    stage_bins: dict[int, dict[str, dict[int, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    staff_days = StaffDay.objects.filter(day__gte=period.start, day__lte=period.end)
    if period.brand_ids:
        staff_days = staff_days.filter(brand_id__in=period.brand_ids)
    for user_id, measure, bin, n in staff_days.values_list("user_id", "measure", "bin", "count"):
        if measure == rollups.APPROVED:
            approvals[user_id] += n
        else:
            stage_bins[user_id][measure][bin] += n
    rows = []
    for pk, user in sorted(users.items(), key=lambda item: item[1].get_username()):
        row = counts.get(pk, {})
        medians = {
            stage: round(median, 1)
            for stage, bins in stage_bins.get(pk, {}).items()
            if (median := rollups.binned_percentile(bins, 0.5)) is not None
        }
        if not row and not approvals.get(pk) and not medians:
            continue
        rows.append(
            {
                "user": user,
                "open": row.get("open", 0),
                "open_link": {"assignee": str(pk)},
                "awaiting": row.get("awaiting", 0),
                "awaiting_link": {"assignee": str(pk), "stage__exact": Stage.AWAITING_APPROVAL},
                "approvals": approvals.get(pk, 0),
                "medians": medians,
            }
        )
    return rows


WORK_STAGES = rollups.WORK_STAGES


def stage_labels() -> Iterable[tuple[str, str]]:
    return ((stage, Stage(stage).label) for stage in WORK_STAGES)
