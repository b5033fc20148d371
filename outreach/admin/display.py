"""How user-written text is shown in the admin: escaped, bidi controls visible."""

from __future__ import annotations

from typing import Any

# One implementation for both apps: monitoring's Post and Person pages show the same text.
from monitoring.display import platform_link, shown
from outreach.models import (
    ReplyDraft,
)

__all__ = ["platform_link", "shown"]


def _findings(draft: ReplyDraft | None) -> list[dict[str, Any]]:
    """A draft's tone findings, each with the (escaped) excerpt it is about."""
    if draft is None:
        return []
    return [
        {**f, "excerpt": shown(draft.text[f["start"] : f["end"]], 80)} for f in draft.tone_findings
    ]
