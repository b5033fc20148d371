"""A reviewer overrules a tone finding: a written reason, recorded in the audit trail.

Only a warning or a model finding can be overruled; a pattern finding that blocks,
and any finding of the firm codes (links, prices, codes, our brand named: rules 2
and 3's hard signals, ``tone.FIRM_CODES``), never. That is decided here, not by
the page's buttons, so that no caller gets round it. An overrule holds for the text
it was given on: an edit to the draft brings the finding back. It is not a move:
the case stays where it is; ``checks.tone_clean`` leaves overruled findings out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction

from outreach.models import Case, FindingOverrule, ReplyDraft, text_hash
from outreach.tone import CODES, FIRM_CODES
from outreach.workflow import events
from outreach.workflow.rules import (
    APPROVE_PERMISSION,
    HUMAN_APPROVAL,
    MAX_NOTE_CHARS,
    TONE_GUARD,
    RuleViolation,
    User,
    WorkflowError,
)

PATTERN = "pattern"  # a finding's source when it does not say (the lexicon's)


def source_of(finding: Mapping[str, Any]) -> str:
    """Where a finding came from: "pattern" (the lexicon) or "model" (the semantic layer)."""
    return str(finding.get("source") or PATTERN)


def refusal(finding: Mapping[str, Any]) -> str:
    """Why ``finding`` can never be overruled, or "" when it can."""
    code = finding.get("code", "")
    if code in FIRM_CODES:
        return f"{CODES.get(code, code)} ({code}) can never be overruled"
    if finding.get("blocking") and source_of(finding) == PATTERN:
        return f"{CODES.get(code, code)} ({code}) is a blocking pattern finding"
    return ""


def overruled_keys(draft: ReplyDraft) -> set[tuple[str, str]]:
    """(code, source) of the findings overruled on the draft's current text."""
    return set(
        FindingOverrule.objects.filter(draft=draft, text_hash=text_hash(draft.text)).values_list(
            "code", "source"
        )
    )


def standing(
    findings: Iterable[Mapping[str, Any]], overruled: set[tuple[str, str]]
) -> list[Mapping[str, Any]]:
    """The findings that still count: those overruled are left out, unless they may
    never be overruled (a row written some other way does not excuse them)."""
    return [f for f in findings if (f.get("code"), source_of(f)) not in overruled or refusal(f)]


def overrule_finding(
    case: Case | int,
    *,
    actor: User,
    draft: ReplyDraft | int,
    code: str,
    source: str = PATTERN,
    reason: str,
) -> FindingOverrule:
    """Overrule the draft's findings of ``code`` from ``source`` with a written reason."""
    case_id = case.pk if isinstance(case, Case) else case
    if actor is None or not actor.is_authenticated or not actor.has_perm(APPROVE_PERMISSION):
        raise RuleViolation(HUMAN_APPROVAL, "only a person with the approve permission may do this")
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError("say why the finding does not apply")
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case_id)
        draft_id = draft.pk if isinstance(draft, ReplyDraft) else draft
        current = ReplyDraft.objects.filter(pk=draft_id, case_id=case_id).first()
        if current is None:
            raise WorkflowError("that draft is not on this case")
        found = [
            f for f in current.tone_findings if f.get("code") == code and source_of(f) == source
        ]
        if not found:
            raise WorkflowError(f"the draft has no {source} finding {code!r}")
        refused = next((why for f in found if (why := refusal(f))), "")
        if refused:
            raise RuleViolation(TONE_GUARD, refused)
        row = FindingOverrule.objects.create(
            case_id=case_id,
            draft=current,
            code=code,
            source=source,
            reason=reason[:MAX_NOTE_CHARS],
            text_hash=text_hash(current.text),
            actor_id=actor.pk,
        )
        events.happened(
            locked,
            action="overrule_finding",
            actor=actor,
            note=f"{code} ({source}) overruled: {reason}",
        )
    return row
