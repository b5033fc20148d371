"""The dispatcher's last look before a send: the queuing move's checks, then the caps."""

from __future__ import annotations

import datetime as dt

from outreach.models import CONVERSATION_KINDS, Case, OutboundAction
from outreach.workflow import caps
from outreach.workflow.checks import Attempt
from outreach.workflow.rules import ONE_UNSOLICITED, RuleViolation, now_or
from outreach.workflow.table import SEND_CHECKS


def check_sendable(action: OutboundAction, *, now: dt.datetime | None = None) -> None:
    """Raise RuleViolation if ``action`` must not be sent now (the dispatcher calls this).

    A cap that frees up later raises with ``until`` set: the send waits, not refused.
    """
    now = now_or(now)
    case = Case.objects.select_related("post", "person", "playbook").get(pk=action.case_id)
    attempt = Attempt(
        case,
        now=now,
        action=action,
        amend=action.kind == OutboundAction.Kind.AMEND_REQUEST,
        later=action.kind in CONVERSATION_KINDS,
    )
    for check in SEND_CHECKS.get(action.kind, ()):
        refused = check(attempt)
        if isinstance(refused, RuleViolation):
            raise refused
        if refused is not None:  # every refusal at send time names its rule
            raise RuleViolation(ONE_UNSOLICITED, str(refused))
    cap = caps.sending(action, case, now)
    if cap is not None:
        raise cap.violation()
