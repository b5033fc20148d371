"""The named checks of the move table: each looks at an ``Attempt`` and returns the
refusal (an error naming its rule) or None.

The same check serves the move (which raises what it returns), the case page's
button (which shows it as the reason it is disabled) and the dispatcher's last
look before a send (see ``table.MOVES``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone

from monitoring.platforms import PermanentError, platform_class
from outreach.models import (
    CONVERSATION_KINDS,
    CONVERSATION_STAGES,
    Case,
    CaseEvent,
    DoNotContact,
    EngagementEvent,
    OutboundAction,
    PlaybookKind,
    ReplyDraft,
    ResearchNote,
    Stage,
    normalise_handle,
    subject_hashes,
    text_hash,
)
from outreach.tone import CODES
from outreach.workflow import overrules
from outreach.workflow.context import tone_findings
from outreach.workflow.rules import (
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


def dnc_entry(platform: str, external_id: str, handle: str) -> DoNotContact | None:
    """The do-not-contact entry in force for a person: by the platform's id, else by handle.

    An erased person's entry holds only salted hashes of both (``forget_person``): each
    lookup matches the plain value or its hash.
    """
    entries = DoNotContact.objects.in_force().filter(platform=platform)
    handle = normalise_handle(handle)
    id_hash, handle_hash = subject_hashes(platform, external_id, handle)
    # The stable id first: a person who changes their handle is still the person who
    # asked us to stop. The handle second (case-insensitively), for entries added by hand.
    # One query for both (each arm on its own unique index), the id's entry preferred.
    if not (external_id or handle):
        return None
    match = Q(pk__in=[])
    if external_id:
        match |= Q(person_external_id=external_id) | Q(id_hash=id_hash)
    if handle:
        match |= Q(handle__iexact=handle) | Q(handle_hash=handle_hash)
    # At most one entry in force per id and per handle, plain or hashed.
    found = list(entries.filter(match)[:4])
    by_id = [
        e
        for e in found
        if external_id and (e.person_external_id == external_id or e.id_hash == id_hash)
    ]
    return (by_id or found or [None])[0]


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


Refusal = WorkflowError | None


@dataclass
class Attempt:
    """Someone (or a task) trying a move on a case: what every check looks at.

    ``fresh_tone``: the move judges the text now (and keeps the findings in
    ``findings``); a button shows the findings saved with the draft.
    ``text_hash_seen``: the hash of the text the reviewer read (None: not asked).
    ``action``: the outbox row at send time.
    """

    case: Case
    actor: User | None = None
    now: dt.datetime = field(default_factory=timezone.now)
    amend: bool = False
    # The move is about the next answer in the conversation (``ReplyDraft.later``).
    later: bool = False
    fresh_tone: bool = False
    text_hash_seen: str | None = None
    action: OutboundAction | None = None
    findings: list[dict[str, Any]] | None = None
    _draft: ReplyDraft | None = None
    _draft_read: bool = False

    @property
    def draft(self) -> ReplyDraft | None:
        """The draft the move is about: the first reply, the request to amend, or the
        next answer in the conversation."""
        if not self._draft_read:
            self._draft = ReplyDraft.objects.filter(
                case_id=self.case.pk,
                is_first_reply=not (self.amend or self.later),
                later=self.later,
            ).first()
            self._draft_read = True
        return self._draft


Check = Callable[[Attempt], Refusal]


def research_done(a: Attempt) -> Refusal:
    """Rule 1: a complete research note."""
    problems = research_problems(ResearchNote.objects.filter(case_id=a.case.pk).first())
    return RuleViolation(RESEARCH_FIRST, "; ".join(problems)) if problems else None


def has_draft(a: Attempt) -> Refusal:
    """There is a text to submit or approve."""
    if a.draft is None or not a.draft.text.strip():
        what = "request to amend" if a.amend else "answer" if a.later else "reply draft"
        return WorkflowError(f"there is no {what} yet")
    return None


def saw_this_text(a: Attempt) -> Refusal:
    """Rule 3: the reviewer approves the text they read, not one edited since."""
    if a.text_hash_seen is None or a.draft is None:
        return None
    if a.text_hash_seen != text_hash(a.draft.text):
        what = "request" if a.amend else "draft"
        return RuleViolation(
            HUMAN_APPROVAL, f"the {what} changed since you read it; reload and read it again"
        )
    return None


def four_eyes(a: Attempt) -> Refusal:
    """Rule 3, where the playbook asks: the approver neither wrote nor edited the text."""
    draft = a.draft
    if not a.case.playbook.four_eyes or draft is None or a.actor is None:
        return None
    if a.actor.pk == draft.author_id or a.actor.pk in (draft.editor_ids or []):
        return RuleViolation(
            HUMAN_APPROVAL, "four eyes: the approver must not have written or edited the draft"
        )
    return None


def tone_clean(a: Attempt) -> Refusal:
    """Rule 2: no blocking finding of the tone guard."""
    if a.draft is None:
        return None
    if a.fresh_tone:
        a.findings = tone_findings(a.case, a.draft.text, first_reply=not (a.amend or a.later))
    findings = a.findings if a.findings is not None else a.draft.tone_findings
    # A reviewer may have overruled a warning or model finding (never a firm one).
    findings = overrules.standing(findings, overrules.overruled_keys(a.draft))
    blocking = [f for f in findings if f["blocking"]]
    if blocking:
        # In words, the code beside for reference (and for the people who know them by heart).
        said = "; ".join(f"{CODES.get(c, c)} ({c})" for c in sorted({f["code"] for f in blocking}))
        return RuleViolation(TONE_GUARD, f"the draft has blocking findings: {said}")
    return None


def fresh(a: Attempt) -> Refusal:
    """Rule 8: the post is not older than the playbook's limit."""
    limit = dt.timedelta(hours=a.case.playbook.freshness_hours)
    if a.case.post.posted_at < a.now - limit:
        return RuleViolation(
            FRESHNESS,
            f"the post is older than the playbook's {a.case.playbook.freshness_hours} h limit",
        )
    return None


