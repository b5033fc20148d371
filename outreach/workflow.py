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
"""

from __future__ import annotations

import datetime as dt
import random
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from monitoring.models import Account, Brand, Incident, Post
from monitoring.platforms import Limits, PlatformError, get_platform
from outreach import queries
from outreach.models import (
    OPEN_STAGES,
    PRE_REPLY_STAGES,
    Case,
    CaseEvent,
    DoNotContact,
    EngagementEvent,
    OutboundAction,
    Playbook,
    PlaybookKind,
    ReplyDraft,
    ResearchNote,
    Severity,
    Stage,
    normalise_handle,
    text_hash,
)
from outreach.tone import ReplyContext, check_reply

User = AbstractUser | AnonymousUser

APPROVE_PERMISSION = "outreach.approve_replydraft"
PLAYBOOK_PERMISSION = "outreach.change_playbook"

# A real research summary says what happened in a sentence or two, not "ok".
MIN_SUMMARY_CHARS = 40
MIN_SUMMARY_WORDS = 6
MAX_DRAFT_CHARS = 10_000
MAX_NOTE_CHARS = 5_000


# --- Rules and errors ---------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    number: int
    code: str
    title: str

    def __str__(self) -> str:
        return f"rule {self.number} ({self.title})"


RESEARCH_FIRST = Rule(1, "research_first", "research before reply")
TONE_GUARD = Rule(2, "tone_guard", "tone guard")
HUMAN_APPROVAL = Rule(3, "human_approval", "a human approves the exact text")
ONE_UNSOLICITED = Rule(4, "one_unsolicited_message", "one unsolicited message")
FOLLOW_AFTER_ENGAGEMENT = Rule(5, "follow_after_engagement", "follow only after engagement")
ONE_CONVERSATION = Rule(6, "one_conversation", "one conversation per person, do-not-contact")
NO_PILE_ON = Rule(7, "no_pile_on", "don't pile on")
FRESHNESS = Rule(8, "freshness", "freshness limit")
OPT_OUT = Rule(9, "opt_out", "opt-out")
AUDIT = Rule(10, "audit", "audit")
ONE_PLAYBOOK = Rule(11, "one_playbook", "one playbook")
FAIRNESS = Rule(12, "fairness", "fairness")

RULES: dict[int, Rule] = {
    r.number: r
    for r in (
        RESEARCH_FIRST,
        TONE_GUARD,
        HUMAN_APPROVAL,
        ONE_UNSOLICITED,
        FOLLOW_AFTER_ENGAGEMENT,
        ONE_CONVERSATION,
        NO_PILE_ON,
        FRESHNESS,
        OPT_OUT,
        AUDIT,
        ONE_PLAYBOOK,
        FAIRNESS,
    )
}


class WorkflowError(Exception):
    """A move was refused; the message is shown to the team as it is."""


class TransitionNotAllowed(WorkflowError):
    """The move does not exist from the case's stage, or the stage changed meanwhile."""


class RuleViolation(WorkflowError):
    """A move would break one of the twelve rules; ``rule`` says which.

    ``reason`` is a short stable code where one rule has several distinct
    refusals (rule 6: do-not-contact, an open case, a cooldown), so triage can
    say exactly why no case was opened.
    """

    def __init__(self, rule: Rule, message: str, *, reason: str = "") -> None:
        self.rule = rule
        self.detail = message
        self.reason = reason or rule.code
        super().__init__(f"Refused by {rule}: {message}")


# --- The transition table -----------------------------------------------------

_ENDINGS = frozenset({Stage.DISMISSED, Stage.OPTED_OUT, Stage.FAILED})

ALLOWED: dict[str, frozenset[str]] = {
    Stage.NEW: frozenset({Stage.RESEARCHING, Stage.EXPIRED}) | _ENDINGS,
    Stage.RESEARCHING: frozenset({Stage.DRAFTING, Stage.EXPIRED}) | _ENDINGS,
    Stage.DRAFTING: frozenset({Stage.AWAITING_APPROVAL, Stage.EXPIRED}) | _ENDINGS,
    Stage.AWAITING_APPROVAL: frozenset({Stage.APPROVED, Stage.DRAFTING, Stage.EXPIRED}) | _ENDINGS,
    Stage.APPROVED: frozenset({Stage.AWAITING_ENGAGEMENT, Stage.DRAFTING, Stage.EXPIRED})
    | _ENDINGS,
    Stage.AWAITING_ENGAGEMENT: frozenset({Stage.ENGAGED, Stage.NO_RESPONSE}) | _ENDINGS,
    Stage.ENGAGED: frozenset({Stage.FOLLOWED, Stage.RESOLVED}) | _ENDINGS,
    Stage.FOLLOWED: frozenset({Stage.RESOLVED}) | _ENDINGS,
    # Closed stages: only the person's own "stop" (and, for own-brand cases,
    # asking whether they would amend the post) still applies.
    Stage.RESOLVED: frozenset({Stage.AMEND_REQUESTED, Stage.OPTED_OUT}),
    Stage.AMEND_REQUESTED: frozenset({Stage.OPTED_OUT}),
    Stage.NO_RESPONSE: frozenset({Stage.OPTED_OUT}),
    Stage.DISMISSED: frozenset(),
    Stage.EXPIRED: frozenset(),
    Stage.OPTED_OUT: frozenset(),
    Stage.FAILED: frozenset(),
}

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

