"""Incidents: complaints about one brand and topic close together in time.

A complaint joins the open incident of its brand and topic whose last complaint
is within ``GAP`` of it. Without one it stays isolated until complaints from
``NOJACKAL_INCIDENT_MIN_PEOPLE`` different people about that brand and topic fall
within ``GAP``: then they start an incident together (one angry person posting
five times is not an outage). An incident's state follows its
volume against the brand's own normal complaint rate:

- emerging: a few complaints, nothing unusual yet;
- active: the last hour's volume is a spike for this brand (well above its
  normal rate, by a Poisson tail test on its own history), or it has grown big;
- cooling: active, but quiet for ``COOL_AFTER``;
- closed: quiet for ``CLOSE_AFTER``; a later complaint starts a new incident.

The team is alerted once per state change worth knowing (becoming active, and
closing after an alert); the alert is claimed by compare-and-set on
``alerted_state``, so two workers refreshing at once send it once.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest, Least
from django.utils import timezone

from monitoring import alerts, counters
from monitoring.models import Detection, Incident, IncidentHour, IncidentMinutes

GAP = dt.timedelta(hours=6)
COOL_AFTER = dt.timedelta(hours=1)
CLOSE_AFTER = dt.timedelta(hours=6)
HISTORY = dt.timedelta(days=7)
# A brand with no history still has some normal rate; without a floor one
# complaint after a quiet week would count as a spike.
MIN_BASELINE_PER_HOUR = 0.25
MIN_SPIKE_VOLUME = 5
SPIKE_P_VALUE = 1e-3
# An incident this big is active whatever the brand's normal rate.
ACTIVE_VOLUME = 25

# The chart shows the first two weeks of an incident, one bar per hour; an incident
# whose complaints all fall within FINE_SPAN of its first gets a bar per 5 minutes.
CHART_HOURS = 24 * 14
FINE_SPAN = dt.timedelta(hours=6)
SLOT = dt.timedelta(minutes=5)

ALERT_STATES = {Incident.State.ACTIVE, Incident.State.CLOSED}


def poisson_tail(k: int, rate: float) -> float:
    """P(X >= k) for X ~ Poisson(rate)."""
    if k <= 0:
        return 1.0
    term = math.exp(-rate)
    below = term
    for i in range(1, k):
        term *= rate / i
        below += term
    return max(0.0, 1.0 - below)


def baseline_per_hour(brand_id: int, now: dt.datetime) -> float:
    """The brand's normal complaint rate: complaints per hour over the week before the last hour."""
    until = now - dt.timedelta(hours=1)
    count = Detection.objects.filter(
        brand_id=brand_id, complaint=True, posted_at__gte=now - HISTORY, posted_at__lt=until
    ).count()
    hours = (HISTORY - dt.timedelta(hours=1)).total_seconds() / 3600
    return max(MIN_BASELINE_PER_HOUR, count / hours)


def is_spike(last_hour: int, baseline: float) -> bool:
    return last_hour >= MIN_SPIKE_VOLUME and poisson_tail(last_hour, baseline) < SPIKE_P_VALUE


def assign(detection_ids: Iterable[int]) -> set[int]:
    """Attach complaints (with a brand and topic) to incidents; return the incidents touched.

    One transaction per brand and topic, its open incident locked once: the batch's
    complaints that join it are written together, in a few statements however many
    they are (issue #15: a batch of 50 made 7 round trips per complaint)."""
    touched: set[int] = set()
    detections = (
        Detection.objects.filter(
            pk__in=list(detection_ids), complaint=True, brand__isnull=False, incident__isnull=True
        )
        .exclude(topic="")
        .order_by("posted_at", "pk")
    )
    subjects: dict[tuple[int, str], list[Detection]] = {}
    for detection in detections:
        subjects.setdefault((detection.brand_id, detection.topic), []).append(detection)
    for (brand_id, topic), complaints in subjects.items():
        with transaction.atomic():
            touched |= _assign_subject(brand_id, topic, complaints)
    return touched


