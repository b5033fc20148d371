"""Thin Celery tasks: ids in, a workflow move, a small count out. Safe to run twice.

Refusals (``WorkflowError``) are business answers, not failures: they are logged
and the task returns. Only a lost database connection is retried.

Tasks and trust
---------------
Anyone who can write to the broker can send any of these messages with any
arguments (rule 10, DESIGN "Trust boundaries"). So a task carries ids, never
facts: what happened is read by the worker from the database or the platform,
and every rule is checked again by the move the task calls. An argument that is
not an id (a string, a float, a bool, a negative number) is refused and logged
before anything is read.

=========================== ================ ================================================
task                        arguments        why a forged message cannot break a rule
=========================== ================ ================================================
open_case                   detection_id     triages a *pending* detection: brand, kind and
                                             incident are the stored verdict's; a triaged or
                                             unknown id does nothing; open_case re-checks
                                             rules 6, 7, 8, 11
expire_cases                (none)           a tick: reads the clock and the cases
send_action                 action_id        claim by compare-and-set, every send check again
                                             (rules 3-8), the text posted is hashed against
                                             the approving draft at send time; then the
                                             account's next *due* rows, each the same way
dispatch_due_actions        (none)           a tick: queues send_action for due rows only
read_notifications          account_id       engagement is read from the platform through the
                                             account's adapter and stored with its
                                             notification id; nothing is taken from the message
read_all_notifications      (none)           a tick: queues read_notifications per account
purge_expired_data          (none)           a tick: purges what the retention period has
                                             passed, in bounded batches; never an open case's
approval_digest             (none)           a tick: reads the drafts waiting and the markers
follow_after_engagement     case_id          request_follow checks rule 5 (engaged, with a
                                             stored engaging EngagementEvent); the dispatcher
                                             checks it again before the follow is sent
=========================== ================ ================================================

There is no task that records an engagement or an opt-out from its arguments:
``record_engagement(case_id, kind, external_id, ...)`` and ``opt_out(case_id,
reason)`` were removed because their arguments were the facts themselves. A
message naming them is an unregistered task, which the worker discards. The
monitoring tasks are listed in ``monitoring/tasks.py``.
"""

from __future__ import annotations

import logging

from celery import Task, shared_task

from monitoring.models import Detection
from outreach import digest, dispatch, engagement, expiry, retention
from outreach.messages import is_id, refused
from outreach.models import Case
from outreach.retries import ON_LOST_DATABASE
from outreach.workflow import conversation
from outreach.workflow.triage import triage

log = logging.getLogger(__name__)

_RETRY = ON_LOST_DATABASE

# Queued by record_engagement, so it lives beside it (a task module importing the
# workflow that imports the task module would be a circle); still this module's task.
follow_after_engagement = conversation.follow_after_engagement


def _queue_each(task: Task, ids: list[int]) -> int:
    """Queue ``task`` once per id for a tick; how many were queued."""
    for pk in ids:
        # One not started by the next tick is dropped: that tick queues it again.
        task.apply_async((pk,), expires=60)
    return len(ids)


@shared_task(**_RETRY)
def open_case(detection_id: int) -> int | None:
    """Triage one pending detection (a case if it deserves one); the case's id, or None.

    The brand, the kind and the incident are the detection's, read here: a message
    names the verdict, it cannot assert one."""
    if not is_id(detection_id):
        refused("open_case", detection_id)
        return None
    counts = triage([detection_id])
    if not counts.get(Detection.Triage.OPENED):
        return None
    return (
        Case.objects.filter(post__detection__pk=detection_id)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )


@shared_task(**_RETRY)
def expire_cases() -> dict[str, int]:
    """Tick: no_response after the window, expired after freshness (rule 8), own-brand alerts."""
    return expiry.run()


@shared_task(**_RETRY)
def approval_digest() -> int:
    """Tick: tell the reviewers about drafts awaiting approval too long, each case once."""
    return digest.send_approval_digest()


@shared_task(**_RETRY)
def send_action(action_id: int) -> str | None:
    """Claim, re-check and send one outbox row, then its account's next due rows; safe
    to deliver twice. What happened to the row the message named."""
    if not is_id(action_id):
        refused("send_action", action_id)
        return None
    return dispatch.send_due(action_id)[0].result


@shared_task(**_RETRY)
def dispatch_due_actions() -> int:
    """Tick: queue a send for each account's first due outbox row (or claim past its lease)."""
    return _queue_each(send_action, dispatch.due_action_ids())


@shared_task(**_RETRY)
def read_notifications(account_id: int) -> int | None:
    """Read one account's new notifications from its cursor; events recorded.

    The only way engagement enters the system: what the person did is read from
    the platform here, never taken from a message."""
    if not is_id(account_id):
        refused("read_notifications", account_id)
        return None
    return engagement.read_notifications(account_id).recorded


@shared_task(**_RETRY)
def read_all_notifications() -> int:
    """Tick: queue a notifications read for every account that has replied to someone."""
    return _queue_each(read_notifications, engagement.account_ids_to_read())


@shared_task(**_RETRY)
def purge_expired_data() -> dict[str, int]:
    """Retention tick: purge posts and people no open case needs, past the retention period."""
    counts = retention.purge()
    if any(counts.values()):
        log.info("retention: %s", counts)
    return counts
