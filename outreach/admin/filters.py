"""The queue's filters and its fair order, and the case history inline (its capped count is
monitoring.paging.CappedPaginator)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString

from outreach.admin.display import shown
from outreach.models import (
    CLOSED_STAGES,
    OPEN_STAGES,
    Case,
    CaseEvent,
    Stage,
)


class QueueFilter(admin.SimpleListFilter):
    """Open cases by default: the queue is the work still to do."""

    title = "queue"
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("closed", "Closed"), ("all", "All")]

    def choices(self, changelist: Any) -> Any:
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Open",
        }
        for value, label in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Case]) -> QuerySet[Case]:
        if self.value() == "all" or request.GET.get("stage__exact") or request.GET.get("amend"):
            return queryset
        if self.value() == "closed":
            return queryset.filter(stage__in=CLOSED_STAGES)
        return queryset.filter(stage__in=OPEN_STAGES)


class AssigneeFilter(admin.SimpleListFilter):
    """Me, nobody, or a member of staff: one small query on users, whatever the table size."""

    title = "assignee"
    parameter_name = "assignee"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        staff = get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username")
        return [("me", "Me"), ("none", "Nobody"), *((str(u.pk), u.get_username()) for u in staff)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Case]) -> QuerySet[Case]:
        value = self.value()
        if value == "me":
            return queryset.filter(assignee_id=request.user.pk)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        if value and value.isdigit():
            return queryset.filter(assignee_id=int(value))
        return queryset


class IncidentFilter(admin.SimpleListFilter):
    title = "incident"
    parameter_name = "incident"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Part of an incident"), ("no", "Isolated or not known")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Case]) -> QuerySet[Case]:
        value = self.value() or ""
        if value.isdigit():  # the cases of one incident (linked from its page)
            return queryset.filter(incident_id=int(value))
        if value == "yes":
            return queryset.filter(incident__isnull=False)
        if self.value() == "no":
            return queryset.filter(incident__isnull=True)
        return queryset


class AmendRequestFilter(admin.SimpleListFilter):
    """Own-brand requests to amend a post, written and waiting for a reviewer."""

    title = "request to amend"
    parameter_name = "amend"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("to_approve", "Awaiting approval")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Case]) -> QuerySet[Case]:
        if self.value() == "to_approve":
            return queryset.filter(
                stage=Stage.RESOLVED,
                drafts__is_first_reply=False,
                drafts__approved_at__isnull=True,
            )
        return queryset


class CaseEventInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CaseEvent
    fields = ("created_at", "action", "origin", "target", "actor", "shown_note")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["created_at", "id"]
    verbose_name_plural = "history"

    @admin.display(description="note")
    def shown_note(self, obj: CaseEvent) -> SafeString:
        return shown(obj.note)

    def get_queryset(self, request: HttpRequest) -> QuerySet[CaseEvent]:
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class FairChangeList(ChangeList):
    """Rule 12: the queue is always in due-time-then-severity order, whatever ``?o=`` says."""

    def get_ordering(self, request: HttpRequest, queryset: QuerySet[Any]) -> list[Any]:
        return ["due_at", "-severity", "id"]