# Rule 9: answers that mean "stop", or that tell a brand it is not welcome. A false
# positive ends a case early and puts the person on the do-not-contact list, so
# the net is wide but aimed at us: "stop messaging me", "blocking you", "is this
# a bot" count; an own-brand customer's "my card got blocked", "it stopped working
# again" or "your chatbot is useless" describe the problem and do not. Three
# families: asking us to stop, rejecting a brand in the conversation, hostility.
_OPT_OUT_PATTERNS = (
    # asking us to stop
    r"(please|just|so) stop|stop (it|this|that|now|please|messaging|contacting|replying|tagging|"
    r"spamming|following|dm\w*|@\w*)\w*|leave me alone|go away|get lost|back off|unsubscribe|"
    r"opt(ed)? ?out|not interested|no thanks|remove me|unfollow me|"
    r"(don'?t|do not|never) (contact|message|dm|tag|mention|reply to|talk to|@) ?(me|us)|"
    r"(block|blocking|blocked|report|reporting|reported|mute|muting|muted) "
    r"(you|u|this( account| reply| post)?|your account)|"
    r"(reported|flagged|marked) (it |this |you )?as spam|"
    r"(this is|that'?s|what|more|such|corporate|marketing) spam|spam(my|mer|bot)s?|"
    r"(you'?re|are you|is this|this is|you are|u r|ur|another|stupid|dumb) "
    r"(a |an |just a |some )?(bot|robot)s?|(go away|unfollow me|stop|shut up),? bots?",
    # rejecting a brand in the conversation
    r"who (even )?asked|nobody asked|didn'?t ask|"
    r"(mind|stay out of) (your|my) (own )?business|"
    r"(none|any) of your (business|concern)|not your (business|concern)|"
    r"don'?t pretend|spare me|save (it|your|the) \w*|nice try|not buying it|"
    r"vultures?|jackals?|ambulance[- ]chas\w*|shill\w*|pr stunt|marketing stunt|"
    r"(a|some) (company|brand|corporate) account|you'?re a (brand|company)|"
    r"(did|does) an intern|as bad as each other|just what (my day|i) needed|"
    r"fix your own",
    # plain hostility
    r"f+u+c*k+ (off|you)|piss off|shut up|harass\w*|creep\w*",
)
_OPT_OUT_TEXT = re.compile(r"\b(" + "|".join(_OPT_OUT_PATTERNS) + r")\b", re.IGNORECASE)
# One word that is the whole answer: "STOP", "blocked.", "spam".
_OPT_OUT_WORD = re.compile(
    r"^\W*(please |just |ok,? |now )?(stop|blocked|reported|muted|spam)\W*$", re.IGNORECASE
)


def looks_like_opt_out(text: str) -> bool:
    """True when a person's answer asks us to stop or is hostile (rule 9)."""
    text = text or ""
    return bool(_OPT_OUT_WORD.match(text) or _OPT_OUT_TEXT.search(text))


# --- The one place that changes a stage ----------------------------------------


def _actor_id(actor: User | None) -> int | None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    return actor.pk  # type: ignore[return-value]


def _person_id(actor: User | None) -> int:
    """The id of the person doing something only a person can do (research, drafts)."""
    pk = _actor_id(actor)
    if pk is None:
        raise WorkflowError("only a signed-in person can do this")
    return pk


def _event(case: Case, *, action: str, actor: User | None, note: str = "") -> CaseEvent:
    """Record something that happened to a case without a stage change (rule 10)."""
    return CaseEvent.objects.create(
        case_id=case.pk,
        action=action,
        origin=case.stage,
        target=case.stage,
        actor_id=_actor_id(actor),
        note=note[:MAX_NOTE_CHARS],
    )


def _move(
    case: Case,
    *,
    to: str,
    actor: User | None,
    action: str,
    note: str = "",
    fields: Mapping[str, Any] | None = None,
) -> None:
    """Change ``case.stage`` by compare-and-set and record a CaseEvent, atomically."""
    origin = case.stage
    if to not in ALLOWED[origin]:
        raise TransitionNotAllowed(f"cannot {action.replace('_', ' ')}: case is {origin}")
    updates: dict[str, Any] = dict(fields or {})
    if to not in OPEN_STAGES and origin in OPEN_STAGES:
        updates["closed_at"] = timezone.now()
    with transaction.atomic():
        if Case.objects.filter(pk=case.pk, stage=origin).update(stage=to, **updates) != 1:
            raise TransitionNotAllowed(
                f"case {case.pk} is no longer {origin} (someone else moved it); reload the page"
            )
        CaseEvent.objects.create(
            case_id=case.pk,
            action=action,
            origin=origin,
            target=to,
            actor_id=_actor_id(actor),
            note=note[:MAX_NOTE_CHARS],
        )
    case.stage = to
    for name, value in updates.items():
        setattr(case, name, value)


