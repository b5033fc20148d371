"""Incidents: complaints about one brand and topic close together in time.

A complaint joins the open incident of its brand and topic whose last complaint
is within ``GAP`` of it, or starts a new one. An incident's state follows its
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
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from monitoring import alerts
from monitoring.models import Detection, Incident, IncidentHour

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

# The chart shows the first two weeks of an incident, one bar per hour.
CHART_HOURS = 24 * 14

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

    Per brand and topic of the batch, not per complaint: the open incident is
    locked once, the complaints join it in time order (or start a new one after
    a gap), and each incident touched is written once (its volume, its last
    complaint, its detections, its hourly counts). A batch costs a few queries
    per brand and topic in it, however many complaints it holds.
    """
    touched: set[int] = set()
    detections = (
        Detection.objects.filter(
            pk__in=list(detection_ids), complaint=True, brand__isnull=False, incident__isnull=True
        )
        .exclude(topic="")
        .order_by("posted_at", "pk")
        .values_list("pk", "brand_id", "topic", "posted_at")
    )
    groups: dict[tuple[int, str], list[tuple[int, dt.datetime]]] = {}
    for pk, brand_id, topic, posted_at in detections:
        groups.setdefault((brand_id, topic), []).append((pk, posted_at))
    for (brand_id, topic), members in groups.items():
        with transaction.atomic():
            incident = (
                Incident.objects.select_for_update()
                .filter(brand_id=brand_id, topic=topic)
                .exclude(state=Incident.State.CLOSED)
                .filter(last_seen_at__gte=members[0][1] - GAP)
                .order_by("-last_seen_at")
                .first()
            )
            # Each incident with its complaints, in time order; a gap starts a new one.
            runs: list[tuple[Incident, list[tuple[int, dt.datetime]]]] = []
            last_seen = incident.last_seen_at if incident is not None else None
            for pk, posted_at in members:
                if incident is None or last_seen is None or last_seen < posted_at - GAP:
                    incident = Incident.objects.create(
                        brand_id=brand_id,
                        topic=topic,
                        first_seen_at=posted_at,
                        last_seen_at=posted_at,
                    )
                    last_seen = posted_at
                    runs.append((incident, []))
                elif not runs or runs[-1][0].pk != incident.pk:
                    runs.append((incident, []))
                runs[-1][1].append((pk, posted_at))
                last_seen = max(last_seen, posted_at)
            for joined, complaints in runs:
                newest = max(at for _, at in complaints)
                Incident.objects.filter(pk=joined.pk).update(
                    volume=F("volume") + len(complaints),
                    last_seen_at=Greatest("last_seen_at", newest),
                )
                Detection.objects.filter(pk__in=[pk for pk, _ in complaints]).update(
                    incident=joined
                )
                per_hour: dict[dt.datetime, int] = {}
                for _, at in complaints:
                    per_hour[hour_of(at)] = per_hour.get(hour_of(at), 0) + 1
                for hour, n in per_hour.items():
                    count_hour(joined.pk, hour, n)
                touched.add(joined.pk)
    return touched


def hour_of(moment: dt.datetime) -> dt.datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def count_hour(incident_id: int, posted_at: dt.datetime, n: int = 1) -> None:
    """``n`` more complaints in the incident's hour (the chart's rollup).

    Called with the incident's row locked (or just created), so two workers never
    count the same hour at once; the unique (incident, hour) holds regardless.
    """
    hour = hour_of(posted_at)
    counted = IncidentHour.objects.filter(incident_id=incident_id, hour=hour).update(
        count=F("count") + n
    )
    if not counted:
        IncidentHour.objects.create(incident_id=incident_id, hour=hour, count=n)


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
