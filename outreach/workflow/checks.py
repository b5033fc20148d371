"""Checks shared by the moves, the case page's buttons and the dispatcher."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q

from outreach.models import (
    Case,
    DoNotContact,
    EngagementEvent,
    OutboundAction,
    PlaybookKind,
    ReplyDraft,
    ResearchNote,
    Stage,
    normalise_handle,
)
from outreach.workflow.rules import (
    APPROVE_PERMISSION,
    FOLLOW_AFTER_ENGAGEMENT,
    FRESHNESS,
    HUMAN_APPROVAL,
    MIN_SUMMARY_CHARS,
    MIN_SUMMARY_WORDS,
    ONE_CONVERSATION,
    ONE_UNSOLICITED,
    RESEARCH_FIRST,
    TONE_GUARD,
    RuleViolation,
    TransitionNotAllowed,
    User,
    WorkflowError,
)
from outreach.workflow.table import _now


def research_problems(note: ResearchNote | None) -> list[str]:
    """What is missing from a research note before a reply may be written (rule 1)."""
    if note is None:
        return ["there is no research note yet"]
    problems = []
    summary = (note.summary or "").strip()
    if len(summary) < MIN_SUMMARY_CHARS or len(summary.split()) < MIN_SUMMARY_WORDS:
        problems.append(
            f"the summary must say what happened (at least {MIN_SUMMARY_WORDS} words, "
            f"{MIN_SUMMARY_CHARS} characters)"
        )
    if not note.thread_checked:
        problems.append("the thread/context has not been checked")
    if note.scope not in (ResearchNote.Scope.ISOLATED, ResearchNote.Scope.INCIDENT):
        problems.append('choose the incident it belongs to, or "isolated"')
    elif note.scope == ResearchNote.Scope.INCIDENT and note.incident_id is None:
        problems.append("choose the incident")
    return problems


def _research(case: Case) -> ResearchNote | None:
    return ResearchNote.objects.filter(case_id=case.pk).first()


def _check_research(case: Case) -> None:
    problems = research_problems(_research(case))
    if problems:
        raise RuleViolation(RESEARCH_FIRST, "; ".join(problems))


def _check_fresh(case: Case, now: dt.datetime | None = None) -> None:
    limit = dt.timedelta(hours=case.playbook.freshness_hours)
    if case.post.posted_at < _now(now) - limit:
        raise RuleViolation(
            FRESHNESS,
            f"the post is older than the playbook's {case.playbook.freshness_hours} h limit",
        )


def dnc_entry(platform: str, external_id: str, handle: str) -> DoNotContact | None:
    """The do-not-contact entry matching a person by id or handle, if any."""
    match = Q(person_external_id=external_id) if external_id else Q(pk__in=[])
    if handle:
        match |= Q(handle=normalise_handle(handle))
    return DoNotContact.objects.filter(Q(platform=platform) & match).first()


def _check_dnc(case: Case) -> None:
    entry = dnc_entry(case.platform, case.person.external_id, case.person.handle)
    if entry is not None:
        raise RuleViolation(ONE_CONVERSATION, f"{case.person} is on the do-not-contact list")


def _check_approver(actor: User | None) -> None:
    if actor is None or not actor.is_authenticated or not actor.has_perm(APPROVE_PERMISSION):
        raise RuleViolation(HUMAN_APPROVAL, "only a person with the approve permission may do this")


def _draft(case: Case) -> ReplyDraft | None:
    return ReplyDraft.objects.filter(case_id=case.pk, is_first_reply=True).first()


def _require_draft(case: Case) -> ReplyDraft:
    draft = _draft(case)
    if draft is None or not draft.text.strip():
        raise WorkflowError("there is no reply draft yet")
    return draft


def _check_tone(findings: list[dict[str, Any]]) -> None:
    blocking = [f for f in findings if f["blocking"]]
    if blocking:
        codes = ", ".join(sorted({f["code"] for f in blocking}))
        raise RuleViolation(TONE_GUARD, f"the draft has blocking findings: {codes}")


def _check_four_eyes(case: Case, draft: ReplyDraft, actor: User) -> None:
    if not case.playbook.four_eyes:
        return
    if actor.pk == draft.author_id or actor.pk in (draft.editor_ids or []):
        raise RuleViolation(
            HUMAN_APPROVAL, "four eyes: the approver must not have written or edited the draft"
        )


# Kinds of engagement that open a conversation (rule 5). A favourite or a boost
# is recorded but is not contact: only someone who answers (or follows us) is.
ENGAGING_KINDS = frozenset(
    {
        EngagementEvent.Kind.REPLY,
        EngagementEvent.Kind.MENTION,
        EngagementEvent.Kind.PRIVATE_MESSAGE,
        EngagementEvent.Kind.FOLLOW,
    }
)

REFUSING_KINDS = frozenset({EngagementEvent.Kind.BLOCK, EngagementEvent.Kind.MUTE})


def _check_engaged(case: Case) -> None:
    if (
        case.stage != Stage.ENGAGED
        or not EngagementEvent.objects.filter(case_id=case.pk, kind__in=ENGAGING_KINDS).exists()
    ):
        raise RuleViolation(FOLLOW_AFTER_ENGAGEMENT, "the person has not engaged with our reply")


def _amend_draft(case: Case) -> ReplyDraft | None:
    return ReplyDraft.objects.filter(case_id=case.pk, is_first_reply=False).first()


def _sent_reply(case: Case) -> OutboundAction | None:
    return (
        OutboundAction.objects.filter(
            case_id=case.pk, kind=OutboundAction.Kind.REPLY, state=OutboundAction.State.SENT
        )
        .select_related("account")
        .first()
    )


def _check_amend_allowed(case: Case, now: dt.datetime | None = None) -> OutboundAction:
    """An own-brand case, resolved, with our reply sent, within the window after resolution;
    returns that sent reply (its account sends the request)."""
    if case.kind != PlaybookKind.OWN_BRAND:
        raise WorkflowError("only own-brand cases ask for an amended post")
    if case.stage != Stage.RESOLVED:
        raise TransitionNotAllowed(f"ask only after the problem is resolved (case is {case.stage})")
    reply = _sent_reply(case)
    if reply is None:
        raise RuleViolation(ONE_UNSOLICITED, "no reply of ours was sent on this case")
    window = dt.timedelta(days=case.playbook.engagement_window_days)
    if case.closed_at is not None and case.closed_at + window < _now(now):
        raise RuleViolation(
            FRESHNESS,
            f"resolved more than {case.playbook.engagement_window_days} days ago: "
            "too late to ask about the post",
        )
    return reply
