"""Every change of an outreach case's stage, and the twelve rules that guard them.

One public function per business move. Admin buttons, admin actions, tasks and
the shell all call these; nothing else writes ``Case.stage``. A move checks its
rules, then changes the stage by compare-and-set (``UPDATE ... WHERE stage =
<expected>``) and writes a CaseEvent in the same transaction, so two reviewers
clicking at once cannot both win and no move goes unrecorded. Side effects
(tasks) are queued on commit.

A refusal raises ``RuleViolation`` naming the rule it protects (see ``RULES``),
or ``TransitionNotAllowed`` when the move does not exist from the case's stage
(or the stage changed under us).

The package is laid out by subject; this module re-exports the public moves,
errors and rules so that callers write ``from outreach import workflow`` and
``workflow.claim(...)``.
"""

from outreach.workflow.amend import amend_target, approve_amend_request, save_amend_request
from outreach.workflow.answers import (
    approve_later_reply,
    approve_private_message,
    private_target,
    record_private_consent,
    save_later_reply,
)
from outreach.workflow.approval import approve_reply, reject_draft
from outreach.workflow.checks import (
    ENGAGING_KINDS,
    REFUSING_KINDS,
    dnc_entry,
    private_consent,
    research_problems,
)
from outreach.workflow.context import (
    platform_limits,
    reply_context,
    sending_account,
    tone_findings,
)
from outreach.workflow.conversation import (
    follow_not_sent,
    last_heard,
    mark_followed,
    mark_gone_quiet,
    mark_no_response,
    mark_reply_sent,
    record_engagement,
    request_follow,
    resolve,
)
from outreach.workflow.donotcontact import DNC_REMOVE_PERMISSION, remove_dnc_entry
from outreach.workflow.drafting import save_draft, save_research, submit_draft
from outreach.workflow.endings import dismiss, expire, mark_failed, opt_out
from outreach.workflow.lexicon import looks_like_opt_out
from outreach.workflow.opening import assign, claim, kind_for_brand, open_case
from outreach.workflow.overrules import overrule_finding
from outreach.workflow.overrules import refusal as overrule_refusal
from outreach.workflow.overrules import source_of as finding_source
from outreach.workflow.playbooks import PLAYBOOK_EDITABLE_FIELDS, create_playbook, edit_playbook
from outreach.workflow.rules import (
    APPROVE_PERMISSION,
    AUDIT,
    FAIRNESS,
    FOLLOW_AFTER_ENGAGEMENT,
    FRESHNESS,
    HUMAN_APPROVAL,
    MAX_DRAFT_CHARS,
    MAX_NOTE_CHARS,
    MIN_SUMMARY_CHARS,
    MIN_SUMMARY_WORDS,
    NO_PILE_ON,
    ONE_CONVERSATION,
    ONE_PLAYBOOK,
    ONE_UNSOLICITED,
    OPT_OUT,
    PLAYBOOK_PERMISSION,
    RESEARCH_FIRST,
    RULES,
    TONE_GUARD,
    Rule,
    RuleViolation,
    TransitionNotAllowed,
    User,
    WorkflowError,
)
from outreach.workflow.sending import Forecast, check_sendable, send_forecast
from outreach.workflow.table import ALLOWED, MOVES, Move, _move
from outreach.workflow.triage import is_complaint, open_for_detection

__all__ = [
    "ALLOWED",
    "APPROVE_PERMISSION",
    "AUDIT",
    "DNC_REMOVE_PERMISSION",
    "ENGAGING_KINDS",
    "FAIRNESS",
    "FOLLOW_AFTER_ENGAGEMENT",
    "FRESHNESS",
    "HUMAN_APPROVAL",
    "MAX_DRAFT_CHARS",
    "MAX_NOTE_CHARS",
    "MIN_SUMMARY_CHARS",
    "MIN_SUMMARY_WORDS",
    "MOVES",
    "NO_PILE_ON",
    "ONE_CONVERSATION",
    "ONE_PLAYBOOK",
    "ONE_UNSOLICITED",
    "OPT_OUT",
    "PLAYBOOK_EDITABLE_FIELDS",
    "PLAYBOOK_PERMISSION",
    "REFUSING_KINDS",
    "RESEARCH_FIRST",
    "RULES",
    "TONE_GUARD",
    "Forecast",
    "Move",
    "Rule",
    "RuleViolation",
    "TransitionNotAllowed",
    "User",
    "WorkflowError",
    "_move",
    "amend_target",
    "approve_amend_request",
    "approve_later_reply",
    "approve_private_message",
    "approve_reply",
    "assign",
    "check_sendable",
    "claim",
    "create_playbook",
    "dismiss",
    "dnc_entry",
    "edit_playbook",
    "expire",
    "finding_source",
    "follow_not_sent",
    "is_complaint",
    "kind_for_brand",
    "last_heard",
    "looks_like_opt_out",
    "mark_failed",
    "mark_followed",
    "mark_gone_quiet",
    "mark_no_response",
    "mark_reply_sent",
    "open_case",
    "open_for_detection",
    "opt_out",
    "overrule_finding",
    "overrule_refusal",
    "platform_limits",
    "private_consent",
    "private_target",
    "record_engagement",
    "record_private_consent",
    "reject_draft",
    "remove_dnc_entry",
    "reply_context",
    "request_follow",
    "research_problems",
    "resolve",
    "save_amend_request",
    "save_draft",
    "save_later_reply",
    "save_research",
    "send_forecast",
    "sending_account",
    "submit_draft",
    "tone_findings",
]
