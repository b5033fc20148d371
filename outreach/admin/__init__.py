"""The review admin, where the marketing team works.

The queue is the Case changelist (due time, then severity; never reach). The
case page shows everything needed to research and decide, and one button per
move; every button and action calls ``outreach.workflow`` and reports what it
did or which rule refused it. Nothing here writes ``Case.stage``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.safestring import SafeString

from monitoring.models import Account, Person, Post
from monitoring.paging import CappedPaginator
from monitoring.platforms import PlatformError, get_platform
from monitoring.search import column_in, each_term
from outreach import queries, workflow
from outreach.admin import buttons, records  # noqa: F401  (records registers the other admins)
from outreach.admin.display import _findings, ask_reason, shown
from outreach.admin.filters import (
    AmendRequestFilter,
    AssigneeFilter,
    CaseEventInline,
    FairChangeList,
    IncidentFilter,
    QueueFilter,
)
from outreach.forms import (
    DismissSelectedForm,
    DraftForm,
    MoveForm,
    OpenCaseForm,
    ResearchForm,
)
from outreach.models import (
    OPEN_STAGES,
    Case,
    ReplyDraft,
    Stage,
    text_hash,
)
from outreach.workflow.refusals import try_each


def _text_context(prefix: str, draft: ReplyDraft | None) -> dict[str, Any]:
    """A draft's text as the case page shows it: escaped, its hash and its edit form."""
    text = draft.text if draft else ""
    return {
        prefix: draft,
        f"{prefix}_text": shown(text) if draft else "",
        f"{prefix}_hash": text_hash(text) if draft else "",
        f"{prefix}_form": DraftForm(initial={"text": text}),
    }


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
    # Exact: a case or incident id, or a handle (get_search_results: each by its index).
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

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Case], search_term: str
    ) -> tuple[QuerySet[Case], bool]:
        """A number is a case or incident id (integer lookups); any word is a handle,
        matched exactly but case-insensitively (the UPPER(handle) index)."""

        def condition(term: str) -> Q:
            handle = term.removeprefix("@")
            found = column_in(
                Case, "person_id", Person.objects.filter(handle__iexact=handle).values("pk")
            )
            if term.isdigit() and len(term) < 19:  # fits a bigint
                # The case, and the cases of the incident, with that id; found by their own
                # indexes before the queue's order applies (the planner would otherwise
                # walk the whole queue looking for an old incident's cases).
                number = int(term)
                by_id = Case.objects.filter(Q(pk=number) | Q(incident_id=number)).values("pk")
                found |= column_in(Case, "id", by_id)
            return found

        return each_term(queryset, search_term, condition)

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
        done, skipped = try_each(
            queryset.select_related("person", "post", "brand", "playbook"),
            lambda case: workflow.assign(case, request.user, actor=request.user),
            what="not assigned",
        )
        _report(request, "Assigned", done, skipped)

    @admin.action(description="Dismiss selected cases (asks for a reason)", permissions=["change"])
    def dismiss_selected(
        self, request: HttpRequest, queryset: QuerySet[Case]
    ) -> HttpResponse | None:
        form = DismissSelectedForm(request.POST if "reason" in request.POST else None)
        if not form.is_valid():
            return ask_reason(
                self,
                request,
                form=form,
                title="Dismiss cases",
                question="Dismiss these cases? Each keeps the reason in its history. "
                "Cases already closed are skipped.",
                rows=(
                    (c.pk, f"case {c.pk} · @{c.person.handle} · {c.get_stage_display()}")
                    for c in queryset.select_related("person")
                ),
                submit="Dismiss with this reason",
            )
        done, skipped = try_each(
            queryset.select_related("person", "post", "brand", "playbook"),
            lambda case: workflow.dismiss(
                case, actor=request.user, reason=form.cleaned_data["reason"]
            ),
            what="not dismissed",
        )
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
        can_change = self.has_change_permission(request, case)
        page = queries.case_page(case, can_change=can_change)
        research, draft, amend = page.research, page.draft, page.amend
        thread, thread_error = self._thread(case)
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
                for p in page.other_posts
            ],
            "similar_complaints": page.similar_complaints,
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
            **_text_context("draft", draft),
            "findings": _findings(draft),
            "amend_shown": page.amend_shown,
            **_text_context("amend", amend),
            "amend_findings": _findings(amend),
            "amend_editable": page.amend_editable,
            "amend_queued": page.amend_queued,
            "moves": buttons.available_moves(case, request.user) if can_change else [],
            "can_change": can_change,
            "research_editable": page.research_editable,
            "draft_editable": page.draft_editable,
            "actions": page.actions,
            "engagements": [
                {"kind": e.get_kind_display(), "text": shown(e.text, 280), "at": e.occurred_at}
                for e in page.engagements
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
        try:
            buttons.perform(
                name,
                case,
                request.user,
                note=note,
                text_hash=form.cleaned_data.get("text_hash", ""),
            )
        except KeyError:
            messages.error(request, f"Unknown move {name!r}.")
        except workflow.WorkflowError as exc:
            messages.error(request, str(exc))
        else:
            label = workflow.MOVES[name].label
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
