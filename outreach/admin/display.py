"""How user-written text is shown in the admin: escaped, bidi controls visible."""

from __future__ import annotations

import re
from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString

from outreach.models import (
    ReplyDraft,
)

# Bidirectional controls reorder what is shown around them (U+202E makes
# "gpj.exe" look like "exe.jpg"); they are shown as visible markers instead.
_BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def shown(text: str | None, limit: int | None = None) -> SafeString:
    """User-written text made safe to show: HTML-escaped, bidi controls made visible, isolated."""
    text = text or ""
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    visible = _BIDI_CONTROLS.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)
    return format_html('<bdi class="nj-text">{}</bdi>', visible)


def _findings(draft: ReplyDraft | None) -> list[dict[str, Any]]:
    """A draft's tone findings, each with the (escaped) excerpt it is about."""
    if draft is None:
        return []
    return [
        {**f, "excerpt": shown(draft.text[f["start"] : f["end"]], 80)} for f in draft.tone_findings
    ]
