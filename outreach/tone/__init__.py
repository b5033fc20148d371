"""The tone guard: a reply draft in, findings with stable codes out."""

from __future__ import annotations

from outreach.tone.reply import (
    LENGTH_UNITS,
    MAX_CHECKED,
    PLAYBOOKS,
    Finding,
    Reply,
    ReplyContext,
    blocking,
    measure_length,
)
from outreach.tone.rules import (
    ALWAYS_BLOCKING,
    CODES,
    FIRM_CODES,
    RULES,
    SALES_CODES,
    WARNING_CODES,
    Rule,
    Severity,
    code_table,
)
from outreach.tone.semantic import DOUBTING_LANGUAGES, SEMANTIC_CODES, Model, review

__doc__ = f"""The tone guard: a reply draft in, findings with stable codes out.

Pure: no ORM, no Django. ``check_reply(text, context)`` returns a list of
``Finding``s, each blocking or a warning, each with the span of the ORIGINAL
text that triggered it. Matching runs on a normalised copy of the text
(``normalise``: NFKC, casefold, accents stripped, look-alike letters mapped to
Latin from Unicode's confusables data, zero-width and other format characters
removed, spaced-out letters joined, "dot com" spelled out rewritten) and a
position map leads every match back to the original. The patterns live in
``lexicon``; each code's message, weight and finder in ``rules.RULES``, from
which this table is built.

Codes (stable: the admin, the workflow and the eval set rely on them), and what
each does on a competitor's customer's first and later replies and on an
own-brand customer's first and later replies ("-": not checked):

{code_table()}

On a competitor's customer's first reply every sales signal blocks; later in an
engaged conversation they are reported as warnings. Hostility towards the person
(threats, arguing, blame, "delete this"), legal threats, disparaging a
competitor, placeholders, empty text and excess length block on every reply of
both playbooks. A reply from a staff member's personal account must say who they
work for (``no_disclosure``). Patterns cover English, Spanish, French, German and
Portuguese (``language``); a reply in another language gets ``language_unchecked``
and what it lacks only warns. Words quoted from the post are not held against the
reply, except the firm codes (``FIRM_CODES``: links, prices, codes, our name),
which no reviewer can overrule either.

Beside the lexicon, a semantic layer (``semantic``: a small model over sentence
embeddings, trained on labelled replies) looks for paraphrases no pattern lists
and adds findings with the same codes, marked ``source="model"`` with their
``confidence`` and the closest labelled reply as ``evidence``. A phrasing neither
has seen can still slip through (bench/tone_eval.py and bench/tone_semantic.py
measure both). The guard backs up human approval; it does not replace it.
"""

__all__ = [
    "ALWAYS_BLOCKING",
    "CODES",
    "FIRM_CODES",
    "LENGTH_UNITS",
    "MAX_CHECKED",
    "PLAYBOOKS",
    "RULES",
    "SALES_CODES",
    "SEMANTIC_CODES",
    "WARNING_CODES",
    "Finding",
    "Model",
    "ReplyContext",
    "Rule",
    "Severity",
    "blocking",
    "check_reply",
    "measure_length",
]


def check_reply(
    text: str, context: ReplyContext, *, semantic: bool = True, model: Model | None = None
) -> list[Finding]:
    """Findings for ``text`` as a reply under ``context``; spans index the original text.

    ``semantic=False`` leaves the model out (the patterns alone); ``model`` replaces the
    shipped one (benchmarks, tests)."""
    if not isinstance(text, str):
        raise TypeError("text must be a string")
    if context.playbook not in PLAYBOOKS:  # guards contexts built around __post_init__
        raise ValueError(f"unknown playbook {context.playbook!r}")
    reply = Reply(text, context)
    findings: list[Finding] = []
    for rule in RULES:
        severity = rule.weigh(reply)
        if severity is Severity.UNCHECKED or (reply.blank and not rule.on_blank):
            continue
        for hit in rule.find(reply):
            if not rule.firm and reply.in_quote(hit.start, hit.end):
                continue  # the person's own words, quoted back
            message = rule.message + (f": {hit.detail}" if hit.detail else "")
            findings.append(
                Finding(rule.code, severity is Severity.BLOCKS, message, hit.start, hit.end)
            )
    if semantic and not reply.blank:
        doubting = reply.language in DOUBTING_LANGUAGES
        findings = review(
            text, context, findings, doubting=doubting, model=model, limit=reply.limit
        )
    return _tidy(findings)


def _tidy(findings: list[Finding]) -> list[Finding]:
    """Sorted, without findings nested inside a larger one of the same code and kind."""
    kept: list[Finding] = []
    reach: dict[tuple[str, bool], int] = {}  # furthest end kept so far per (code, blocking)
    for f in sorted(findings, key=lambda f: (f.code, f.blocking, f.start, -(f.end - f.start))):
        key = (f.code, f.blocking)
        if reach.get(key, -1) >= f.end:
            continue  # sorted by start, so an earlier one that reaches this far contains it
        reach[key] = f.end
        kept.append(f)
    kept.sort(key=lambda f: (f.start, f.end, f.code))
    return kept
