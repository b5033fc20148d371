"""The person's page, with their history with us: earlier cases, recent posts, what we
and they said, and whether they may be contacted at all.

monitoring's PersonAdmin knows nothing of outreach (monitoring never imports it):
the outreach admin registers it again with the history added.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from monitoring.admin import PersonAdmin
from monitoring.models import Person
from outreach import queries, workflow
from outreach.admin.display import shown


def history_context(person: Any, history: queries.PersonHistory) -> dict[str, Any]:
    """The person's history as the case page and the person's page show it (escaped)."""
    entry = workflow.dnc_entry(person.platform, person.external_id, person.handle)
    return {
        "history_cases": history.cases,
        "history_posts": [
            {"text": shown(p.text, 280), "posted_at": p.posted_at, "url": p.url}
            for p in history.posts
        ],
        "history_exchanges": [
            {
                "at": x.at,
                "ours": x.ours,
                "kind": x.kind,
                "text": shown(x.text, 500),
                "case_id": x.case_id,
                "state": x.state,
                "url": x.url,
            }
            for x in history.exchanges
        ],
        "history_opted_out": history.opted_out,
        "history_dnc": entry,
        "history_dnc_reason": shown(entry.reason, 200) if entry else "",
    }


class PersonWithHistoryAdmin(PersonAdmin):
    change_form_template = "admin/outreach/person/change_form.html"

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra = dict(extra_context or {})
        person = (
            Person.objects.filter(pk=int(object_id)).first() if str(object_id).isdigit() else None
        )
        if person is not None and self.has_view_or_change_permission(request, person):
            extra.update(history_context(person, queries.person_history(person.pk)))
        return super().change_view(request, object_id, form_url, extra_context=extra)


if admin.site.is_registered(Person):
    admin.site.unregister(Person)
admin.site.register(Person, PersonWithHistoryAdmin)
