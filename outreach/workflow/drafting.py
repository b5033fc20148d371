"""Research and drafting: the research note, the reply draft and its tone guard."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from monitoring.models import Brand, Incident
from monitoring.platforms import Limits, PlatformError, get_platform
from outreach import queries
from outreach.models import (
    Account,
    Case,
    OutboundAction,
    ReplyDraft,
    ResearchNote,
    Stage,
)
from outreach.tone import ReplyContext, check_reply
from outreach.workflow.checks import (
    _check_dnc,
    _check_fresh,
    _check_research,
    _check_tone,
    _require_draft,
    research_problems,
)
from outreach.workflow.rules import (
    MAX_DRAFT_CHARS,
    MAX_NOTE_CHARS,
    RESEARCH_FIRST,
    RuleViolation,
    TransitionNotAllowed,
    User,
    WorkflowError,
)
from outreach.workflow.table import _cancel_pending, _case, _event, _move, _person_id


def _limits(platform: str) -> Limits:
    account = Account.objects.filter(platform=platform, enabled=True).order_by("pk").first()
    try:
        return get_platform(platform, options=account.options if account else None).limits()
    except (PlatformError, ImportError) as exc:
        raise WorkflowError(f"cannot read {platform}'s reply limits: {exc}") from exc


def _terms(kind: str) -> list[str]:
    terms: list[str] = []
    for brand in Brand.objects.filter(kind=kind):
        terms.extend(brand.all_terms())
    return terms


def _hashtags(terms: Iterable[str]) -> list[str]:
    return ["#" + re.sub(r"\W+", "", t) for t in terms if re.sub(r"\W+", "", t)]


def reply_context(case: Case, *, first_reply: bool = True) -> ReplyContext:
    """What the tone guard needs to judge a reply on ``case`` (the first one, or a later one)."""
    limits = _limits(case.platform)
    own = _terms(Brand.Kind.OWN)
    return ReplyContext(
        playbook=case.kind,
        own_terms=own,
        competitor_terms=_terms(Brand.Kind.COMPETITOR),
        post_text=case.post.text,
        max_length=limits.reply_max_length if limits.can_reply else 0,
        length_unit=limits.length_unit,
        first_reply=first_reply,
        templates=tuple(str(t) for t in case.playbook.reply_templates or ()),
        own_hashtags=_hashtags(own),
    )


def tone_findings(case: Case, text: str, *, first_reply: bool = True) -> list[dict[str, Any]]:
    """The tone guard's findings for ``text`` as a reply on ``case``, as JSON values."""
    return [
        {
            "code": f.code,
            "blocking": bool(f.blocking),
            "message": f.message,
            "start": f.start,
            "end": f.end,
        }
        for f in check_reply(text, reply_context(case, first_reply=first_reply))
    ]


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
                "author_id": _person_id(actor),
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
            _event(case, action="save_research", actor=actor, note=note.summary[:200])
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


def _draft_for_edit(
    case: Case,
    text: str,
    actor: User | None,
    findings: list[dict[str, Any]],
    *,
    first_reply: bool,
) -> tuple[ReplyDraft, bool]:
    """The case's draft of that kind, locked for the edit; created with ``text`` if none."""
    draft = (
        ReplyDraft.objects.select_for_update()
        .filter(case_id=case.pk, is_first_reply=first_reply)
        .first()
    )
    if draft is not None:
        return draft, False
    draft = ReplyDraft.objects.create(
        case_id=case.pk,
        is_first_reply=first_reply,
        text=text,
        author_id=_person_id(actor),
        tone_findings=findings,
        editor_ids=[],
    )
    return draft, True


def save_draft(case: Case | int, *, actor: User, text: str) -> ReplyDraft:
    """Write or edit the reply draft; an edit voids any approval and sends the case back
    to drafting (rule 3). Tone findings are recomputed on every save."""
    case = _case(case)
    text = _clean_text(text, "draft")
    editable = (Stage.DRAFTING, Stage.AWAITING_APPROVAL, Stage.APPROVED)
    if case.stage not in editable:
        raise TransitionNotAllowed(f"the draft cannot be edited while the case is {case.stage}")
    findings = tone_findings(case, text)
    with transaction.atomic():
        draft, created = _draft_for_edit(case, text, actor, findings, first_reply=True)
        if created:
            _event(case, action="save_draft", actor=actor)
            return draft
        changed = draft.text != text
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
            _event(case, action="save_draft", actor=actor, note=note)
    return draft


def submit_draft(case: Case | int, *, actor: User) -> ReplyDraft:
    """Ask for approval (drafting -> awaiting_approval): research done, tone guard clean."""
    case = _case(case)
    if case.stage != Stage.DRAFTING:
        raise TransitionNotAllowed(f"cannot submit: case is {case.stage}")
    _check_research(case)
    draft = _require_draft(case)
    findings = tone_findings(case, draft.text)
    _check_tone(findings)
    _check_fresh(case)
    _check_dnc(case)
    with transaction.atomic():
        _move(case, to=Stage.AWAITING_APPROVAL, actor=actor, action="submit_draft")
        ReplyDraft.objects.filter(pk=draft.pk).update(
            tone_findings=findings, submitted_at=timezone.now()
        )
    draft.tone_findings = findings
    return draft
