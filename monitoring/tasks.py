"""Celery tasks for listening: thin wrappers that take ids and call monitoring.ingest."""

from celery import shared_task
from django.utils import timezone

from monitoring import ingest


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
    """Fetch one source from its cursor and store new posts; return how many."""
    return ingest.poll(source_id)