def _case(case: Case | int) -> Case:
    if isinstance(case, Case):
        # Decide on the stage as it is now, not as the caller last saw it; the
        # compare-and-set in _move still catches a change between here and there.
        case.refresh_from_db(fields=["stage", "closed_at", "assignee", "incident"])
        return case
    return Case.objects.select_related("post", "person", "brand", "playbook").get(pk=case)


def _cancel_pending(case: Case, reason: str) -> int:
    """Cancel outbox rows not yet claimed by the dispatcher (sending rows are left alone)."""
    return OutboundAction.objects.filter(
        case_id=case.pk, state=OutboundAction.State.PENDING
    ).update(state=OutboundAction.State.CANCELLED, error=reason[:MAX_NOTE_CHARS])


# --- Checks shared by the moves, the admin buttons and the dispatcher -----------


def _now(now: dt.datetime | None = None) -> dt.datetime:
    return now or timezone.now()


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


def _pick_account(platform: str) -> Account:
    account = (
        Account.objects.select_for_update()
        .filter(platform=platform, enabled=True)
        .order_by("pk")
        .first()
    )
    if account is None:
        raise WorkflowError(f"no enabled {platform} account to reply from")
    return account


def _live_replies() -> Any:
    return OutboundAction.objects.filter(kind=OutboundAction.Kind.REPLY).exclude(
        state__in=[OutboundAction.State.CANCELLED, OutboundAction.State.FAILED]
    )


def _check_caps(case: Case, account: Account, now: dt.datetime) -> None:
    """Rule 7, counted under row locks on the brand and the account (see approve_reply)."""
    playbook = case.playbook
    per_day = _live_replies().filter(
        case__brand_id=case.brand_id, created_at__gte=now - dt.timedelta(days=1)
    )
    if per_day.count() >= playbook.max_replies_per_brand_per_day:
        raise RuleViolation(
            NO_PILE_ON,
            f"already {playbook.max_replies_per_brand_per_day} replies about {case.brand} "
            "in the last 24 hours",
        )
    if case.incident_id:
        in_incident = _live_replies().filter(case__incident_id=case.incident_id)
        if in_incident.count() >= playbook.max_replies_per_incident:
            raise RuleViolation(
                NO_PILE_ON,
                f"already {playbook.max_replies_per_incident} replies in incident "
                f"#{case.incident_id}",
            )
    per_hour = min(playbook.max_replies_per_account_per_hour, account.max_sends_per_hour)
    last_hour = _live_replies().filter(account=account, created_at__gte=now - dt.timedelta(hours=1))
    if last_hour.count() >= per_hour:
        raise RuleViolation(
            NO_PILE_ON, f"{account} already has {per_hour} replies queued or sent this hour"
        )


def _send_slot(case: Case, account: Account, now: dt.datetime) -> dt.datetime:
    """When this reply may go out: spaced from the account's previous one, with jitter."""
    per_hour = max(
        1, min(case.playbook.max_replies_per_account_per_hour, account.max_sends_per_hour)
    )
    spacing = dt.timedelta(seconds=3600 / per_hour)
    last = (
        OutboundAction.objects.filter(account=account)
        .exclude(state=OutboundAction.State.CANCELLED)
        .order_by("-not_before")
        .values_list("not_before", flat=True)
        .first()
    )
    slot = max(now, last + spacing) if last else now
    # Jitter so that replies from one account never go out on a visible beat.
    return slot + dt.timedelta(seconds=random.uniform(0, spacing.total_seconds() / 4))


# --- Moves ---------------------------------------------------------------------


