"""Time-driven endings and reminders: silence, stale posts, own-brand cases nearly due.

- A case awaiting engagement past its playbook's window ends as no_response
  (``workflow.mark_no_response``).
- A conversation after engagement silent for that window ends as gone_quiet
  (``workflow.mark_gone_quiet``).
- A case not yet replied to whose post passed the freshness limit ends as
  expired (``workflow.expire``): a stale post cannot be answered anyway (rule 8).
- An own-brand case still unanswered close to its due time alerts the team,
  once per case: for our own customers a day's lag is too much.

Every function is safe to run twice or concurrently: the moves are
compare-and-set, and the alert marker is written under a row lock.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from monitoring.display import is_web_url
from outreach import queries, workflow
from outreach.models import PRE_REPLY_STAGES, Case, CaseEvent, Playbook, PlaybookKind
from outreach.workflow import events
from outreach.workflow.refusals import try_each

log = logging.getLogger(__name__)

ALERT_ACTION = "due_alert"
DEFAULT_ALERT_LEAD = dt.timedelta(hours=1)


def _sweep(case_ids: list[int], move: Any, now: dt.datetime, outcome: str) -> int:
    """Make a time-driven move on each case; a refused one is logged and left as it is."""
    done, _ = try_each(case_ids, lambda pk: move(pk, now=now), what=f"not {outcome}")
    return done


def close_unanswered(*, now: dt.datetime | None = None) -> int:
    """End cases whose engagement window passed in silence; how many were closed."""
    now = now or timezone.now()
    return _sweep(queries.unanswered_case_ids(now), workflow.mark_no_response, now, "no_response")


def close_quiet(*, now: dt.datetime | None = None) -> int:
    """End conversations silent for their playbook's window; how many were closed."""
    now = now or timezone.now()
    return _sweep(queries.quiet_conversation_ids(now), workflow.mark_gone_quiet, now, "gone quiet")


def expire_stale(*, now: dt.datetime | None = None) -> int:
    """End cases whose post got too old before our reply went out; how many expired."""
    now = now or timezone.now()
    # A refusal is typically a reply being sent right now: the dispatcher decides.
    return _sweep(queries.stale_case_ids(now), workflow.expire, now, "expired")


def alert_lead(due_hours: int) -> dt.timedelta:
    """How long before the due time the team hears about an unanswered own-brand case."""
    lead = getattr(settings, "NOJACKAL_DUE_ALERT_LEAD", DEFAULT_ALERT_LEAD)
    # A short due window (2 h) still leaves the team half of it to answer.
    return min(lead, dt.timedelta(hours=due_hours) / 2)


def _alert(case: Case, now: dt.datetime) -> None:
    from monitoring import alerts

    left = case.due_at - now
    when = (
        f"due in {int(left.total_seconds() // 60)} min"
        if left.total_seconds() > 0
        else f"overdue by {int(-left.total_seconds() // 60)} min"
    )
    alerts.send(
        f"nojackal: own-brand case {case.pk} is {when}",
        f"A complaint about {case.brand} from {case.person} on {case.platform} has no answer yet "
        f"and is {when} (stage: {case.get_stage_display()}).\n"
        # The post's URL came from the platform: named only when it is a web link.
        f"Post: {case.post.url if is_web_url(case.post.url) else case.post.external_id}\n",
    )


def due_alert_candidates(now: dt.datetime) -> list[tuple[int, int]]:
    """(case id, due hours) of unanswered own-brand cases that may be near their due time
    and were not alerted yet; ``alert_due_own_brand`` refines each with its own lead.

    The widest lead comes from the own-brand playbook versions (a small table), not
    from the open cases, so that the cases read are only those due within it
    (the ``case_stage_due`` index), whatever the size of the queue.
    """
    widest = max(
        (
            alert_lead(h)
            for h in Playbook.objects.filter(kind=PlaybookKind.OWN_BRAND).values_list(
                "due_hours", flat=True
            )
        ),
        default=DEFAULT_ALERT_LEAD,
    )
    return list(
        Case.objects.filter(
            kind=PlaybookKind.OWN_BRAND, stage__in=PRE_REPLY_STAGES, due_at__lte=now + widest
        )
        .exclude(events__action=ALERT_ACTION)
        .values_list("pk", "playbook__due_hours")
    )


def alert_due_own_brand(*, now: dt.datetime | None = None) -> int:
    """Tell the team about own-brand cases still unanswered near their due time, once each."""
    now = now or timezone.now()
    sent = 0
    for case_id, due_hours in due_alert_candidates(now):
        try:
            with transaction.atomic():
                # The lock makes "no alert yet -> alert -> marker" one step for every tick
                # running at once; a tick that finds the row busy leaves it to the other.
                case = (
                    Case.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("post", "person", "brand")
                    .filter(pk=case_id, stage__in=PRE_REPLY_STAGES)
                    .first()
                )
                if case is None or case.due_at > now + alert_lead(due_hours):
                    continue
                if CaseEvent.objects.filter(case_id=case_id, action=ALERT_ACTION).exists():
                    continue
                events.happened(
                    case,
                    action=ALERT_ACTION,
                    note=f"team alerted: due at {case.due_at:%Y-%m-%d %H:%M} UTC",
                )
                # Inside the transaction: if the alert cannot go out, the marker rolls
                # back and the next tick tries again.
                _alert(case, now)
            sent += 1
        except Exception:  # one broken alert must not stop the others
            log.exception("could not alert the team about case %s", case_id)
    return sent


def run(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The expiry tick: all four checks; counts per kind of outcome."""
    now = now or timezone.now()
    return {
        "no_response": close_unanswered(now=now),
        "gone_quiet": close_quiet(now=now),
        "expired": expire_stale(now=now),
        "alerted": alert_due_own_brand(now=now),
    }
