"""The admin header's badge: what waits for the signed-in user (a template context processor).

Three counts in one query over the open cases (``queries.work_counts``), computed only when a
page shows the header and at most once per request, however many templates ask.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from outreach import queries


def _badge(request: HttpRequest) -> dict[str, Any] | None:
    cached: dict[str, Any] | None = getattr(request, "_nojackal_badge", None)
    if cached is not None:
        return cached
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return None
    if not user.has_perm("outreach.view_case"):
        return None
    counts = queries.work_counts(user)
    queue = reverse("admin:outreach_case_changelist")
    badge = {
        "counts": counts,
        "total": counts.assigned + counts.to_approve + counts.overdue,
        "assigned_url": f"{queue}?assignee=me",
        "to_approve_url": f"{queue}?approval=mine",
        "overdue_url": f"{queue}?due=overdue",
        "may_approve": user.has_perm(queries.APPROVE_PERMISSION),
    }
    request._nojackal_badge = badge  # type: ignore[attr-defined]
    return badge


def badge(request: HttpRequest) -> dict[str, Any]:
    """``work_badge`` for templates: evaluated only if a template shows it."""
    return {"work_badge": SimpleLazyObject(lambda: _badge(request))}