def _assign_subject(brand_id: int, topic: str, complaints: list[Detection]) -> set[int]:
    """One brand and topic's new complaints, in time order: each joins the open incident
    whose last complaint is within GAP of it, or, without one, starts an incident with
    the isolated complaints before it once enough people are among them."""
    touched: set[int] = set()
    # The most recent open incident: if it is not within GAP of a complaint, no older is.
    incident = (
        Incident.objects.select_for_update()
        .filter(brand_id=brand_id, topic=topic)
        .exclude(state=Incident.State.CLOSED)
        .order_by("-last_seen_at")
        .first()
    )
    joining: list[tuple[int, dt.datetime]] = []
    for detection in complaints:
        if incident is not None and incident.last_seen_at >= detection.posted_at - GAP:
            joining.append((detection.pk, detection.posted_at))
            incident.last_seen_at = max(incident.last_seen_at, detection.posted_at)
        else:
            # Those before it are written first: the isolated ones are read from the table.
            _join(incident, joining)
            joining, incident = [], None
            isolated = isolated_before(detection)
            if len({author for _, _, author in isolated}) < settings.NOJACKAL_INCIDENT_MIN_PEOPLE:
                continue  # isolated, for now
            incident = Incident.objects.create(
                brand_id=brand_id,
                topic=topic,
                first_seen_at=min(at for _, at, _ in isolated),
                last_seen_at=detection.posted_at,
            )
            joining = [(pk, at) for pk, at, _ in isolated]
        touched.add(incident.pk)
    _join(incident, joining)
    return touched


def isolated_before(detection: Detection) -> list[tuple[int, dt.datetime, int]]:
    """(id, posted_at, author) of the isolated complaints of the detection's brand and topic
    within GAP before it, itself included (an indexed range of the brand's complaints)."""
    return list(
        Detection.objects.filter(
            brand_id=detection.brand_id,
            complaint=True,
            posted_at__gte=detection.posted_at - GAP,
            posted_at__lte=detection.posted_at,
            topic=detection.topic,
            incident__isnull=True,
        )
        .order_by("posted_at", "pk")
        .values_list("pk", "posted_at", "post__author_id")
    )


def _join(incident: Incident | None, joining: list[tuple[int, dt.datetime]]) -> None:
    """Complaints join ``incident`` (locked or just created): the detections, the volume and
    the chart's rollups, each once (a complaint already in an incident is left alone).
    With the incident's row locked, two workers never count its hours at once; the unique
    (incident, hour) and (incident, start) hold regardless."""
    if incident is None or not joining:
        return
    free = sorted(
        Detection.objects.select_for_update()
        .filter(pk__in=[pk for pk, _ in joining], incident__isnull=True)
        .values_list("posted_at", "pk")
    )
    if not free:
        return
    Detection.objects.filter(pk__in=[pk for _, pk in free]).update(incident=incident)
    Incident.objects.filter(pk=incident.pk).update(
        volume=F("volume") + len(free),
        last_seen_at=Greatest("last_seen_at", free[-1][0]),
        first_seen_at=Least("first_seen_at", free[0][0]),
    )
    counters.add_all(
        IncidentHour,
        (({"incident": incident.pk, "hour": hour_of(at)}, {"count": 1}) for at, _ in free),
    )
    # A bar per 5 minutes for the complaints within FINE_SPAN of the incident's first
    # (which a complaint older than it moves back).
    first, slots = incident.first_seen_at, []
    for at, _ in free:
        first = min(first, at)
        if at - first < FINE_SPAN:
            slots.append(({"incident": incident.pk, "start": slot_of(at)}, {"count": 1}))
    counters.add_all(IncidentMinutes, slots)
    incident.first_seen_at = first


def hour_of(moment: dt.datetime) -> dt.datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def slot_of(moment: dt.datetime) -> dt.datetime:
    return moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0)


def next_state(incident: Incident, last_hour: int, baseline: float, now: dt.datetime) -> str:
    """The state an incident should be in now (pure apart from its arguments)."""
    quiet_for = now - incident.last_seen_at
    if quiet_for >= CLOSE_AFTER:
        return Incident.State.CLOSED
    if is_spike(last_hour, baseline) or (
        incident.volume >= ACTIVE_VOLUME and quiet_for < COOL_AFTER
    ):
        return Incident.State.ACTIVE
    if incident.state in {Incident.State.ACTIVE, Incident.State.COOLING}:
        return Incident.State.COOLING if quiet_for >= COOL_AFTER else Incident.State.ACTIVE
    return Incident.State.EMERGING


