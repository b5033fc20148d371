"""What the team's reviewers taught the tone guard: rejected drafts and their approved successors.

A reviewer who rejects a draft writes why; the draft keeps the text it had
(``ReplyDraft.rejected_text``) and, once an edit of it is approved, the approved
text is its successor. ``reviewer_pairs`` collects both as labelled replies for
``outreach.tone.semantic``: the rejected text is a bad example of the codes its
note names (a code itself, ``call_to_action``, or a word from ``NOTE_WORDS``),
the approved text a good one. A note that names no code still gives the approved
text; the rejected text is then left out, since nobody said what was wrong with it.
``manage.py train_tone_model`` trains on them with the shipped examples.
"""

from __future__ import annotations

import re
from typing import Any

from outreach.models import ReplyDraft
from outreach.tone import CODES, SEMANTIC_CODES

# How reviewers say it, per code the model learns. Matched on the lower-cased note.
NOTE_WORDS: dict[str, tuple[str, ...]] = {
    "call_to_action": ("call to action", "pushy", "sales pitch", "salesy", "pitch"),
    "self_promotion": ("self-promotion", "self promotion", "promotes us", "bragging", "about us"),
    "offer": ("an offer", "a deal", "incentive"),
    "link": ("link", "url", "domain"),
    "disparages_competitor": ("disparag", "mocks", "mocking", "insult", "snark", "dig at",
                              "bashing"),
    "arguing": ("argu", "defensive", "contradict"),
    "blames_customer": ("blame",),
    "threat": ("threat", "intimidat", "menacing"),
    "legal_threat": ("legal", "lawyer", "solicitor", "defamat"),
    "delete_request": ("delete", "take down", "take it down", "remove the post"),
    "no_reference_to_problem": ("generic", "does not refer", "doesn't refer", "acknowledge",
                                "content-free", "canned", "their problem"),
}  # fmt: skip


def note_codes(note: str) -> list[str]:
    """The codes a rejection note names, in ``SEMANTIC_CODES`` order."""
    # "legal threat" is legal language, not a threat against the person.
    lowered = note.lower().replace("legal threat", "legal")
    named = set(re.findall(r"\b[a-z_]+\b", lowered)) & set(CODES)
    for code, words in NOTE_WORDS.items():
        if any(w in lowered for w in words):
            named.add(code)
    return [c for c in SEMANTIC_CODES if c in named]


def reviewer_pairs() -> list[dict[str, Any]]:
    """Every draft rejected at least once: its rejected text, the note, the codes the note
    names, the approved text when an edit was approved since (else ""), and its playbook."""
    pairs = []
    drafts = (
        ReplyDraft.objects.filter(rejected_text__gt="")
        .select_related("case")
        .order_by("pk")
        .only("text", "rejected_text", "rejection_note", "approved_text_hash", "is_first_reply",
              "case__kind")
    )  # fmt: skip
    for draft in drafts.iterator():
        approved = (
            draft.text if draft.approval_is_valid and draft.text != draft.rejected_text else ""
        )
        pairs.append(
            {
                "rejected": draft.rejected_text,
                "approved": approved,
                "note": draft.rejection_note,
                "codes": note_codes(draft.rejection_note),
                "playbook": draft.case.kind,
                "first_reply": draft.is_first_reply,
            }
        )
    return pairs
