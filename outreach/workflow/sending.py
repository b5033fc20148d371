"""The dispatcher's last look before a send."""

from __future__ import annotations

import datetime as dt

from outreach.models import (
    Case,
    EngagementEvent,
    OutboundAction,
    Stage,
)
from outreach.workflow.caps import _check_hourly
from outreach.workflow.checks import ENGAGING_KINDS, _check_amend_allowed, _check_dnc, _check_fresh
from outreach.workflow.rules import (
    FOLLOW_AFTER_ENGAGEMENT,
    HUMAN_APPROVAL,
    ONE_UNSOLICITED,
    RuleViolation,
    WorkflowError,
)
from outreach.workflow.table import _now


def check_sendable(action: OutboundAction, *, now: dt.datetime | None = None) -> None:
    """Raise RuleViolation if ``action`` must not be sent now (the dispatcher calls this)."""
    now = _now(now)
    case = Case.objects.select_related("post", "person", "playbook").get(pk=action.case_id)
    _check_dnc(case)
    if action.kind == OutboundAction.Kind.REPLY:
        if case.stage != Stage.APPROVED:
            raise RuleViolation(ONE_UNSOLICITED, f"the case is {case.stage}, not approved")
        draft = action.draft
        if (
            draft is None
            or not draft.approval_is_valid
            or draft.approved_text_hash != action.text_hash
        ):
            raise RuleViolation(HUMAN_APPROVAL, "the text is not the approved text")
        _check_fresh(case, now)
        _check_hourly(action, now)
    elif action.kind == OutboundAction.Kind.AMEND_REQUEST:
        if case.stage != Stage.RESOLVED:
            raise RuleViolation(
                ONE_UNSOLICITED, f"the case is {case.stage}; the request goes out only once"
            )
        draft = action.draft
        if (
            draft is None
            or not draft.approval_is_valid
            or draft.approved_text_hash != action.text_hash
        ):
            raise RuleViolation(HUMAN_APPROVAL, "the text is not the approved text")
        try:
            _check_amend_allowed(case, now)
        except RuleViolation:
            raise
        except WorkflowError as exc:  # every refusal at send time names its rule
            raise RuleViolation(ONE_UNSOLICITED, str(exc)) from None
        _check_hourly(action, now)
    elif action.kind == OutboundAction.Kind.FOLLOW:
        if (
            case.stage not in (Stage.FOLLOWED, Stage.ENGAGED)
            or not EngagementEvent.objects.filter(case_id=case.pk, kind__in=ENGAGING_KINDS).exists()
        ):
            raise RuleViolation(FOLLOW_AFTER_ENGAGEMENT, "the person has not engaged")
    elif action.kind == OutboundAction.Kind.PRIVATE_MESSAGE and case.stage not in (
        Stage.ENGAGED,
        Stage.FOLLOWED,
    ):
        raise RuleViolation(ONE_UNSOLICITED, "no private message before the person engages")
