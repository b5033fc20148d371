"""The case page's buttons, read from the move table: each allowed, or with the reason it is not,
and the one URL that makes the move a button names."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from outreach import workflow
from outreach.models import Case
from outreach.workflow.checks import Attempt
from outreach.workflow.table import MOVES, Move


@dataclass(frozen=True)
class MoveOption:
    name: str
    label: str
    allowed: bool
    reason: str = ""
    needs_note: bool = False
    danger: bool = False


def buttons() -> list[Move]:
    """The moves a person makes with a button, in the table's order."""
    return [move for move in MOVES.values() if move.label]


def available_moves(case: Case, user: workflow.User) -> list[MoveOption]:
    """Every button of the case page, each allowed or with the reason it is not."""
    options = []
    for move in buttons():
        if move.case_kind and case.kind != move.case_kind:
            continue  # never a step of this kind of case: no button to explain
        refused = move.refusal(Attempt(case, user, amend=move.amend, later=move.later), shown=True)
        reason = str(refused) if refused is not None else ""
        options.append(
            MoveOption(move.name, move.label, not reason, reason, move.needs_note, move.danger)
        )
    return options


def perform(name: str, case: Case, user: workflow.User, *, note: str, text_hash: str) -> Any:
    """Make the move button ``name`` stands for; KeyError when there is no such button.

    The move's function takes what it needs of the form: the note (as ``note`` or
    ``reason``) and the hash of the text the reviewer read.
    """
    move = MOVES[name]
    if not move.label:
        raise KeyError(name)
    function = getattr(workflow, move.performed_by)
    given = {"note": note, "reason": note, "text_hash_seen": text_hash}
    params = inspect.signature(function).parameters
    return function(case, actor=user, **{k: v for k, v in given.items() if k in params})
