"""What the case page offers: every button, allowed or with the reason it is not."""

from __future__ import annotations

from dataclasses import dataclass

from outreach.models import (
    Case,
    OutboundAction,
    PlaybookKind,
    Stage,
)
from outreach.workflow.checks import (
    _amend_draft,
    _check_amend_allowed,
    _check_approver,
    _check_dnc,
    _check_engaged,
    _check_four_eyes,
    _check_fresh,
    _check_research,
    _check_tone,
    _require_draft,
)
from outreach.workflow.rules import User, WorkflowError
from outreach.workflow.table import ALLOWED


@dataclass(frozen=True)
class MoveOption:
    name: str
    label: str
    allowed: bool
    reason: str = ""
    needs_note: bool = False
    danger: bool = False


BUTTONS: tuple[tuple[str, str, bool, bool], ...] = (
    # name, label, needs a note, dangerous
    ("claim", "Claim and start research", False, False),
    ("submit_draft", "Submit draft for approval", False, False),
    ("approve_reply", "Approve this exact reply", False, False),
    ("reject_draft", "Reject draft", True, False),
    ("request_follow", "Follow the person", False, False),
    ("resolve", "Mark resolved", False, False),
    ("approve_amend_request", "Approve this exact request to amend", False, False),
    ("dismiss", "Dismiss", True, True),
    ("opt_out", "Person opted out", True, True),
    ("mark_failed", "Mark failed", True, True),
)

# Moves whose only condition is the transition table.
_STAGE_ONLY: dict[str, tuple[str, str]] = {
    "resolve": (Stage.RESOLVED, "only an engaged conversation can be resolved"),
    "dismiss": (Stage.DISMISSED, "the case is closed"),
    "mark_failed": (Stage.FAILED, "the case is closed"),
}


def _why_not(case: Case, name: str, user: User) -> str:
    """Why ``user`` may not make move ``name`` on ``case`` now ("" when they may)."""
    stage = case.stage
    try:
        if name == "claim":
            if stage != Stage.NEW:
                return f"only a new case can be claimed (case is {stage})"
        elif name == "submit_draft":
            if stage != Stage.DRAFTING:
                return f"only a case in drafting can be submitted (case is {stage})"
            _check_research(case)
            draft = _require_draft(case)
            _check_tone(draft.tone_findings)
            _check_fresh(case)
            _check_dnc(case)
        elif name in ("approve_reply", "reject_draft"):
            if stage != Stage.AWAITING_APPROVAL:
                return f"nothing awaits approval (case is {stage})"
            _check_approver(user)
            if name == "approve_reply":
                draft = _require_draft(case)
                _check_four_eyes(case, draft, user)
                _check_research(case)
                _check_tone(draft.tone_findings)
                _check_fresh(case)
                _check_dnc(case)
        elif name == "request_follow":
            _check_engaged(case)
        elif name in _STAGE_ONLY:
            target, why = _STAGE_ONLY[name]
            if target not in ALLOWED[stage]:
                return f"{why} (case is {stage})"
        elif name == "approve_amend_request":
            _check_amend_allowed(case)
            _check_approver(user)
            draft = _amend_draft(case)
            if draft is None:
                return "write the request to amend first"
            if (
                OutboundAction.objects.filter(
                    case_id=case.pk, kind=OutboundAction.Kind.AMEND_REQUEST
                )
                .exclude(state=OutboundAction.State.CANCELLED)
                .exists()
            ):
                return "the request is already approved"
            _check_four_eyes(case, draft, user)
            _check_tone(draft.tone_findings)
            _check_dnc(case)
        elif name == "opt_out" and stage == Stage.OPTED_OUT:
            return "already opted out"
    except WorkflowError as exc:
        return str(exc)
    return ""


def available_moves(case: Case, user: User) -> list[MoveOption]:
    """Every button of the case page, each allowed or with the reason it is not."""
    options = []
    for name, label, needs_note, danger in BUTTONS:
        if name == "approve_amend_request" and case.kind != PlaybookKind.OWN_BRAND:
            continue  # never a step of a competitor case: no button to explain
        reason = _why_not(case, name, user)
        options.append(MoveOption(name, label, not reason, reason, needs_note, danger))
    return options
