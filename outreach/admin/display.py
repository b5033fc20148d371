"""How user-written text is shown in the admin: escaped, bidi controls visible."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.contrib.admin import helpers
from django.forms import Form
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.safestring import SafeString

# One implementation for both apps: monitoring's Post and Person pages show the same text.
from monitoring.display import platform_link, shown
from outreach.models import Case, PlaybookKind, ReplyDraft, Severity
from outreach.tone import CODES

__all__ = [
    "ask_reason",
    "due_cell",
    "grouped_findings",
    "in_words",
    "platform_link",
    "post_cell",
    "relative_due",
    "shown",
]


def ask_reason(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    *,
    form: Form,
    title: str,
    question: str,
    rows: Iterable[tuple[int, str]],
    submit: str,
) -> TemplateResponse:
    """The page a bulk action shows to ask for its reason: the question, the rows, the form."""
    return TemplateResponse(
        request,
        "admin/outreach/reason_for_selected.html",
        {
            **model_admin.admin_site.each_context(request),
            "title": title,
            "opts": model_admin.model._meta,
            "question": question,
            "rows": list(rows),
            "form": form,
            "action": request.POST.get("action", ""),
            "submit": submit,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        },
    )


def _findings(draft: ReplyDraft | None) -> list[dict[str, Any]]:
    """A draft's tone findings, one entry per code, each with the (escaped) excerpts it is about."""
    if draft is None:
        return []
    return [
        {**g, "excerpts": [shown(e, 80) for e in g["excerpts"]]}
        for g in grouped_findings(draft.text, draft.tone_findings)
    ]


# --- the queue at a glance -------------------------------------------------------------

# Below this, a due time is "soon" (amber); past it, "overdue" (red).
SOON = dt.timedelta(hours=1)


def _span(seconds: float) -> str:
    """A duration in words a person reads at a glance: "3 d 4 h", "1 h 20 min", "15 min"."""
    minutes = max(0, int(seconds // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min" if mins else "less than a minute"


def relative_due(due_at: dt.datetime, now: dt.datetime) -> tuple[str, str]:
    """``due_at`` said relative to ``now`` and the class that colours it:
    ("overdue by 15 min", "overdue"), ("due in 40 min", "soon") or ("due in 3 h", "later")."""
    left = (due_at - now).total_seconds()
    if left < 0:
        return f"overdue by {_span(-left)}", "overdue"
    return f"due in {_span(left)}", "soon" if left < SOON.total_seconds() else "later"


def due_cell(case: Case, now: dt.datetime) -> SafeString:
    """The queue's due column: relative and coloured, the exact time on hover, and an own-brand
    case's service level beside it (its playbook's due hours)."""
    words, state = relative_due(case.due_at, now)
    severity = (
        format_html(
            ' <span class="nj-severity nj-severity-{}">{}</span>',
            case.severity,
            case.get_severity_display(),
        )
        if case.severity != Severity.NORMAL
        else ""
    )
    sla = (
        format_html(' <span class="nj-sla">own brand · SLA {} h</span>', case.playbook.due_hours)
        if case.kind == PlaybookKind.OWN_BRAND
        else ""
    )
    return format_html(
        '<time class="nj-due nj-due-{}" datetime="{}" title="{}">{}</time>{}{}',
        state,
        case.due_at.isoformat(),
        f"{case.due_at:%Y-%m-%d %H:%M} UTC",
        words,
        severity,
        sla,
    )


def platform_badge(platform: str, label: str) -> SafeString:
    """A small text badge for the platform (no image: nothing is loaded from outside)."""
    # "Hacker News" -> "HN", "Sandbox (simulated network)" -> "Sa", "X" -> "X".
    words = label.split("(")[0].split()
    if len(words) >= 2:
        letters = "".join(w[0] for w in words[:2]).upper()
    else:
        letters = (words[0][:2] if words else platform[:2]).capitalize()
    return format_html(
        '<span class="nj-platform nj-platform-{}" title="{}" aria-label="{}">{}</span>',
        platform,
        label,
        label,
        letters,
    )


def post_cell(case: Case) -> SafeString:
    """The queue's post column: platform badge, who and about which brand, and the post's
    text wrapped to a few lines."""
    return format_html(
        '<span class="nj-post-meta">{} {} · {}</span><span class="nj-post-text">{}</span>',
        platform_badge(case.platform, case.get_platform_display()),
        shown("@" + case.person.handle.lstrip("@"), 60),
        case.brand.name,
        shown(case.post.text, 400),
    )


def in_words(label: str, code: str) -> SafeString:
    """A stage, reason or finding as people read it, with its code beside for reference."""
    return format_html('{} <code class="nj-code">{}</code>', label, code)


# --- the tone guard's findings, once each -----------------------------------------------


def grouped_findings(text: str, findings: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tone guard's findings as people read them: one entry per code and weight, in words
    (the rule's message), with the code beside, what the finder saw (``details``), every span it
    was found at and the text of each (not escaped here: the template or the browser does)."""
    groups: dict[tuple[str, bool], dict[str, Any]] = {}
    for f in findings:
        key = (f["code"], bool(f["blocking"]))
        group = groups.get(key)
        if group is None:
            group = groups[key] = {
                "code": f["code"],
                "blocking": bool(f["blocking"]),
                "words": CODES.get(f["code"], f["code"]),
                "details": [],
                "spans": [],
                "excerpts": [],
                # Found by the semantic layer only (its details say how sure and why).
                "model": True,
            }
        if f.get("source", "pattern") != "model":
            group["model"] = False
        # What the finder saw, without the rule's words repeated ("a price: '5 EUR'" -> "'5 EUR'").
        detail = f["message"].removeprefix(group["words"]).removeprefix(":").strip()
        if detail and detail not in group["details"]:
            group["details"].append(detail)
        span = [int(f["start"]), int(f["end"])]
        if span not in group["spans"]:
            group["spans"].append(span)
            excerpt = text[span[0] : span[1]]
            if excerpt and excerpt not in group["excerpts"]:
                group["excerpts"].append(excerpt)
    # Blocking first, then in the order found.
    return sorted(groups.values(), key=lambda g: not g["blocking"])
