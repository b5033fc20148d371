"""The queue's filters and its fair order, and the case history inline (its capped count is
monitoring.paging.CappedPaginator)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.safestring import SafeString

from monitoring.listing import QuickChangeList
from outreach import dashboard
from outreach.admin.display import SOON, shown
from outreach.models import (
    CLOSED_STAGES,
    CONVERSATION_STAGES,
    OPEN_STAGES,
    PRE_REPLY_STAGES,
    Case,
    CaseEvent,
    OutboundAction,
    ReplyDraft,
    Stage,
)
from outreach.queries import awaiting_approval_by


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
                drafts__later=False,
                drafts__approved_at__isnull=True,
            )
        return queryset


class AnswerFilter(admin.SimpleListFilter):
    """Answers after engagement, written and waiting for a reviewer (not the one last sent)."""

    title = "answer in the conversation"
    parameter_name = "answer"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("to_approve", "Awaiting approval")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Case]) -> QuerySet[Case]:
        if self.value() == "to_approve":
            drafts = ReplyDraft.objects.filter(
                case_id=OuterRef("pk"), later=True, approved_at__isnull=True
            ).exclude(
                # The text already went out (or is queued): nothing new to approve.
                Exists(
                    OutboundAction.objects.filter(
                        draft_id=OuterRef("pk"), text=OuterRef("text")
                    ).exclude(state=OutboundAction.State.CANCELLED)
                )
            )
            return queryset.filter(stage__in=CONVERSATION_STAGES).filter(Exists(drafts))
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


class FairChangeList(QuickChangeList):
    """Rule 12: the queue is always in due-time-then-severity order, whatever ``?o=`` says."""

    def get_ordering(self, request: HttpRequest, queryset: QuerySet[Any]) -> list[Any]:
        return ["due_at", "-severity", "id"]


class ApprovalFilter(admin.SimpleListFilter):
    """ "Awaiting my approval": drafts submitted for approval that the user did not write (four
    eyes: the author cannot approve their own draft), for users who may approve."""

    title = "approval"
    parameter_name = "approval"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("mine", "Awaiting my approval")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Case]) -> QuerySet[Case]:
        if self.value() == "mine":
            return awaiting_approval_by(queryset, request.user)
        return queryset


class DueFilter(admin.SimpleListFilter):
    """Overdue, or due within the hour: the cases not yet answered that need it first."""

    title = "due"
    parameter_name = "due"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("overdue", "Overdue"), ("soon", "Due within an hour")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Case]) -> QuerySet[Case]:
        now = timezone.now()
        if self.value() == "overdue":
            return queryset.filter(stage__in=PRE_REPLY_STAGES, due_at__lt=now)
        if self.value() == "soon":
            return queryset.filter(
                stage__in=PRE_REPLY_STAGES, due_at__gte=now, due_at__lt=now + SOON
            )


class CohortFilter(admin.ListFilter):
    """The cases behind a dashboard figure (outreach/dashboard.py builds the links).

    ``opened_from``/``opened_to`` (days, inclusive), ``brands`` (ids), ``reached`` (a stage
    entered), ``then`` (a later stage entered: opted_out, no_response), ``ended`` (blocked
    or stopped) and ``due`` (overdue, soon: open cases past or within the hour of their
    due time). Shown in the sidebar only when set; bad values select nothing, not everything.
    """

    title = "dashboard figure"
    PARAMS = ("opened_from", "opened_to", "brands", "reached", "then", "ended", "due")

    def __init__(
        self, request: HttpRequest, params: dict[str, Any], model: Any, model_admin: Any
    ) -> None:
        super().__init__(request, params, model, model_admin)
        self.values: dict[str, str] = {}
        for name in self.PARAMS:
            if name in params:
                value = params.pop(name)
                self.values[name] = value[-1] if isinstance(value, list) else value

    def has_output(self) -> bool:
        return bool(self.values)  # shown (and applied) only when a dashboard link set it

    def choices(self, changelist: ChangeList) -> list[dict[str, Any]]:
        return [
            {
                "selected": True,
                "query_string": changelist.get_query_string(),
                "display": "The cases behind the figure",
            },
            {
                "selected": False,
                "query_string": changelist.get_query_string(remove=list(self.PARAMS)),
                "display": "All",
            },
        ]

    def expected_parameters(self) -> list[str]:
        return list(self.PARAMS)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Case]) -> QuerySet[Case]:
        v = self.values
        if not v:
            return queryset
        try:
            if "opened_from" in v or "opened_to" in v:
                period = dashboard.parse_period(
                    {"start": v.get("opened_from", ""), "end": v.get("opened_to", "")}
                )
                queryset = queryset.filter(opened_at__gte=period.since, opened_at__lt=period.until)
            if v.get("brands"):
                ids = [int(b) for b in v["brands"].split(",")]
                queryset = queryset.filter(brand_id__in=ids)
        except (ValueError, dashboard.PeriodError):
            return queryset.none()
        for name in ("reached", "then"):
            if name in v:
                if v[name] not in Stage.values:
                    return queryset.none()
                queryset = queryset.filter(dashboard.reached(v[name]))
        if "ended" in v:
            if v["ended"] not in ("blocked", "stopped"):
                return queryset.none()
            queryset = queryset.filter(dashboard.refused(v["ended"]))
        if "due" in v:
            now = timezone.now()
            open_cases = queryset.filter(stage__in=OPEN_STAGES)
            if v["due"] == "overdue":
                return open_cases.filter(due_at__lt=now)
            if v["due"] == "soon":
                return open_cases.filter(due_at__gte=now, due_at__lt=now + dashboard.SOON)
            return queryset.none()
        return queryset
