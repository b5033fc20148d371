"""Rule constants, limits and the errors every move raises."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.utils import timezone

User = AbstractUser | AnonymousUser

APPROVE_PERMISSION = "outreach.approve_replydraft"

PLAYBOOK_PERMISSION = "outreach.change_playbook"

# A real research summary says what happened in a sentence or two, not "ok".
MIN_SUMMARY_CHARS = 40

MIN_SUMMARY_WORDS = 6

MAX_DRAFT_CHARS = 10_000

MAX_NOTE_CHARS = 5_000


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

# Every Rule constant above, by number.
RULES: dict[int, Rule] = {r.number: r for r in list(globals().values()) if isinstance(r, Rule)}


class WorkflowError(Exception):
    """A move was refused; the message is shown to the team as it is."""


class TransitionNotAllowed(WorkflowError):
    """The move does not exist from the case's stage, or the stage changed meanwhile."""


class RuleViolation(WorkflowError):
    """A move would break one of the twelve rules; ``rule`` says which.

    ``reason`` is a short stable code where one rule has several distinct
    refusals (rule 6: do-not-contact, an open case, a cooldown), so triage can
    say exactly why no case was opened.

    ``until`` is set where the refusal is a cap that frees up at that time (rule
    7): the dispatcher waits until then instead of cancelling the send.
    """

    def __init__(
        self, rule: Rule, message: str, *, reason: str = "", until: dt.datetime | None = None
    ) -> None:
        self.rule = rule
        self.detail = message
        self.reason = reason or rule.code
        self.until = until
        super().__init__(f"Refused by {rule}: {message}")


def actor_id(actor: User | None) -> int | None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    return actor.pk  # type: ignore[return-value]


def person_id(actor: User | None) -> int:
    """The id of the person doing something only a person can do (research, drafts)."""
    pk = actor_id(actor)
    if pk is None:
        raise WorkflowError("only a signed-in person can do this")
    return pk


def now_or(now: dt.datetime | None = None) -> dt.datetime:
    return now or timezone.now()