def open_case(
    post_id: int,
    brand_id: int,
    kind: str,
    *,
    actor: User | None = None,
    severity: int = Severity.NORMAL,
    incident_id: int | None = None,
    automatic: bool = False,
    now: dt.datetime | None = None,
) -> Case:
    """Open a case for the author of a post under the active playbook of ``kind``.

    ``automatic`` (triage) also applies rule 7 to opening: no more competitor
    cases per brand a day, or per incident, than the playbook lets us reply to,
    so a burst never floods the queue. Own-brand service cases have no cap:
    every customer is answered.
    """
    now = _now(now)
    if kind not in PlaybookKind.values:
        raise WorkflowError(f"unknown case kind {kind!r}")
    if severity not in Severity.values:
        raise WorkflowError(f"unknown severity {severity!r}")
    post = Post.objects.select_related("author").get(pk=post_id)
    brand = Brand.objects.get(pk=brand_id)
    expected_brand_kind = (
        Brand.Kind.COMPETITOR if kind == PlaybookKind.COMPETITOR else Brand.Kind.OWN
    )
    if brand.kind != expected_brand_kind:
        raise WorkflowError(
            f"a {PlaybookKind(kind).label} case needs a {expected_brand_kind} brand"
        )
    playbook = Playbook.objects.filter(kind=kind, is_active=True).first()
    if playbook is None:
        raise RuleViolation(
            ONE_PLAYBOOK,
            f"there is no active {PlaybookKind(kind).label} playbook",
            reason="no_playbook",
        )
    if (
        incident_id is not None
        and not Incident.objects.filter(pk=incident_id, brand_id=brand.pk).exists()
    ):
        raise WorkflowError(f"incident #{incident_id} is not an incident about {brand}")
    person = post.author
    if Account.objects.filter(
        platform=post.platform, handle__iexact=person.handle.lstrip("@")
    ).exists():
        raise WorkflowError(f"{person} is one of our own accounts")
    if dnc_entry(post.platform, person.external_id, person.handle) is not None:
        raise RuleViolation(
            ONE_CONVERSATION, f"{person} is on the do-not-contact list", reason="do_not_contact"
        )
    freshness = dt.timedelta(hours=playbook.freshness_hours)
    if post.posted_at < now - freshness:
        raise RuleViolation(
            FRESHNESS,
            f"the post is older than the playbook's {playbook.freshness_hours} h limit",
            reason="too_old",
        )
    if Case.objects.filter(person=person, stage__in=OPEN_STAGES).exists():
        raise RuleViolation(
            ONE_CONVERSATION, f"{person} already has an open case", reason="in_conversation"
        )
    cooldown_start = now - dt.timedelta(days=playbook.cooldown_days)
    if Case.objects.filter(person=person, closed_at__gte=cooldown_start).exists():
        raise RuleViolation(
            ONE_CONVERSATION,
            f"{person}'s last case closed less than {playbook.cooldown_days} days ago",
            reason="cooldown",
        )
    due_at = min(now + dt.timedelta(hours=playbook.due_hours), post.posted_at + freshness)
    try:
        with transaction.atomic():
            if automatic and kind == PlaybookKind.COMPETITOR:
                _check_opening_caps(brand, playbook, incident_id, now)
            case = Case.objects.create(
                post=post,
                person=person,
                brand=brand,
                platform=post.platform,
                kind=kind,
                playbook=playbook,
                due_at=due_at,
                severity=severity,
                incident_id=incident_id,
            )
            _event(case, action="open_case", actor=actor, note=f"{playbook}")
    except IntegrityError as exc:
        # Two openers raced past the check above; the partial unique index decided.
        if "case_one_open_per_person" in str(exc):
            raise RuleViolation(
                ONE_CONVERSATION, f"{person} already has an open case", reason="in_conversation"
            ) from None
        raise
    case.post, case.person, case.brand, case.playbook = post, person, brand, playbook
    return case


def _check_opening_caps(
    brand: Brand, playbook: Playbook, incident_id: int | None, now: dt.datetime
) -> None:
    """Rule 7 at the door: counted under a lock on the brand row, so two triage
    workers cannot both open the last allowed case."""
    Brand.objects.select_for_update().filter(pk=brand.pk).first()
    opened = Case.objects.filter(
        brand=brand, kind=PlaybookKind.COMPETITOR, opened_at__gte=now - dt.timedelta(days=1)
    )
    if opened.count() >= playbook.max_replies_per_brand_per_day:
        raise RuleViolation(
            NO_PILE_ON,
            f"already {playbook.max_replies_per_brand_per_day} cases about {brand} today",
            reason="cap_reached",
        )
    if incident_id and (
        Case.objects.filter(brand=brand, incident_id=incident_id).count()
        >= playbook.max_replies_per_incident
    ):
        raise RuleViolation(
            NO_PILE_ON,
            f"already {playbook.max_replies_per_incident} cases in incident #{incident_id}",
            reason="cap_reached",
        )


def assign(case: Case | int, assignee: User | None, *, actor: User | None) -> Case:
    """Give an open case to ``assignee`` (or nobody); no stage change."""
    case = _case(case)
    with transaction.atomic():
        changed = Case.objects.filter(pk=case.pk, stage__in=OPEN_STAGES).update(
            assignee_id=_actor_id(assignee)
        )
        if changed != 1:
            raise TransitionNotAllowed(f"case {case.pk} is closed")
        _event(case, action="assign", actor=actor, note=f"assigned to {assignee or 'nobody'}")
    case.assignee_id = _actor_id(assignee)
    return case


def claim(case: Case | int, *, actor: User) -> Case:
    """Start researching a new case and take it (new -> researching)."""
    case = _case(case)
    _move(
        case,
        to=Stage.RESEARCHING,
        actor=actor,
        action="claim",
        fields={"assignee_id": _actor_id(actor)},
    )
    return case


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


