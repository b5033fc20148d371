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


def newest_first_walk(
    state: Mapping[str, Any],
    items: list[tuple[str, str]],  # (id, sort timestamp), newest first as served
    next_cursor: str | None,
    *,
    full: bool,
) -> tuple[set[str], dict[str, Any]]:
    """Which ids are new, and the state to store with them (Bluesky search and notifications).

    ``since``/``seen`` mark what is stored (the newest timestamp and the ids at
    it). While a full page leaves older-but-unseen items behind, ``cursor``
    (the platform's, pointing older) and ``top``/``top_seen`` (the newest
    item of the walk) are kept, so a cut-short page never skips anything.
    """
    since, seen = state.get("since"), set(state.get("seen") or ())
    fresh = {i for i, ts in items if since is None or ts > since or (ts == since and i not in seen)}
    reached_old = since is not None and any(i not in fresh for i, _ in items)
    stamps = [ts for i, ts in items if i in fresh]
    top, top_seen = state.get("top"), state.get("top_seen")
    if stamps and top is None:
        top = max(stamps)
        top_seen = sorted(i for i, ts in items if ts == top)
    if since is not None and full and next_cursor and not reached_old:
        walk = {"since": since, "seen": sorted(seen), "cursor": next_cursor}
        return fresh, {**walk, "top": top, "top_seen": top_seen} if top else walk
    if top is None:
        return fresh, {"since": since, "seen": sorted(seen)} if since else {}
    return fresh, {"since": top, "seen": top_seen or []}
