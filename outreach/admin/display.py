"""How user-written text is shown in the admin: escaped, bidi controls visible."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.contrib.admin import helpers
from django.forms import Form
from django.http import HttpRequest
from django.template.response import TemplateResponse

# One implementation for both apps: monitoring's Post and Person pages show the same text.
from monitoring.display import platform_link, shown
from outreach.models import (
    ReplyDraft,
)

__all__ = ["ask_reason", "platform_link", "shown"]


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
    """A draft's tone findings, each with the (escaped) excerpt it is about."""
    if draft is None:
        return []
    return [
        {**f, "excerpt": shown(draft.text[f["start"] : f["end"]], 80)} for f in draft.tone_findings
    ]