def approve_reply(case: Case | int, *, actor: User, text_hash_seen: str) -> OutboundAction:
    """Approve the exact draft text the reviewer read and queue the reply in the outbox.

    ``text_hash_seen`` is ``text_hash`` of the text shown to the reviewer; if the
    draft changed since, the approval is refused (rule 3).
    """
    case = _case(case)
    if case.stage != Stage.AWAITING_APPROVAL:
        raise TransitionNotAllowed(f"cannot approve: case is {case.stage}")
    _check_approver(actor)
    draft = _require_draft(case)
    if text_hash_seen != text_hash(draft.text):
        raise RuleViolation(
            HUMAN_APPROVAL, "the draft changed since you read it; reload and read it again"
        )
    _check_four_eyes(case, draft, actor)
    _check_research(case)
    findings = tone_findings(case, draft.text)
    _check_tone(findings)
    _check_fresh(case)
    _check_dnc(case)
    now = timezone.now()
    with transaction.atomic():
        # Serialise approvals per brand and per account so that two reviewers cannot
        # both squeeze under a cap (rule 7): counts below are read under these locks.
        Brand.objects.select_for_update().filter(pk=case.brand_id).first()
        account = _pick_account(case.platform)
        _check_caps(case, account, now)
        _move(
            case,
            to=Stage.APPROVED,
            actor=actor,
            action="approve_reply",
            note=f"approved text sha256 {text_hash(draft.text)[:12]}",
        )
        return _queue_approved(
            case, draft, actor, findings, account, now, kind=OutboundAction.Kind.REPLY
        )


def _queue_approved(
    case: Case,
    draft: ReplyDraft,
    actor: User,
    findings: list[dict[str, Any]],
    account: Account,
    now: dt.datetime,
    *,
    kind: str,
    in_reply_to: str = "",
) -> OutboundAction:
    """Record the approval of the exact text read and queue it; inside the caller's transaction."""
    approved = ReplyDraft.objects.filter(pk=draft.pk, text=draft.text).update(
        approved_by_id=actor.pk,
        approved_at=now,
        approved_text_hash=text_hash(draft.text),
        tone_findings=findings,
    )
    if approved != 1:
        raise TransitionNotAllowed("the text changed while approving; reload the page")
    try:
        with transaction.atomic():
            return OutboundAction.objects.create(
                case_id=case.pk,
                kind=kind,
                account=account,
                draft=draft,
                idempotency_key=f"case{case.pk}-{kind}-{uuid.uuid4().hex}",
                text=draft.text,
                text_hash=text_hash(draft.text),
                in_reply_to=in_reply_to,
                not_before=_send_slot(case, account, now),
            )
    except IntegrityError:
        what = "public reply" if kind == OutboundAction.Kind.REPLY else "request to amend the post"
        raise RuleViolation(ONE_UNSOLICITED, f"this case already has a {what}") from None


def reject_draft(case: Case | int, *, actor: User, note: str) -> ReplyDraft:
    """Send the draft back to its author with a note (awaiting_approval -> drafting)."""
    case = _case(case)
    if case.stage != Stage.AWAITING_APPROVAL:
        raise TransitionNotAllowed(f"cannot reject: case is {case.stage}")
    _check_approver(actor)
    note = note.strip()
    if not note:
        raise WorkflowError("say why the draft is rejected")
    draft = _require_draft(case)
    with transaction.atomic():
        _move(case, to=Stage.DRAFTING, actor=actor, action="reject_draft", note=note)
        ReplyDraft.objects.filter(pk=draft.pk).update(
            rejected_by_id=actor.pk, rejection_note=note[:MAX_NOTE_CHARS], submitted_at=None
        )
    draft.refresh_from_db()
    return draft


def dismiss(case: Case | int, *, actor: User | None, reason: str) -> Case:
    """Close an open case without (further) contact, with the reason."""
    case = _case(case)
    reason = reason.strip()
    if not reason:
        raise WorkflowError("a dismissal needs a reason")
    with transaction.atomic():
        _move(
            case,
            to=Stage.DISMISSED,
            actor=actor,
            action="dismiss",
            note=reason,
            fields={"dismiss_reason": reason[:MAX_NOTE_CHARS]},
        )
        _cancel_pending(case, "case dismissed")
    return case


def expire(case: Case | int, *, actor: User | None = None, now: dt.datetime | None = None) -> Case:
    """Close a case whose post got too old before our reply went out (rule 8)."""
    case = _case(case)
    try:
        _check_fresh(case, now)
    except RuleViolation:
        pass
    else:
        raise TransitionNotAllowed(f"case {case.pk} is still within the freshness limit")
    if case.stage not in PRE_REPLY_STAGES:
        raise TransitionNotAllowed(f"cannot expire: case is {case.stage}")
    with transaction.atomic():
        if OutboundAction.objects.filter(
            case_id=case.pk, state=OutboundAction.State.SENDING
        ).exists():
            raise TransitionNotAllowed("the reply is being sent; the dispatcher decides")
        _move(
            case,
            to=Stage.EXPIRED,
            actor=actor,
            action="expire",
            note=f"post older than {case.playbook.freshness_hours} h",
        )
        _cancel_pending(case, "case expired")
    return case


