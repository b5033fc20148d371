"""Celery tasks for listening: thin wrappers that take ids and call the monitoring modules.

Tasks and trust (see also ``outreach/tasks.py``): anyone who can write to the
broker can send these. None of them moves a case or sends anything to a person:

======================= ====================== ================================================
task                    arguments              why a forged message cannot break a rule
======================= ====================== ================================================
poll_due_sources        (none)                 a tick over ``Source.next_poll_at``
poll_source             source_id              reads the platform from the stored cursor; an
                                               unknown or disabled source does nothing, and
                                               storing a page twice stores nothing new
detect_posts            max_batches (a bound)  judges stored posts without a verdict; triage
                                               opens cases through the workflow's rules
refresh_incidents       (none)                 a tick over stored incidents
send_incident_alert     incident_id, state     tells the team only, and only when ``state`` is
                                               the incident's claimed ``alerted_state`` (the
                                               fact is the row's; a forged state sends nothing)
refresh_limits_tick     (none)                 a tick (``monitoring/limits.py``)
refresh_account_limits  account_id             reads the account's limits from the platform;
                                               an unknown account does nothing
retrain_classifier      (none)                 a tick: trains from stored labels only when the
                                               settings ask; activates only a better version,
                                               and only when a setting says so
======================= ====================== ================================================
"""

from celery import shared_task
from django.utils import timezone

from monitoring import incidents, ingest, triage, versions

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


@shared_task(ignore_result=True)
def retrain_classifier() -> str:
    """Nightly tick: a new classifier version if enough new labels arrived (settings)."""
    return versions.retrain_if_due()
