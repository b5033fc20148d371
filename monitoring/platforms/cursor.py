"""The one cursor codec: a poll's resume point stored as a small JSON object.

Every adapter keeps its state (ids, timestamps, a platform's own page token)
as JSON in ``Source.cursor``. A cursor that does not read back is a
configuration fault, never a reason to start over silently from the newest
post, so it is a ``PermanentError`` naming the platform.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from .base import PermanentError


def load_cursor(
    cursor: str,
    platform: str,
    valid: Callable[[dict[str, Any]], bool] | None = None,
) -> dict[str, Any]:
    """The state in ``cursor`` ("" gives {}); PermanentError unless ``valid`` accepts it."""
    if not cursor:
        return {}
    try:
        state = json.loads(cursor)
        ok = isinstance(state, dict) and (valid is None or valid(state))
    except (ValueError, TypeError, KeyError, AttributeError):
        ok = False
    if not ok:
        raise PermanentError(f"unreadable {platform} cursor {cursor[:80]!r}")
    return state


def dump_cursor(state: Mapping[str, Any]) -> str:
    """``state`` as compact JSON with sorted keys, so equal states give equal cursors."""
    return json.dumps(state, separators=(",", ":"), sort_keys=True)
