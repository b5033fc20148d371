"""The dispatcher's last look before a send: the queuing move's checks, then the caps;
and the case page's forecast of when a queued send will go, read from the same code."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from outreach.models import CONVERSATION_KINDS, Case, OutboundAction
from outreach.workflow import caps
from outreach.workflow.checks import Attempt
from outreach.workflow.rules import ONE_UNSOLICITED, RuleViolation, now_or
from outreach.workflow.table import SEND_CHECKS


def _refusals(action: OutboundAction, case: Case, now: dt.datetime) -> list[RuleViolation]:
    """What stands in the way of sending ``action`` now, in the dispatcher's order: the
    queuing move's checks, then the caps. Stops at the first refusal for good."""
    attempt = Attempt(
        case,
        now=now,
        action=action,
        amend=action.kind == OutboundAction.Kind.AMEND_REQUEST,
        later=action.kind in CONVERSATION_KINDS,
    )
    found: list[RuleViolation] = []
    for check in SEND_CHECKS.get(action.kind, ()):
        refused = check(attempt)
        if refused is None:
            continue
        if not isinstance(refused, RuleViolation):  # every refusal at send time names its rule
            refused = RuleViolation(ONE_UNSOLICITED, str(refused))
        found.append(refused)
        if refused.until is None:
            return found
    cap = caps.sending(action, case, now)
    if cap is not None:
        found.append(cap.violation())
    return found


def _case_of(action: OutboundAction) -> Case:
    return Case.objects.select_related("post", "person", "playbook").get(pk=action.case_id)


def check_sendable(
    action: OutboundAction, *, now: dt.datetime | None = None, case: Case | None = None
) -> None:
    """Raise RuleViolation if ``action`` must not be sent now (the dispatcher calls this).

    A cap that frees up later raises with ``until`` set: the send waits, not refused.
    ``case``: the action's case with its post, person and playbook, when the caller has
    just read it (the dispatcher, with the claimed row); else it is read here.
    """
    now = now_or(now)
    refusals = _refusals(action, case if case is not None else _case_of(action), now)
    if refusals:
        raise refusals[0]


@dataclass(frozen=True)
class Forecast:
    """When a queued send will go and why not sooner: ``at`` None means it will not go
    (a rule refuses it); ``reasons`` are (code, message, until) of what holds it."""

    at: dt.datetime | None
    reasons: tuple[caps.Cap, ...]


def send_forecast(action: OutboundAction, *, now: dt.datetime | None = None) -> Forecast:
    """What the dispatcher would do with a pending ``action``: its slot, the claim's waits
    (platform rate limit, spacing) and the send checks and caps, each with its wait-until."""
    now = now_or(now)
    case = _case_of(action)
    reasons: list[caps.Cap] = []
    if action.not_before > now:
        what = "spaced from the account's other replies" if caps.paced(case.kind) else "queued"
        reasons.append(caps.Cap("scheduled", what, action.not_before))
    wait = caps.claim_wait(action.account, case.kind, now, exclude=action.pk)
    if wait is not None:
        reasons.append(wait)
    for refused in _refusals(action, case, now):
        reasons.append(caps.Cap(refused.reason, refused.detail, refused.until))
    if any(r.until is None for r in reasons):
        return Forecast(None, tuple(reasons))
    return Forecast(max([now, *(r.until for r in reasons if r.until)]), tuple(reasons))
