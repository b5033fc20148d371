"""Celery tasks for listening: thin wrappers that take ids and call the monitoring modules."""

from celery import shared_task
from django.utils import timezone

from monitoring import incidents, ingest, triage

# Defined beside the incidents that queue it, so that incidents need not import this
# module (which imports triage, which imports incidents); registered under this name.
send_incident_alert = incidents.send_incident_alert


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