def refresh(incident_id: int, now: dt.datetime | None = None) -> str:
    """Recompute an incident's state, rate and peak; queue an alert on a state change worth one."""
    now = now or timezone.now()
    incident = Incident.objects.get(pk=incident_id)
    if incident.state == Incident.State.CLOSED:
        return incident.state
    last_hour = incident.detections.filter(posted_at__gt=now - dt.timedelta(hours=1)).count()
    baseline = baseline_per_hour(incident.brand_id, now)
    state = next_state(incident, last_hour, baseline, now)
    spike = incident.spike or is_spike(last_hour, baseline)
    with transaction.atomic():
        Incident.objects.filter(pk=incident.pk).update(
            state=state,
            baseline_per_hour=baseline,
            peak_per_hour=Greatest("peak_per_hour", last_hour),
            spike=spike,
        )
        if _claim_alert(incident, state):
            send_incident_alert.delay_on_commit(incident.pk, state)
    return state


def _claim_alert(incident: Incident, state: str) -> bool:
    """True once per state worth an alert: the first caller to record it wins."""
    if state not in ALERT_STATES or incident.alerted_state == state:
        return False
    # Closing is news only when the team was told the incident was active.
    if state == Incident.State.CLOSED and incident.alerted_state != Incident.State.ACTIVE:
        return False
    claimed = Incident.objects.filter(pk=incident.pk, alerted_state=incident.alerted_state).update(
        alerted_state=state
    )
    return claimed == 1


def refresh_open(now: dt.datetime | None = None) -> int:
    """Refresh every incident that is not closed (cooling and closing need a clock)."""
    ids = list(Incident.objects.exclude(state=Incident.State.CLOSED).values_list("pk", flat=True))
    for incident_id in ids:
        refresh(incident_id, now)
    return len(ids)


def bucket_for(incident: Incident) -> dt.timedelta:
    """5 minutes while all its complaints are within FINE_SPAN of the first, else an hour."""
    return SLOT if incident.last_seen_at - incident.first_seen_at < FINE_SPAN else HOUR


HOUR = dt.timedelta(hours=1)


def volume(incident: Incident) -> tuple[dt.timedelta, list[tuple[dt.datetime, int]]]:
    """The chart's bucket and its counts from the first to the last complaint (a rollup's rows)."""
    bucket = bucket_for(incident)
    if bucket == HOUR:
        return bucket, hourly_volume(incident)
    start = slot_of(incident.first_seen_at)
    counts = [0] * (int((incident.last_seen_at - start) // SLOT) + 1)
    rows = IncidentMinutes.objects.filter(
        incident_id=incident.pk, start__gte=start, start__lt=start + SLOT * len(counts)
    ).values_list("start", "count")
    found = False
    for moment, n in rows:
        counts[int((moment - start) // SLOT)] = n
        found = True
    if not found:  # an incident from before the 5-minute counts: its hours are known
        return HOUR, hourly_volume(incident)
    return bucket, [(start + SLOT * i, n) for i, n in enumerate(counts)]


def hourly_volume(incident: Incident) -> list[tuple[dt.datetime, int]]:
    """Complaints per hour from the incident's first to its last complaint (for the chart)."""
    start = hour_of(incident.first_seen_at)
    hours = int((incident.last_seen_at - start).total_seconds() // 3600) + 1
    counts = [0] * max(1, min(hours, CHART_HOURS))
    # The rollup, at most CHART_HOURS rows, however many complaints the incident has.
    rows = IncidentHour.objects.filter(
        incident_id=incident.pk,
        hour__gte=start,
        hour__lt=start + dt.timedelta(hours=len(counts)),
    ).values_list("hour", "count")
    for hour, n in rows:
        counts[int((hour - start).total_seconds() // 3600)] = n
    return [(start + dt.timedelta(hours=i), n) for i, n in enumerate(counts)]


@shared_task(
    name="monitoring.tasks.send_incident_alert",
    ignore_result=True,
    autoretry_for=(alerts.AlertNotDelivered, OSError),
    retry_backoff=30,
    retry_backoff_max=60,  # settings.TASK_RETRY_MAX_SECONDS
    retry_jitter=True,
    max_retries=5,
)
def send_incident_alert(incident_id: int, state: str) -> int:
    """Tell the team an incident changed state (once per state, claimed by the caller)."""
    incident = Incident.objects.select_related("brand").filter(pk=incident_id).first()
    # The message names the state; the claim on the row is the fact. A forged or
    # stale message about a state the incident is not in tells the team nothing.
    if incident is None or incident.alerted_state != state:
        return 0
    subject, body = alerts.incident_message(incident, state)
    return alerts.send(subject, body)
