"""Celery tasks for listening: thin wrappers that take ids and call the monitoring modules."""

from celery import shared_task
from django.utils import timezone

from monitoring import alerts, incidents, ingest, triage
from monitoring.models import Incident


@shared_task(ignore_result=True)
def poll_due_sources() -> int:
    """Beat tick: claim the sources whose time has come and queue one poll each."""
    ids = ingest.claim_due_sources(timezone.now())
    for source_id in ids:
        poll_source.delay(source_id)
    return len(ids)


# Late ack: a poll that dies with its worker is delivered again, which is safe
# because storing is idempotent and the cursor only moves with the rows.
@shared_task(ignore_result=True, acks_late=True)
def poll_source(source_id: int) -> int:
    """Fetch one source from its cursor and store new posts; queue detection if any came."""
    created = ingest.poll(source_id)
    if created:
        detect_posts.delay()
    return created


@shared_task(ignore_result=True, acks_late=True)
def detect_posts(max_batches: int = 20) -> int:
    """Judge posts without a verdict, batch by batch; also a beat tick as a safety net."""
    judged = 0
    for _ in range(max_batches):
        done = triage.run()
        judged += done
        if not done:
            break
    return judged


@shared_task(ignore_result=True)
def refresh_incidents() -> int:
    """Beat tick: move quiet incidents to cooling and closed; alert on the changes."""
    return incidents.refresh_open(timezone.now())


@shared_task(
    ignore_result=True,
    autoretry_for=(alerts.AlertNotDelivered, OSError),
    retry_backoff=30,
    retry_jitter=True,
    max_retries=5,
)
def send_incident_alert(incident_id: int, state: str) -> int:
    """Tell the team an incident changed state (once per state, claimed by the caller)."""
    incident = Incident.objects.select_related("brand").get(pk=incident_id)
    subject, body = alerts.incident_message(incident, state)
    return alerts.send(subject, body)
