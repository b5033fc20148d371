"""The review admin, where the marketing team works.

The queue is the Case changelist (due time, then severity; never reach). The
case page shows everything needed to research and decide, and one button per
move; every button and action calls ``outreach.workflow`` and reports what it
did or which rule refused it. Nothing here writes ``Case.stage``.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString

from monitoring.models import Account, Post
from monitoring.platforms import PlatformError, get_platform
from outreach import queries, workflow
from outreach.forms import (
    DismissSelectedForm,
    DraftForm,
    MoveForm,
    OpenCaseForm,
    PlaybookForm,
    ResearchForm,
)
from outreach.models import (
    CLOSED_STAGES,
    OPEN_STAGES,
    Case,
    CaseEvent,
    DoNotContact,
    EngagementEvent,
    OutboundAction,
    Playbook,
    ReplyDraft,
    ResearchNote,
    Stage,
    text_hash,
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


class CappedPaginator(Paginator):
    """Counts at most ``CAP`` rows: the count stays cheap however long the history grows.
    Beyond the cap the queue shows the first CAP / per_page pages; filters narrow it."""

    CAP = 5_000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.CAP].count()  # type: ignore[attr-defined]


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


def _report(request: HttpRequest, verb: str, done: int, skipped: list[str]) -> None:
    """Tell the user what a bulk action did and what it skipped, and why."""
    if done:
        messages.success(request, f"{verb} {done} case{'s' if done != 1 else ''}.")
    if skipped:
        messages.warning(request, f"Skipped {len(skipped)}: " + "; ".join(skipped))
    if not done and not skipped:
        messages.info(request, "Nothing selected.")


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin[Case]):
    list_display = [
        "id",
        "due_at",
        "severity",
        "stage",
        "brand",
        "platform",
        "person_handle",
        "post_excerpt",
        "assignee",
        "kind",
    ]
    list_display_links = ["id", "post_excerpt"]
    list_filter = (
        QueueFilter,
        "stage",
        "brand",
        "platform",
        "kind",
        AssigneeFilter,
        IncidentFilter,
        AmendRequestFilter,
    )
    list_select_related = ["person", "post", "brand", "assignee"]
    search_fields = ["=id", "=person__handle", "=incident__id"]
    # Rule 12: due time then severity. The queue cannot be re-sorted by anything else.
    ordering = ["due_at", "-severity", "id"]
    sortable_by = ()
    show_full_result_count = False
    paginator = CappedPaginator
    list_per_page = 50
    inlines = [CaseEventInline]
    actions = ["assign_to_me", "dismiss_selected"]
    readonly_fields = (
        "stage",
        "kind",
        "platform",
        "brand",
        "person_handle",
        "playbook",
        "assignee",
        "due_at",
        "severity",
        "incident",
        "opened_at",
        "closed_at",
        "shown_dismiss_reason",
    )
    fields = readonly_fields
    change_form_template = "admin/outreach/case/change_form.html"
    change_list_template = "admin/outreach/case/change_list.html"

    @admin.display(description="person")
    def person_handle(self, obj: Case) -> SafeString:
        return shown("@" + obj.person.handle.lstrip("@"), 60)

    @admin.display(description="dismiss reason")
    def shown_dismiss_reason(self, obj: Case) -> SafeString:
        return shown(obj.dismiss_reason)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return FairChangeList

    @admin.display(description="post")
    def post_excerpt(self, obj: Case) -> SafeString:
        return shown(obj.post.text, 90)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("outreach.change_case")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # --- the queue -------------------------------------------------------------

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Open stages only: counting the closed history would scan the whole table on
        # every page view, and the queue is about the work still to do.
        counts = queries.open_stage_counts()
        base = reverse("admin:outreach_case_changelist")
        extra = {
            "stage_counts": [
                (
                    label,
                    counts.get(value),
                    f"{base}?{urlencode({'stage__exact': value})}",
                    value in OPEN_STAGES,
                )
                for value, label in Stage.choices
            ],
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=extra)

    @admin.action(description="Assign selected cases to me", permissions=["change"])
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet[Case]) -> None:
        done, skipped = 0, []
        for case in queryset.select_related("person", "post", "brand", "playbook"):
            try:
                workflow.assign(case, request.user, actor=request.user)
                done += 1
            except workflow.WorkflowError as exc:
                skipped.append(f"case {case.pk} ({exc})")
        _report(request, "Assigned", done, skipped)

    @admin.action(description="Dismiss selected cases (asks for a reason)", permissions=["change"])
    def dismiss_selected(
        self, request: HttpRequest, queryset: QuerySet[Case]
    ) -> HttpResponse | None:
        form = DismissSelectedForm(request.POST if "reason" in request.POST else None)
        if not form.is_valid():
            return TemplateResponse(
                request,
                "admin/outreach/case/dismiss_selected.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Dismiss cases",
                    "opts": self.model._meta,
                    "cases": queryset.select_related("person"),
                    "form": form,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        done, skipped = 0, []
        for case in queryset.select_related("person", "post", "brand", "playbook"):
            try:
                workflow.dismiss(case, actor=request.user, reason=form.cleaned_data["reason"])
                done += 1
            except workflow.WorkflowError as exc:
                skipped.append(f"case {case.pk} ({exc})")
        _report(request, "Dismissed", done, skipped)
        return None

    # --- the case page -----------------------------------------------------------

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/move/<str:name>/", wrap(self.move_view), name="outreach_case_move"),
            path("<int:pk>/research/", wrap(self.research_view), name="outreach_case_research"),
            path("<int:pk>/draft/", wrap(self.draft_view), name="outreach_case_draft"),
            path("<int:pk>/amend/", wrap(self.amend_view), name="outreach_case_amend"),
            *super().get_urls(),
        ]

    def _thread(self, case: Case) -> tuple[list[Any], str]:
        account = (
            Account.objects.filter(platform=case.platform, enabled=True).order_by("pk").first()
        )
        try:
            adapter = get_platform(case.platform, options=account.options if account else None)
            if not adapter.limits().can_thread:
                return [], f"{adapter.label} has no thread view."
            return adapter.thread(case.post.external_id), ""
        except PlatformError as exc:
            return [], str(exc)
        except ImportError as exc:  # an optional client library is not installed
            return [], f"the {case.platform} adapter is not available: {exc}"

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        case = get_object_or_404(
            Case.objects.select_related(
                "post", "person", "brand", "playbook", "assignee", "incident"
            ),
            pk=object_id,
        )
        if not self.has_view_or_change_permission(request, case):
            raise PermissionDenied
        if request.method == "POST":
            # The case page has no save: every change goes through a move's own URL.
            raise PermissionDenied
        research = ResearchNote.objects.filter(case=case).first()
        drafts = {
            d.is_first_reply: d
            for d in ReplyDraft.objects.filter(case=case).select_related(
                "author", "approved_by", "rejected_by"
            )
        }
        draft, amend = drafts.get(True), drafts.get(False)
        thread, thread_error = self._thread(case)
        can_change = self.has_change_permission(request, case)
        actions = list(OutboundAction.objects.filter(case=case).select_related("account"))
        amend_live = [
            a
            for a in actions
            if a.kind == OutboundAction.Kind.AMEND_REQUEST
            and a.state != OutboundAction.State.CANCELLED
        ]
        extra = {
            "case": case,
            "post_text": shown(case.post.text),
            "post_author": shown("@" + case.person.handle.lstrip("@")),
            "post_author_name": shown(case.person.display_name),
            "thread": [
                {
                    "author": shown("@" + p.author.handle.lstrip("@")),
                    "text": shown(p.text),
                    "posted_at": p.posted_at,
                    "is_case_post": p.external_id == case.post.external_id,
                }
                for p in thread
            ],
            "thread_error": thread_error,
            "other_posts": [
                {"text": shown(p.text, 280), "posted_at": p.posted_at, "url": p.url}
                for p in queries.author_other_posts(case)
            ],
            "similar_complaints": queries.similar_complaints(case),
            "similar_days": queries.SIMILAR_DAYS,
            "chatter_days": queries.CHATTER_DAYS,
            "research": research,
            "research_summary": shown(research.summary) if research else "",
            "research_problems": workflow.research_problems(research),
            "research_form": ResearchForm(
                initial={
                    "summary": research.summary,
                    "thread_checked": research.thread_checked,
                    "scope": research.scope,
                    "incident": research.incident_id or case.incident_id,
                }
                if research
                else {"incident": case.incident_id},
                brand_id=case.brand_id,
                current=case.incident_id,
            ),
            "draft": draft,
            "draft_text": shown(draft.text) if draft else "",
            "draft_hash": text_hash(draft.text) if draft else "",
            "draft_form": DraftForm(initial={"text": draft.text if draft else ""}),
            "findings": _findings(draft),
            # Own-brand, after resolution: one request to amend the post.
            "amend_shown": case.kind == Case.Kind.OWN_BRAND
            and (amend is not None or case.stage in (Stage.RESOLVED, Stage.AMEND_REQUESTED)),
            "amend": amend,
            "amend_text": shown(amend.text) if amend else "",
            "amend_hash": text_hash(amend.text) if amend else "",
            "amend_form": DraftForm(initial={"text": amend.text if amend else ""}),
            "amend_findings": _findings(amend),
            "amend_editable": can_change
            and case.stage == Stage.RESOLVED
            and not any(a.state != OutboundAction.State.PENDING for a in amend_live),
            "amend_queued": amend_live[0] if amend_live else None,
            "moves": workflow.available_moves(case, request.user) if can_change else [],
            "can_change": can_change,
            # The forms show only where the workflow would accept them.
            "research_editable": can_change and case.stage in (Stage.RESEARCHING, Stage.DRAFTING),
            "draft_editable": can_change
            and case.stage in (Stage.DRAFTING, Stage.AWAITING_APPROVAL, Stage.APPROVED),
            "actions": actions,
            "engagements": [
                {"kind": e.get_kind_display(), "text": shown(e.text, 280), "at": e.occurred_at}
                for e in EngagementEvent.objects.filter(case=case)
            ],
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete_link": False,
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> HttpResponse:
        # The case page has no save button: every change is a move.
        context.update(
            show_save=False, show_save_and_continue=False, show_save_and_add_another=False
        )
        return super().render_change_form(request, context, *args, **kwargs)

    def _case_for_post(self, request: HttpRequest, pk: int) -> Case:
        if request.method != "POST":
            raise PermissionDenied
        case = get_object_or_404(
            Case.objects.select_related("post", "person", "brand", "playbook"), pk=pk
        )
        if not self.has_change_permission(request, case):
            raise PermissionDenied
        return case

    def _back(self, case: Case) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:outreach_case_change", args=[case.pk]))

    def move_view(self, request: HttpRequest, pk: int, name: str) -> HttpResponse:
        case = self._case_for_post(request, pk)
        form = MoveForm(request.POST)
        form.is_valid()
        note = form.cleaned_data.get("note", "")
        user = request.user
        moves = {
            "claim": lambda: workflow.claim(case, actor=user),
            "submit_draft": lambda: workflow.submit_draft(case, actor=user),
            "approve_reply": lambda: workflow.approve_reply(
                case, actor=user, text_hash_seen=form.cleaned_data.get("text_hash", "")
            ),
            "reject_draft": lambda: workflow.reject_draft(case, actor=user, note=note),
            "request_follow": lambda: workflow.request_follow(case, actor=user),
            "resolve": lambda: workflow.resolve(case, actor=user, note=note),
            "approve_amend_request": lambda: workflow.approve_amend_request(
                case, actor=user, text_hash_seen=form.cleaned_data.get("text_hash", "")
            ),
            "dismiss": lambda: workflow.dismiss(case, actor=user, reason=note),
            "opt_out": lambda: workflow.opt_out(case, actor=user, reason=note),
            "mark_failed": lambda: workflow.mark_failed(case, actor=user, note=note),
        }
        move = moves.get(name)
        if move is None:
            messages.error(request, f"Unknown move {name!r}.")
            return self._back(case)
        try:
            move()
        except workflow.WorkflowError as exc:
            messages.error(request, str(exc))
        else:
            label = dict((b[0], b[1]) for b in workflow.BUTTONS).get(name, name)
            messages.success(request, f"Done: {label}. The case is now {case.get_stage_display()}.")
        return self._back(case)

    def research_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        case = self._case_for_post(request, pk)
        form = ResearchForm(request.POST, brand_id=case.brand_id, current=case.incident_id)
        if not form.is_valid():
            messages.error(request, f"Research not saved: {form.errors.as_text()}")
            return self._back(case)
        data = form.cleaned_data
        try:
            note = workflow.save_research(
                case,
                actor=request.user,
                summary=data["summary"],
                thread_checked=data["thread_checked"],
                scope=data["scope"],
                incident=data["incident"],
            )
        except workflow.WorkflowError as exc:
            messages.error(request, str(exc))
        else:
            problems = workflow.research_problems(note)
            if problems:
                messages.warning(request, "Research saved, still missing: " + "; ".join(problems))
            else:
                messages.success(request, "Research saved.")
        return self._back(case)

    def _save_text(
        self, request: HttpRequest, pk: int, what: str, save: Any, saved: str
    ) -> HttpResponse:
        """Save a draft through ``save(case, text)``; report its tone guard's blocking codes."""
        case = self._case_for_post(request, pk)
        form = DraftForm(request.POST)
        if not form.is_valid():
            messages.error(request, f"{what} not saved: {form.errors.as_text()}")
            return self._back(case)
        try:
            draft = save(case, form.cleaned_data["text"])
        except workflow.WorkflowError as exc:
            messages.error(request, str(exc))
        else:
            blocking = draft.blocking_codes
            if blocking:
                messages.warning(
                    request, f"{what} saved with blocking findings: " + ", ".join(blocking)
                )
            else:
                messages.success(request, saved)
        return self._back(case)

    def draft_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        def save(case: Case, text: str) -> ReplyDraft:
            draft = workflow.save_draft(case, actor=request.user, text=text)
            if "submit" in request.POST:
                workflow.submit_draft(case, actor=request.user)
            return draft

        return self._save_text(request, pk, "Draft", save, "Draft saved.")

    def amend_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        def save(case: Case, text: str) -> ReplyDraft:
            return workflow.save_amend_request(case, actor=request.user, text=text)

        saved = "Request saved; a reviewer approves it before it goes."
        return self._save_text(request, pk, "Request", save, saved)

    # --- opening a case by hand --------------------------------------------------

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = OpenCaseForm(request.POST or None, initial={"post_id": request.GET.get("post")})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                case = workflow.open_case(
                    data["post_id"],
                    data["brand"].pk,
                    data["kind"],
                    actor=request.user,
                    severity=data["severity"],
                    incident_id=data["incident"].pk if data["incident"] else None,
                )
            except workflow.WorkflowError as exc:
                messages.error(request, str(exc))
            except Post.DoesNotExist:
                form.add_error("post_id", "No post with this id.")
            else:
                messages.success(request, f"Opened case {case.pk}.")
                return self._back(case)
        return TemplateResponse(
            request,
            "admin/outreach/case/open_case.html",
            {
                **self.admin_site.each_context(request),
                "title": "Open a case from a post",
                "opts": self.model._meta,
                "form": form,
            },
        )


