"""Research and drafting: the research note, the reply draft and its tone guard."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from monitoring.models import Incident
from outreach import queries
from outreach.models import (
    Case,
    OutboundAction,
    ReplyDraft,
    ResearchNote,
    Stage,
)
from outreach.workflow import checks, events
from outreach.workflow.checks import research_problems
from outreach.workflow.context import tone_findings
from outreach.workflow.rules import (
    MAX_DRAFT_CHARS,
    MAX_NOTE_CHARS,
    RESEARCH_FIRST,
    RuleViolation,
    TransitionNotAllowed,
    User,
    WorkflowError,
    person_id,
)
from outreach.workflow.table import MOVES, _cancel_pending, _case, _move


def save_research(
    case: Case | int,
    *,
    actor: User,
    summary: str,
    thread_checked: bool,
    scope: str,
    incident: Incident | int | None = None,
) -> ResearchNote:
    """Save the research note; a complete note moves researching -> drafting (rule 1).

    ``incident`` (one of the case's brand's incidents) links the case to it when
    the scope is "incident". An "isolated" note leaves a link made by triage in
    place: the incident's caps still count the case.
    """
    case = _case(case)
    if case.stage not in (Stage.RESEARCHING, Stage.DRAFTING):
        raise TransitionNotAllowed(
            f"research can be written while researching or drafting, not {case.stage}"
        )
    if scope not in ResearchNote.Scope.values:
        raise WorkflowError(f"unknown scope {scope!r}")
    incident_id = incident.pk if isinstance(incident, Incident) else incident
    if scope != ResearchNote.Scope.INCIDENT:
        incident_id = None
    elif incident_id is None:
        raise RuleViolation(RESEARCH_FIRST, "choose the incident this complaint belongs to")
    elif not Incident.objects.filter(pk=incident_id, brand_id=case.brand_id).exists():
        raise WorkflowError(f"incident #{incident_id} is not an incident about {case.brand}")
    with transaction.atomic():
        note, _ = ResearchNote.objects.update_or_create(
            case_id=case.pk,
            defaults={
                "summary": summary.strip()[:MAX_NOTE_CHARS],
                "thread_checked": bool(thread_checked),
                "scope": scope,
                "incident_id": incident_id,
                "chatter_volume": queries.chatter_volume(case.brand_id, incident_id=incident_id),
                "author_id": person_id(actor),
            },
        )
        if incident_id and incident_id != case.incident_id:
            Case.objects.filter(pk=case.pk).update(incident_id=incident_id)
            case.incident_id = incident_id
        if case.stage == Stage.RESEARCHING and not research_problems(note):
            _move(
                case,
                to=Stage.DRAFTING,
                actor=actor,
                action="save_research",
                note=note.summary[:200],
            )
        else:
            events.happened(case, action="save_research", actor=actor, note=note.summary[:200])
    return note


def _new_text(draft: ReplyDraft, text: str, actor: User | None) -> None:
    """A changed text voids the approval; its editor joins those who may not approve it."""
    draft.text = text
    if actor is not None and actor.pk != draft.author_id and actor.pk not in draft.editor_ids:
        draft.editor_ids = [*draft.editor_ids, actor.pk]
    draft.approved_by = None
    draft.approved_at = None
    draft.approved_text_hash = ""
    draft.submitted_at = None


def _clean_text(text: str, what: str) -> str:
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise WorkflowError(f"the {what} is empty")
    if len(text) > MAX_DRAFT_CHARS:
        raise WorkflowError(f"the {what} is longer than {MAX_DRAFT_CHARS} characters")
    return text


def _locked_draft(
    case: Case,
    text: str,
    actor: User | None,
    findings: list[dict[str, Any]],
    *,
    amend: bool,
    later: bool = False,
) -> tuple[ReplyDraft, bool | None]:
    """The case's draft (or request to amend, or next answer), locked for the edit, and
    whether ``text`` changes it; created with ``text`` (recorded, changed None) if there
    is none yet."""
    first = not (amend or later)
    draft = (
        ReplyDraft.objects.select_for_update()
        .filter(case_id=case.pk, is_first_reply=first, later=later)
        .first()
    )
    if draft is not None:
        return draft, draft.text != text
    draft = ReplyDraft.objects.create(
        case_id=case.pk,
        is_first_reply=first,
        later=later,
        text=text,
        author_id=person_id(actor),
        tone_findings=findings,
        editor_ids=[],
    )
    action = "save_later_reply" if later else "save_amend_request" if amend else "save_draft"
    events.happened(case, action=action, actor=actor)
    return draft, None


def save_draft(case: Case | int, *, actor: User, text: str) -> ReplyDraft:
    """Write or edit the reply draft; an edit voids any approval and sends the case back
    to drafting (rule 3). Tone findings are recomputed on every save."""
    case = _case(case)
    text = _clean_text(text, "draft")
    editable = (Stage.DRAFTING, Stage.AWAITING_APPROVAL, Stage.APPROVED)
    if case.stage not in editable:
        raise TransitionNotAllowed(f"the draft cannot be edited while the case is {case.stage}")
    held = checks.not_held(checks.Attempt(case, actor))
    if held is not None:
        raise held
    findings = tone_findings(case, text)
    with transaction.atomic():
        draft, changed = _locked_draft(case, text, actor, findings, amend=False)
        if changed is None:
            return draft
        was_approved = draft.approved_at is not None
        draft.tone_findings = findings
        if changed:
            _new_text(draft, text, actor)
        draft.save()
        if changed and case.stage == Stage.APPROVED:
            if OutboundAction.objects.filter(
                case_id=case.pk,
                kind=OutboundAction.Kind.REPLY,
                state__in=[OutboundAction.State.SENDING, OutboundAction.State.SENT],
            ).exists():
                raise TransitionNotAllowed("the approved reply is already being sent")
            _cancel_pending(case, "draft edited after approval")
            _move(
                case,
                to=Stage.DRAFTING,
                actor=actor,
                action="save_draft",
                note="draft edited; the approval is void",
            )
        elif changed and case.stage == Stage.AWAITING_APPROVAL:
            _move(
                case,
                to=Stage.DRAFTING,
                actor=actor,
                action="save_draft",
                note="draft edited while awaiting approval; submit it again",
            )
        else:
            note = "approval void" if changed and was_approved else ""
            events.happened(case, action="save_draft", actor=actor, note=note)
    return draft


def submit_draft(case: Case | int, *, actor: User) -> ReplyDraft:
    """Ask for approval (drafting -> awaiting_approval): research done, tone guard clean."""
    case = _case(case)
    attempt = MOVES["submit_draft"].require(case, actor, fresh_tone=True)
    draft, findings = attempt.draft, attempt.findings
    assert draft is not None and findings is not None  # has_draft and tone_clean ran
    with transaction.atomic():
        _move(case, to=Stage.AWAITING_APPROVAL, actor=actor, action="submit_draft")
        ReplyDraft.objects.filter(pk=draft.pk).update(
            tone_findings=findings, submitted_at=timezone.now()
        )
    draft.tone_findings = findings
    return draft