# What a sent text moves the case to: the first reply waits for the person; the
# own-brand request to amend the post closes the case's last step.
_SENT_STAGE = {
    OutboundAction.Kind.REPLY: (Stage.AWAITING_ENGAGEMENT, "mark_reply_sent"),
    OutboundAction.Kind.AMEND_REQUEST: (Stage.AMEND_REQUESTED, "mark_amend_request_sent"),
}


def mark_reply_sent(action_id: int, *, external_id: str, url: str = "") -> Case:
    """Record that the dispatcher posted an approved text: the first reply (approved ->
    awaiting_engagement) or the request to amend the post (resolved -> amend_requested)."""
    action = OutboundAction.objects.select_related(
        "case__post", "case__person", "case__playbook"
    ).get(pk=action_id)
    case = action.case
    if action.kind not in _SENT_STAGE:
        raise WorkflowError("only a reply or a request to amend is recorded as a sent text")
    target, move = _SENT_STAGE[action.kind]
    draft = action.draft
    if draft is None or not draft.approval_is_valid or draft.approved_text_hash != action.text_hash:
        raise RuleViolation(HUMAN_APPROVAL, "the reply's text is not the approved text")
    if action.kind == OutboundAction.Kind.REPLY:
        _check_research(case)
    now = timezone.now()
    with transaction.atomic():
        claimed = OutboundAction.objects.filter(
            pk=action.pk,
            state__in=[OutboundAction.State.PENDING, OutboundAction.State.SENDING],
        ).update(state=OutboundAction.State.SENT, external_id=external_id, url=url, sent_at=now)
        if claimed != 1:
            raise TransitionNotAllowed(f"outbound action {action.pk} is already {action.state}")
        _move(case, to=target, actor=None, action=move, note=url or external_id)
    return case


def record_engagement(
    case: Case | int,
    *,
    kind: str,
    external_id: str,
    occurred_at: dt.datetime,
    text: str = "",
    payload: Mapping[str, Any] | None = None,
) -> EngagementEvent | None:
    """Record what the person did after our reply; safe to call twice for one notification.

    A reply, mention, message or follow moves awaiting_engagement -> engaged; a
    block, mute or "stop" ends the case as opted out (rule 9). Returns None when
    the notification was already recorded.
    """
    case = _case(case)
    if kind not in EngagementEvent.Kind.values:
        raise WorkflowError(f"unknown engagement kind {kind!r}")
    if not OutboundAction.objects.filter(
        case_id=case.pk, kind=OutboundAction.Kind.REPLY, state=OutboundAction.State.SENT
    ).exists():
        raise WorkflowError("nothing was sent on this case, so there is nothing to engage with")
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = EngagementEvent.objects.create(
                    case_id=case.pk,
                    platform=case.platform,
                    kind=kind,
                    external_id=external_id,
                    text=text[:MAX_DRAFT_CHARS],
                    payload=dict(payload or {}),
                    occurred_at=occurred_at,
                )
        except IntegrityError:
            return None
        if kind in REFUSING_KINDS or looks_like_opt_out(text):
            opt_out(case, actor=None, reason=f"{kind}: {text[:200]}".strip(": "))
            return event
        if kind in ENGAGING_KINDS and case.stage == Stage.AWAITING_ENGAGEMENT:
            _move(case, to=Stage.ENGAGED, actor=None, action="record_engagement", note=kind)
            if case.playbook.auto_follow:
                from outreach import tasks

                tasks.follow_after_engagement.delay_on_commit(case.pk)
        else:
            _event(case, action="record_engagement", actor=None, note=kind)
    return event


def _check_engaged(case: Case) -> None:
    if (
        case.stage != Stage.ENGAGED
        or not EngagementEvent.objects.filter(case_id=case.pk, kind__in=ENGAGING_KINDS).exists()
    ):
        raise RuleViolation(FOLLOW_AFTER_ENGAGEMENT, "the person has not engaged with our reply")


def request_follow(case: Case | int, *, actor: User | None) -> OutboundAction:
    """Queue a follow of the person, only after they engaged (engaged -> followed)."""
    case = _case(case)
    if case.stage in (
        Stage.NEW,
        Stage.RESEARCHING,
        Stage.DRAFTING,
        Stage.AWAITING_APPROVAL,
        Stage.APPROVED,
        Stage.AWAITING_ENGAGEMENT,
    ):
        raise RuleViolation(FOLLOW_AFTER_ENGAGEMENT, "the person has not engaged with our reply")
    _check_engaged(case)
    _check_dnc(case)
    reply = (
        OutboundAction.objects.filter(
            case_id=case.pk, kind=OutboundAction.Kind.REPLY, state=OutboundAction.State.SENT
        )
        .select_related("account")
        .first()
    )
    if reply is None:
        raise RuleViolation(FOLLOW_AFTER_ENGAGEMENT, "no reply of ours was sent on this case")
    with transaction.atomic():
        _move(case, to=Stage.FOLLOWED, actor=actor, action="request_follow")
        try:
            with transaction.atomic():
                action = OutboundAction.objects.create(
                    case_id=case.pk,
                    kind=OutboundAction.Kind.FOLLOW,
                    account=reply.account,
                    idempotency_key=f"case{case.pk}-follow-{uuid.uuid4().hex}",
                    not_before=timezone.now(),
                )
        except IntegrityError:
            raise TransitionNotAllowed("a follow is already queued for this case") from None
    return action


