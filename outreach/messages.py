"""Task messages as the worker receives them: anyone who can write to the broker can send one.

A task takes ids only (see the table in ``outreach/tasks.py``); these two
functions are its first look at an argument before anything is read."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def is_id(value: object) -> bool:
    """True for a primary key: a positive int (JSON keeps ints; a bool is not one)."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def refused(task: str, value: object, why: str = "is not an id") -> None:
    """Log a message the worker will not act on (forged or broken), and do nothing."""
    log.warning("task %s refused: %r %s", task, value, why)
