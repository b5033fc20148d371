"""Thin Celery tasks: ids in, a workflow move, a small count out. Safe to run twice.

Refusals (``WorkflowError``) are business answers, not failures: they are logged
and the task returns. Only a lost database connection is retried.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from celery import shared_task

from outreach import dispatch, engagement, expiry, workflow
from outreach.retries import ON_LOST_DATABASE
from outreach.workflow import conversation
from outreach.workflow.refusals import try_move

log = logging.getLogger(__name__)

_RETRY = ON_LOST_DATABASE

# Queued by record_engagement, so it lives beside it (a task module importing the
# workflow that imports the task module would be a circle); still this module's task.
follow_after_engagement = conversation.follow_after_engagement


def _queue_each(task: Any, ids: list[int]) -> int:
    """Queue ``task`` once per id for a tick; how many were queued."""
    for pk in ids:
        # One not started by the next tick is dropped: that tick queues it again.
        task.apply_async((pk,), expires=60)
    return len(ids)


@shared_task(**_RETRY)
def open_case(
    post_id: int, brand_id: int, kind: str, severity: int = 2, incident_id: int | None = None
) -> int | None:
    """Open a case for a post; the new case's id, or None when a rule refused it."""
    case = try_move(
        lambda: workflow.open_case(
            post_id, brand_id, kind, severity=severity, incident_id=incident_id
        ),
        what=f"no case for post {post_id}",
    )
    return case.pk if case else None


@shared_task(**_RETRY)
def expire_cases() -> dict[str, int]:
    """Tick: no_response after the window, expired after freshness (rule 8), own-brand alerts."""
    return expiry.run()


@shared_task(**_RETRY)
def send_action(action_id: int) -> str:
    """Claim, re-check and send one outbox row; safe to deliver twice."""
    return dispatch.send_action(action_id).result


@shared_task(**_RETRY)
def dispatch_due_actions() -> int:
    """Tick: queue a send for every due outbox row (and every claim past its lease)."""
    return _queue_each(send_action, dispatch.due_action_ids())


@shared_task(**_RETRY)
def read_notifications(account_id: int) -> int:
    """Read one account's new notifications from its cursor; events recorded."""
    return engagement.read_notifications(account_id).recorded


@shared_task(**_RETRY)
def read_all_notifications() -> int:
    """Tick: queue a notifications read for every account that has replied to someone."""
    return _queue_each(read_notifications, engagement.account_ids_to_read())


@shared_task(**_RETRY)
def record_engagement(
    case_id: int,
    kind: str,
    external_id: str,
    occurred_at: str,
    text: str = "",
    payload: dict[str, Any] | None = None,
) -> int | None:
    """Record one notification as an EngagementEvent (``occurred_at`` in ISO 8601)."""
    event = try_move(
        lambda: workflow.record_engagement(
            case_id,
            kind=kind,
            external_id=external_id,
            occurred_at=dt.datetime.fromisoformat(occurred_at),
            text=text,
            payload=payload,
        ),
        what=f"engagement {external_id} on case {case_id} not recorded",
    )
    return event.pk if event else None


@shared_task(**_RETRY)
def opt_out(case_id: int, reason: str) -> None:
    """The person asked us to stop (from a notification)."""
    workflow.opt_out(case_id, actor=None, reason=reason)