def opt_out(case: Case | int, *, actor: User | None, reason: str) -> Case:
    """The person asked us to stop: close the case, cancel sends, never contact again (rule 9)."""
    case = _case(case)
    reason = reason.strip() or "asked us to stop"
    with transaction.atomic():
        person = case.person
        entry = dnc_entry(case.platform, person.external_id, person.handle)
        if entry is None:
            DoNotContact.objects.create(
                platform=case.platform,
                person_external_id=person.external_id,
                handle=person.handle,
                reason=f"opted out on case {case.pk}: {reason}"[:MAX_NOTE_CHARS],
                added_by_id=_actor_id(actor),
            )
        _cancel_pending(case, "person opted out")
        if Stage.OPTED_OUT in ALLOWED[case.stage]:
            _move(case, to=Stage.OPTED_OUT, actor=actor, action="opt_out", note=reason)
        else:
            _event(case, action="opt_out", actor=actor, note=reason)
    return case


def mark_failed(case: Case | int, *, actor: User | None, note: str) -> Case:
    """End a case that cannot go on (the post was deleted, the account is gone...)."""
    case = _case(case)
    note = note.strip()
    if not note:
        raise WorkflowError("say why the case failed")
    with transaction.atomic():
        _move(case, to=Stage.FAILED, actor=actor, action="mark_failed", note=note)
        _cancel_pending(case, "case failed")
    return case


def mark_no_response(
    case: Case | int, *, actor: User | None = None, now: dt.datetime | None = None
) -> Case:
    """Close a case whose engagement window passed in silence (-> no_response)."""
    case = _case(case)
    sent = (
        OutboundAction.objects.filter(
            case_id=case.pk, kind=OutboundAction.Kind.REPLY, state=OutboundAction.State.SENT
        )
        .values_list("sent_at", flat=True)
        .first()
    )
    window = dt.timedelta(days=case.playbook.engagement_window_days)
    if sent is None or sent + window > _now(now):
        raise TransitionNotAllowed("the engagement window has not passed yet")
    _move(case, to=Stage.NO_RESPONSE, actor=actor, action="mark_no_response")
    return case


def resolve(case: Case | int, *, actor: User, note: str = "") -> Case:
    """Close an engaged conversation as resolved."""
    case = _case(case)
    _move(case, to=Stage.RESOLVED, actor=actor, action="resolve", note=note)
    return case


# --- Own-brand: one polite request to amend the post, after resolution -----------


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


def amend_target(case: Case) -> str:
    """The post a request to amend answers: the person's latest public answer to us in the
    conversation (so they are notified, and it is not the post our first reply answered),
    else their original post."""
    for payload in (
        EngagementEvent.objects.filter(
            case_id=case.pk,
            kind__in=[EngagementEvent.Kind.REPLY, EngagementEvent.Kind.MENTION],
        )
        .order_by("-occurred_at", "-pk")
        .values_list("payload", flat=True)
    ):
        post_id = str((payload or {}).get("post_id") or "")
        if post_id:
            return post_id
    return case.post.external_id


def save_amend_request(case: Case | int, *, actor: User, text: str) -> ReplyDraft:
    """Write or edit the own-brand request to amend the post (tone-checked as a later reply).

    An edit voids the approval and cancels a queued, unsent request (rule 3).
    """
    case = _case(case)
    text = _clean_text(text, "request")
    _check_amend_allowed(case)
    findings = tone_findings(case, text, first_reply=False)
    with transaction.atomic():
        draft, created = _draft_for_edit(case, text, actor, findings, first_reply=False)
        if created:
            _event(case, action="save_amend_request", actor=actor)
            return draft
        changed = draft.text != text
        if (
            changed
            and OutboundAction.objects.filter(
                case_id=case.pk,
                kind=OutboundAction.Kind.AMEND_REQUEST,
                state__in=[OutboundAction.State.SENDING, OutboundAction.State.SENT],
            ).exists()
        ):
            raise TransitionNotAllowed("the approved request is already being sent")
        draft.tone_findings = findings
        note = ""
        if changed:
            note = "approval void" if draft.approved_at else ""
            _new_text(draft, text, actor)
            cancelled = OutboundAction.objects.filter(
                case_id=case.pk,
                kind=OutboundAction.Kind.AMEND_REQUEST,
                state=OutboundAction.State.PENDING,
            ).update(state=OutboundAction.State.CANCELLED, error="request edited after approval")
            if cancelled:
                note = "request edited after approval; the queued one is cancelled"
        draft.save()
        _event(case, action="save_amend_request", actor=actor, note=note)
    return draft


