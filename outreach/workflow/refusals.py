"""Trying a move where a refusal is an answer, not a failure: tasks, ticks and bulk actions.

A task or a tick that finds a rule refusing its move logs why and goes on; a
bulk action in the admin tells the user which cases it skipped and why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from outreach.workflow.rules import WorkflowError

log = logging.getLogger(__name__)

T = TypeVar("T")
C = TypeVar("C")


def try_move(move: Callable[[], T], *, what: str) -> T | None:
    """Make ``move``; on a refusal log ``what`` and the reason, and return None."""
    try:
        return move()
    except WorkflowError as exc:
        log.info("%s: %s", what, exc)
        return None


def try_each(cases: Iterable[C], move: Callable[[C], Any], *, what: str) -> tuple[int, list[str]]:
    """Make ``move`` on each case; how many were made, and why each other was skipped."""
    done, skipped = 0, []
    for case in cases:
        pk = getattr(case, "pk", case)
        try:
            move(case)
        except WorkflowError as exc:
            log.info("case %s %s: %s", pk, what, exc)
            skipped.append(f"case {pk} ({exc})")
        else:
            done += 1
    return done, skipped