def not_on_dnc(a: Attempt) -> Refusal:
    """Rule 6: the person is not on the do-not-contact list."""
    person = a.case.person
    if person.redacted_at is not None:
        # Erased (forget_person) or emptied by retention: their row no longer names them,
        # so no list entry would match it; nobody is contacted through such a case.
        return RuleViolation(
            ONE_CONVERSATION, "the person's data was erased: they are never contacted again"
        )
    if dnc_entry(a.case.platform, person.external_id, person.handle) is not None:
        return RuleViolation(ONE_CONVERSATION, f"{person} is on the do-not-contact list")
    return None


def engaged(a: Attempt) -> Refusal:
    """Rule 5: the person answered (or followed us) after our reply."""
    if (
        a.case.stage != Stage.ENGAGED
        or not EngagementEvent.objects.filter(case_id=a.case.pk, kind__in=ENGAGING_KINDS).exists()
    ):
        return RuleViolation(FOLLOW_AFTER_ENGAGEMENT, "the person has not engaged with our reply")
    return None


def replied(a: Attempt) -> Refusal:
    """Our first reply went out: a follow or a request to amend goes from its account."""
    if OutboundAction.objects.sent_reply(a.case) is None:
        rule = ONE_UNSOLICITED if a.amend else FOLLOW_AFTER_ENGAGEMENT
        return RuleViolation(rule, "no reply of ours was sent on this case")
    return None


def own_brand(a: Attempt) -> Refusal:
    """Only own-brand cases ask for an amended post."""
    if a.case.kind != PlaybookKind.OWN_BRAND:
        return WorkflowError("only own-brand cases ask for an amended post")
    return None


def amend_window(a: Attempt) -> Refusal:
    """Rule 8 after resolution: ask within the engagement window after the case closed."""
    case = a.case
    window = dt.timedelta(days=case.playbook.engagement_window_days)
    if case.closed_at is not None and case.closed_at + window < a.now:
        return RuleViolation(
            FRESHNESS,
            f"resolved more than {case.playbook.engagement_window_days} days ago: "
            "too late to ask about the post",
        )
    return None


def amend_stage(a: Attempt) -> Refusal:
    """The request is asked for after resolution, and only once."""
    if a.case.stage != Stage.RESOLVED:
        return TransitionNotAllowed(
            f"ask only after the problem is resolved (case is {a.case.stage})"
        )
    return None


def not_queued(a: Attempt) -> Refusal:
    """Rule 4: one request to amend per case (a cancelled one may be approved again)."""
    if (
        OutboundAction.objects.filter(case_id=a.case.pk, kind=OutboundAction.Kind.AMEND_REQUEST)
        .exclude(state=OutboundAction.State.CANCELLED)
        .exists()
    ):
        return RuleViolation(ONE_UNSOLICITED, "the request is already approved")
    return None


def not_refused(a: Attempt) -> Refusal:
    """A follow the platform refused for good is not asked for again (one per case)."""
    refused = (
        OutboundAction.objects.filter(
            case_id=a.case.pk,
            kind=OutboundAction.Kind.FOLLOW,
            state=OutboundAction.State.FAILED,
        )
        .values_list("error", flat=True)
        .first()
    )
    if refused is not None:
        return WorkflowError(f"the platform refused our follow: {refused[:200]}")
    return None


# A send held back by a hold looks again this much later: the own-brand case may close
# at any time, and a stale post is refused then by the freshness check before it.
HOLD_RECHECK = dt.timedelta(minutes=15)