@admin.register(Playbook)
class PlaybookAdmin(admin.ModelAdmin[Playbook]):
    form = PlaybookForm
    list_display = ["name", "kind", "version", "is_active", "created_by", "created_at"]
    list_filter = ["kind", "is_active"]
    readonly_fields = [
        "version",
        "is_active",
        "previous",
        "change_note",
        "created_by",
        "created_at",
    ]
    list_select_related = ["created_by"]

    def has_change_permission(self, request: HttpRequest, obj: Playbook | None = None) -> bool:
        # Retired versions are history: read-only.
        if obj is not None and not obj.is_active:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: Playbook, form: ModelForm, change: bool
    ) -> None:
        values = {name: form.cleaned_data[name] for name in workflow.PLAYBOOK_EDITABLE_FIELDS}
        try:
            if change:
                new = workflow.edit_playbook(
                    obj.pk, actor=request.user, note=form.cleaned_data["edit_note"], changes=values
                )
            else:
                new = workflow.create_playbook(
                    actor=request.user, kind=form.cleaned_data["kind"], **values
                )
        except workflow.WorkflowError as exc:
            raise PermissionDenied(str(exc)) from exc
        # The admin goes on with the new version (its log entry and redirect point at it).
        obj.pk, obj.version, obj.is_active = new.pk, new.version, True
        messages.info(
            request, f"Saved as version {new.version}; cases keep the version they started under."
        )


@admin.register(DoNotContact)
class DoNotContactAdmin(admin.ModelAdmin[DoNotContact]):
    list_display = ["platform", "handle", "person_external_id", "reason", "added_by", "created_at"]
    list_filter = ["platform"]
    search_fields = ["=handle", "=person_external_id"]
    readonly_fields = ["added_by", "created_at"]
    list_select_related = ["added_by"]

    def save_model(
        self, request: HttpRequest, obj: DoNotContact, form: ModelForm, change: bool
    ) -> None:
        if not change:
            obj.added_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboundAction)
class OutboundActionAdmin(ReadOnlyAdmin):
    list_display = ["id", "case", "kind", "state", "account", "not_before", "attempts", "sent_at"]
    list_filter = ["state", "kind"]
    list_select_related = ["case", "case__person", "account"]
    raw_id_fields = ["case", "draft"]
    ordering = ["-id"]
    show_full_result_count = False


@admin.register(EngagementEvent)
class EngagementEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "case", "kind", "platform", "occurred_at"]
    list_filter = ["kind", "platform"]
    list_select_related = ["case", "case__person"]
    raw_id_fields = ["case"]
    ordering = ["-occurred_at"]
    show_full_result_count = False
