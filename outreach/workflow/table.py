"""The move table, and the one function that changes a case's stage.

One declaration per move (``MOVES``): its stages, its target, its named checks
(see ``checks``), the permission it needs, and how the case page shows it. The
transition table (``ALLOWED``), the case page's buttons and their reasons, the
dispatcher's re-checks at send time and the admin's move URLs are all read from
it, so adding a move is one entry here plus its checks and its function.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from outreach.models import (
    CONVERSATION_STAGES,
    OPEN_STAGES,
    PRE_REPLY_STAGES,
    Case,
    OutboundAction,
    PlaybookKind,
    Stage,
)
from outreach.workflow import checks, events, holds
from outreach.workflow.checks import Attempt, Check
from outreach.workflow.rules import (
    APPROVE_PERMISSION,
    HUMAN_APPROVAL,
    MAX_NOTE_CHARS,
    RuleViolation,
    TransitionNotAllowed,
    User,
    WorkflowError,
)


@dataclass(frozen=True)
class Move:
    """One move of a case: where from, where to, and what must hold."""

    name: str
    sources: frozenset[str]
    # None: the move records an event and leaves the stage (approving a request to amend).
    target: str | None
    checks: tuple[Check, ...] = ()
    # Shown on the case page when the label is set; a move without one is made by the
    # system (a task, the dispatcher) or by its own form (research, draft).
    label: str = ""
    permission: str = ""
    needs_note: bool = False
    danger: bool = False
    # Why the button is disabled in another stage ("" : the checks say it).
    stage_reason: str = ""
    # Only for cases of this kind (no button at all on the others).
    case_kind: str = ""
    # The move is about the request to amend, not the first reply's draft.
    amend: bool = False
    # The move is about the next answer in the conversation (after engagement).
    later: bool = False
    # The outbox kind it queues, and what the dispatcher checks again before sending it.
    sends: str = ""
    send_checks: tuple[Check, ...] = ()
    # The public function making the move, where its name is not the move's.
    function: str = ""

    @property
    def performed_by(self) -> str:
        """The name of the ``outreach.workflow`` function that makes this move."""
        return self.function or self.name

    def refusal(self, a: Attempt, *, shown: bool = False) -> WorkflowError | None:
        """The first reason ``a`` may not make this move, or None.

        ``shown``: worded for the case page's button rather than for the move's error.
        """
        case = a.case
        if self.case_kind and case.kind != self.case_kind:
            return WorkflowError(f"only {PlaybookKind(self.case_kind).label} cases have this step")
        if self.stage_reason and case.stage not in self.sources:
            if shown:
                # In words for the button, the stage's code beside for reference.
                label = Stage(case.stage).label.lower()
                said = label if label == case.stage else f"{label} · {case.stage}"
                return TransitionNotAllowed(f"{self.stage_reason} (case is {said})")
            return TransitionNotAllowed(
                f"cannot {self.name.replace('_', ' ')}: case is {case.stage}"
            )
        if self.permission and (
            a.actor is None or not a.actor.is_authenticated or not a.actor.has_perm(self.permission)
        ):
            return RuleViolation(
                HUMAN_APPROVAL, "only a person with the approve permission may do this"
            )
        for check in self.checks:
            refused = check(a)
            if refused is not None:
                return refused
        return None

    def require(self, case: Case, actor: User | None, **attempt: Any) -> Attempt:
        """Raise the first refusal of this move on ``case``; the attempt, checked, otherwise."""
        a = Attempt(case, actor, amend=self.amend, later=self.later, **attempt)
        refused = self.refusal(a)
        if refused is not None:
            raise refused
        return a


_OPEN = frozenset(OPEN_STAGES)
_CONVERSATION = frozenset(CONVERSATION_STAGES)
_CLOSED_BUT_LISTENING = frozenset(
    {Stage.RESOLVED, Stage.AMEND_REQUESTED, Stage.NO_RESPONSE, Stage.GONE_QUIET}
)
_APPROVAL = (checks.has_draft, checks.saw_this_text, checks.four_eyes)
_REPLY_READY = (checks.research_done, checks.tone_clean, checks.fresh, checks.not_on_dnc)
# The next answer after engagement: approved like the first reply (its exact text, four
# eyes where the playbook asks), tone-checked as a later reply, one in flight at a time.
_ANSWER_READY = (
    checks.not_held,
    checks.in_conversation,
    checks.replied,
    checks.has_draft,
    checks.no_answer_queued,
    checks.saw_this_text,
    checks.four_eyes,
    checks.tone_clean,
    checks.not_on_dnc,
)
_ANSWER_SEND = (checks.not_on_dnc, checks.in_conversation, checks.approved_text, checks.not_held)


def _moves(*moves: Move) -> dict[str, Move]:
    return {m.name: m for m in moves}


# In the order of the case page's buttons.
MOVES: dict[str, Move] = _moves(
    Move(
        "claim",
        frozenset({Stage.NEW}),
        Stage.RESEARCHING,
        (checks.not_held,),
        label="Claim and start research",
        stage_reason="only a new case can be claimed",
    ),
    Move("save_research", frozenset({Stage.RESEARCHING}), Stage.DRAFTING, (checks.research_done,)),
    # An edit of the draft voids its approval: back to drafting (rule 3).
    Move("save_draft", frozenset({Stage.AWAITING_APPROVAL, Stage.APPROVED}), Stage.DRAFTING),
    Move(
        "submit_draft",
        frozenset({Stage.DRAFTING}),
        Stage.AWAITING_APPROVAL,
        (
            checks.not_held,
            checks.research_done,
            checks.has_draft,
            checks.tone_clean,
            checks.fresh,
            checks.not_on_dnc,
        ),
        label="Submit draft for approval",
        stage_reason="only a case in drafting can be submitted",
    ),
    Move(
        "approve_reply",
        frozenset({Stage.AWAITING_APPROVAL}),
        Stage.APPROVED,
        (checks.not_held, *_APPROVAL, *_REPLY_READY),
        label="Approve this exact reply",
        permission=APPROVE_PERMISSION,
        stage_reason="nothing awaits approval",
        sends=OutboundAction.Kind.REPLY,
        # The hold is looked at last: a reply that may never go out is refused, not deferred.
        send_checks=(
            checks.not_on_dnc,
            checks.still_approved,
            checks.approved_text,
            checks.fresh,
            checks.not_held,
        ),
    ),
    Move(
        "reject_draft",
        frozenset({Stage.AWAITING_APPROVAL}),
        Stage.DRAFTING,
        (checks.has_draft,),
        label="Reject draft",
        permission=APPROVE_PERMISSION,
        needs_note=True,
        stage_reason="nothing awaits approval",
    ),
    Move(
        "mark_reply_sent",
        frozenset({Stage.APPROVED}),
        Stage.AWAITING_ENGAGEMENT,
        (checks.approved_text, checks.research_done),
    ),
    Move("record_engagement", frozenset({Stage.AWAITING_ENGAGEMENT}), Stage.ENGAGED),
    # Queued only: the stage says "followed" once the platform confirmed it.
    Move(
        "request_follow",
        frozenset({Stage.ENGAGED}),
        Stage.FOLLOW_REQUESTED,
        (checks.not_held, checks.engaged, checks.not_on_dnc, checks.replied, checks.not_refused),
        label="Follow the person",
        sends=OutboundAction.Kind.FOLLOW,
        send_checks=(checks.not_on_dnc, checks.still_engaged, checks.not_held),
    ),
    Move("mark_followed", frozenset({Stage.FOLLOW_REQUESTED}), Stage.FOLLOWED),
    # A follow that will not happen (the platform refused it, or a rule stopped it at send
    # time): the case is engaged again rather than "follow requested" with nothing queued.
    Move("follow_not_sent", frozenset({Stage.FOLLOW_REQUESTED}), Stage.ENGAGED),
    # The conversation after engagement: each answer is drafted (``save_later_reply``),
    # approved as a public reply or as a private message, and sent by the dispatcher;
    # the case stays in conversation until resolved, gone quiet or opted out.
    Move(
        "approve_later_reply",
        _CONVERSATION,
        None,
        _ANSWER_READY,
        label="Approve this exact answer as a public reply",
        permission=APPROVE_PERMISSION,
        stage_reason="answer again only once the person engaged",
        later=True,
        sends=OutboundAction.Kind.LATER_REPLY,
        send_checks=_ANSWER_SEND,
    ),
    Move(
        "record_private_consent",
        _CONVERSATION,
        None,
        (checks.in_conversation,),
        label="The person asked for a private message",
        needs_note=True,
        stage_reason="only in a conversation the person started",
    ),
    Move(
        "approve_private_message",
        _CONVERSATION,
        None,
        (checks.platform_messages_privately, *_ANSWER_READY, checks.wrote_privately),
        label="Approve this exact answer as a private message",
        permission=APPROVE_PERMISSION,
        stage_reason="answer again only once the person engaged",
        later=True,
        sends=OutboundAction.Kind.PRIVATE_MESSAGE,
        send_checks=(*_ANSWER_SEND, checks.wrote_privately),
    ),
    Move(
        "resolve",
        _CONVERSATION,
        Stage.RESOLVED,
        label="Mark resolved",
        stage_reason="only an engaged conversation can be resolved",
    ),
    Move("mark_gone_quiet", _CONVERSATION, Stage.GONE_QUIET),
    Move(
        "approve_amend_request",
        frozenset({Stage.RESOLVED}),
        None,
        (
            checks.replied,
            checks.amend_window,
            checks.has_draft,
            checks.not_queued,
            checks.saw_this_text,
            checks.four_eyes,
            checks.tone_clean,
            checks.not_on_dnc,
        ),
        label="Approve this exact request to amend",
        permission=APPROVE_PERMISSION,
        case_kind=PlaybookKind.OWN_BRAND,
        stage_reason="ask only after the problem is resolved",
        amend=True,
        sends=OutboundAction.Kind.AMEND_REQUEST,
        send_checks=(
            checks.not_on_dnc,
            checks.still_resolved,
            checks.approved_text,
            checks.own_brand,
            checks.replied,
            checks.amend_window,
        ),
    ),
    Move(
        "mark_amend_request_sent",
        frozenset({Stage.RESOLVED}),
        Stage.AMEND_REQUESTED,
        (checks.approved_text,),
        function="mark_reply_sent",
    ),
    Move(
        "dismiss",
        _OPEN,
        Stage.DISMISSED,
        label="Dismiss",
        needs_note=True,
        danger=True,
        stage_reason="the case is closed",
    ),
    Move("expire", frozenset(PRE_REPLY_STAGES), Stage.EXPIRED),
    Move("mark_no_response", frozenset({Stage.AWAITING_ENGAGEMENT}), Stage.NO_RESPONSE),
    # The person's own "stop" applies in every stage; from one outside its sources it
    # is recorded without a stage change. It is never refused: the check greys the button.
    Move(
        "opt_out",
        _OPEN | _CLOSED_BUT_LISTENING,
        Stage.OPTED_OUT,
        (checks.not_opted_out,),
        label="Person opted out",
        needs_note=True,
        danger=True,
    ),
    Move(
        "mark_failed",
        _OPEN,
        Stage.FAILED,
        label="Mark failed",
        needs_note=True,
        danger=True,
        stage_reason="the case is closed",
    ),
)


def _allowed() -> dict[str, frozenset[str]]:
    edges: dict[str, set[str]] = {stage: set() for stage in Stage.values}
    for move in MOVES.values():
        if move.target is not None:
            for source in move.sources:
                edges[source].add(move.target)
    return {stage: frozenset(targets) for stage, targets in edges.items()}


# The transition table: which stage may follow which, read from the moves.
ALLOWED: dict[str, frozenset[str]] = _allowed()

# What the dispatcher checks again before sending each kind: the checks of the move
# that queued it.
SEND_CHECKS: dict[str, tuple[Check, ...]] = {
    m.sends: m.send_checks for m in MOVES.values() if m.sends
}


def _move(
    case: Case,
    *,
    to: str,
    actor: User | None,
    action: str,
    note: str = "",
    fields: Mapping[str, Any] | None = None,
) -> None:
    """Make move ``action`` (a row of ``MOVES``) by compare-and-set and record it, atomically."""
    origin = case.stage
    move = MOVES[action]
    if origin not in move.sources or to != move.target:
        raise TransitionNotAllowed(f"cannot {action.replace('_', ' ')}: case is {origin}")
    updates: dict[str, Any] = dict(fields or {})
    closing = to not in OPEN_STAGES and origin in OPEN_STAGES
    if closing:
        # A held case that closes is held no more (the database insists).
        updates.update(closed_at=timezone.now(), on_hold=False, held_by=None)
    with transaction.atomic():
        # The event first: the database accepts a stage change only when the case's
        # latest stage-changing event is this move's (outreach.workflow.dbrules).
        events.stage_change(
            case.pk, action=action, origin=origin, target=to, actor=actor, note=note, case=case
        )
        if Case.objects.filter(pk=case.pk, stage=origin).update(stage=to, **updates) != 1:
            raise TransitionNotAllowed(
                f"case {case.pk} is no longer {origin} (someone else moved it); reload the page"
            )
        if closing and case.kind == PlaybookKind.OWN_BRAND:
            holds.lift(case, actor=actor, closed_as=to)
    case.stage = to
    for name, value in updates.items():
        setattr(case, name, value)


def _case(case: Case | int) -> Case:
    if isinstance(case, Case):
        # Decide on the stage as it is now, not as the caller last saw it; the
        # compare-and-set in _move still catches a change between here and there.
        case.refresh_from_db(
            fields=["stage", "closed_at", "assignee", "incident", "on_hold", "held_by"]
        )
        return case
    return Case.objects.select_related("post", "person", "brand", "playbook").get(pk=case)


def _cancel_pending(case: Case, reason: str) -> int:
    """Cancel outbox rows not yet claimed by the dispatcher (sending rows are left alone)."""
    return OutboundAction.objects.filter(
        case_id=case.pk, state=OutboundAction.State.PENDING
    ).update(state=OutboundAction.State.CANCELLED, error=reason[:MAX_NOTE_CHARS])