def not_held(a: Attempt) -> Refusal:
    """Rule 6, service first: no outreach to a person we are serving in an own-brand case
    (outreach/workflow/holds.py). At send time ``until`` makes the dispatcher wait."""
    if a.case.on_hold:
        holder = f" {a.case.held_by_id}" if a.case.held_by_id else ""
        return RuleViolation(
            ONE_CONVERSATION,
            f"on hold while we serve this person in own-brand case{holder}",
            reason="on_hold",
            until=a.now + HOLD_RECHECK,
        )
    return None


def not_opted_out(a: Attempt) -> Refusal:
    """The button only: a person who opted out already needs no second click."""
    return WorkflowError("already opted out") if a.case.stage == Stage.OPTED_OUT else None


# Where a request to amend the post may be written, approved and sent.
AMEND_ALLOWED: tuple[Check, ...] = (own_brand, amend_stage, replied, amend_window)


# --- At send time (the dispatcher's last look) ------------------------------------------


def still_approved(a: Attempt) -> Refusal:
    """Rule 4: the first reply goes out only from approved, once."""
    if a.case.stage != Stage.APPROVED:
        return RuleViolation(ONE_UNSOLICITED, f"the case is {a.case.stage}, not approved")
    return None


def still_resolved(a: Attempt) -> Refusal:
    """Rule 4: the request to amend goes out only once, from resolved."""
    if a.case.stage != Stage.RESOLVED:
        return RuleViolation(
            ONE_UNSOLICITED, f"the case is {a.case.stage}; the request goes out only once"
        )
    return None


def approved_text(a: Attempt) -> Refusal:
    """Rule 3: what goes out is the exact text approved."""
    draft = a.action.draft if a.action is not None else None
    if (
        draft is None
        or a.action is None
        or not draft.approval_is_valid
        or draft.approved_text_hash != a.action.text_hash
    ):
        return RuleViolation(HUMAN_APPROVAL, "the text is not the approved text")
    return None


def still_engaged(a: Attempt) -> Refusal:
    """Rule 5 at send time: the follow is still requested, an engagement on record."""
    if (
        a.case.stage != Stage.FOLLOW_REQUESTED
        or not EngagementEvent.objects.filter(case_id=a.case.pk, kind__in=ENGAGING_KINDS).exists()
    ):
        return RuleViolation(FOLLOW_AFTER_ENGAGEMENT, "the person has not engaged")
    return None


def in_conversation(a: Attempt) -> Refusal:
    """Rule 4: nothing further goes out before the person engages: the case is in
    conversation (engaged, follow requested or followed) with an engagement on record."""
    if (
        a.case.stage not in CONVERSATION_STAGES
        or not EngagementEvent.objects.filter(case_id=a.case.pk, kind__in=ENGAGING_KINDS).exists()
    ):
        return RuleViolation(
            ONE_UNSOLICITED,
            f"nothing further goes out before the person engages (case is {a.case.stage})",
        )
    return None


# How the team knows a person accepts private messages: they wrote to us privately
# (an engagement of kind private message), or a reviewer recorded where they asked.
PRIVATE_CONSENT_ACTION = "record_private_consent"


def private_consent(case_id: int) -> str:
    """How we know the person accepts a private message from us; "" when we do not."""
    if EngagementEvent.objects.filter(
        case_id=case_id, kind=EngagementEvent.Kind.PRIVATE_MESSAGE
    ).exists():
        return "they wrote to us privately"
    note = (
        CaseEvent.objects.filter(case_id=case_id, action=PRIVATE_CONSENT_ACTION)
        .order_by("-pk")
        .values_list("note", flat=True)
        .first()
    )
    return f"they asked for it: {note}" if note is not None else ""


def wrote_privately(a: Attempt) -> Refusal:
    """Rule 4: a private message only to someone who wrote to us privately or asked for it."""
    if not private_consent(a.case.pk):
        return RuleViolation(
            ONE_UNSOLICITED,
            "a private message only to a person who wrote to us privately or asked for one",
        )
    return None


def platform_messages_privately(a: Attempt) -> Refusal:
    """The case's platform adapter sends private messages (else it says why not)."""
    try:
        adapter = platform_class(a.case.platform)
    except (ImportError, PermanentError) as exc:
        return WorkflowError(f"the {a.case.platform} adapter is not available: {exc}")
    if not adapter.sends_private_messages:
        return WorkflowError(
            adapter.private_messages_note or f"{adapter.label} has no private messages"
        )
    return None


def no_answer_queued(a: Attempt) -> Refusal:
    """One answer in flight at a time: the queued one is sent (or cancelled) first."""
    if OutboundAction.objects.filter(
        case_id=a.case.pk,
        kind__in=CONVERSATION_KINDS,
        state__in=[OutboundAction.State.PENDING, OutboundAction.State.SENDING],
    ).exists():
        return WorkflowError("an answer is already queued; it goes out first")
    return None