def approve_amend_request(case: Case | int, *, actor: User, text_hash_seen: str) -> OutboundAction:
    """Approve the exact request text the reviewer read and queue it in the outbox.

    It goes out from the account that sent our first reply, as a reply to the
    person's latest answer (``amend_target``); the case moves to amend_requested
    when it is sent.
    """
    case = _case(case)
    reply = _check_amend_allowed(case)
    _check_approver(actor)
    draft = _amend_draft(case)
    if draft is None or not draft.text.strip():
        raise WorkflowError("there is no request to amend yet")
    if text_hash_seen != text_hash(draft.text):
        raise RuleViolation(
            HUMAN_APPROVAL, "the request changed since you read it; reload and read it again"
        )
    _check_four_eyes(case, draft, actor)
    findings = tone_findings(case, draft.text, first_reply=False)
    _check_tone(findings)
    _check_dnc(case)
    now = timezone.now()
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=reply.account_id)
        if not account.enabled:
            raise WorkflowError(f"{account} is disabled; enable it to send the request")
        action = _queue_approved(
            case,
            draft,
            actor,
            findings,
            account,
            now,
            kind=OutboundAction.Kind.AMEND_REQUEST,
            in_reply_to=amend_target(case),
        )
        _event(
            case,
            action="approve_amend_request",
            actor=actor,
            note=f"approved text sha256 {text_hash(draft.text)[:12]}",
        )
    return action


# --- The dispatcher's last look before a send ------------------------------------


def _check_hourly(action: OutboundAction, now: dt.datetime) -> None:
    sent_last_hour = OutboundAction.objects.filter(
        account_id=action.account_id,
        state=OutboundAction.State.SENT,
        sent_at__gte=now - dt.timedelta(hours=1),
    ).count()
    account = Account.objects.get(pk=action.account_id)
    if sent_last_hour >= account.max_sends_per_hour:
        raise RuleViolation(NO_PILE_ON, f"{account} reached its hourly cap")


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


# --- Playbooks (rule 11) -------------------------------------------------------

PLAYBOOK_EDITABLE_FIELDS = (
    "name",
    "guidance",
    "reply_templates",
    "freshness_hours",
    "due_hours",
    "engagement_window_days",
    "cooldown_days",
    "max_replies_per_brand_per_day",
    "max_replies_per_incident",
    "max_replies_per_account_per_hour",
    "four_eyes",
    "auto_follow",
)


def edit_playbook(
    playbook: Playbook | int, *, actor: User, note: str, changes: Mapping[str, Any]
) -> Playbook:
    """Make a new active version of a playbook with ``changes``; the old one retires.

    Cases keep the version they started under. Needs the change_playbook permission.
    """
    if actor is None or not actor.is_authenticated or not actor.has_perm(PLAYBOOK_PERMISSION):
        raise RuleViolation(
            ONE_PLAYBOOK, "editing the playbook needs the change_playbook permission"
        )
    unknown = set(changes) - set(PLAYBOOK_EDITABLE_FIELDS)
    if unknown:
        raise WorkflowError(f"these playbook fields cannot be edited: {', '.join(sorted(unknown))}")
    if not note.strip():
        raise WorkflowError("say what changed and why")
    pk = playbook.pk if isinstance(playbook, Playbook) else playbook
    with transaction.atomic():
        current = Playbook.objects.select_for_update().get(pk=pk)
        if not current.is_active:
            raise RuleViolation(ONE_PLAYBOOK, f"{current} is retired; edit the active version")
        values = {name: getattr(current, name) for name in PLAYBOOK_EDITABLE_FIELDS}
        values.update(changes)
        Playbook.objects.filter(pk=current.pk).update(is_active=False)
        new = Playbook(
            kind=current.kind,
            version=current.version + 1,
            is_active=True,
            previous=current,
            change_note=note.strip()[:MAX_NOTE_CHARS],
            created_by_id=actor.pk,
            **values,
        )
        new.full_clean(exclude=["previous", "created_by"])
        new.save()
    return new


def create_playbook(*, actor: User | None, kind: str, **values: Any) -> Playbook:
    """The first version of a kind's playbook (refused when one is already active)."""
    if actor is not None and not actor.has_perm(PLAYBOOK_PERMISSION):
        raise RuleViolation(
            ONE_PLAYBOOK, "creating a playbook needs the change_playbook permission"
        )
    if Playbook.objects.filter(kind=kind, is_active=True).exists():
        raise RuleViolation(ONE_PLAYBOOK, f"a {kind} playbook is active already; edit it instead")
    last = Playbook.objects.filter(kind=kind).order_by("-version").first()
    playbook = Playbook(
        kind=kind,
        version=(last.version + 1) if last else 1,
        is_active=True,
        created_by_id=_actor_id(actor),
        change_note="first version" if last is None else "new playbook",
        **values,
    )
    playbook.full_clean(exclude=["previous", "created_by"])
    playbook.save()
    return playbook


# --- What the case page offers -----------------------------------------------------


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
