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
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import SafeString

from monitoring.listing import QuickRows
from monitoring.models import Account, Detection, Person, Post
from monitoring.paging import CappedPaginator
from monitoring.platforms import PlatformError, get_platform
from monitoring.search import column_in, each_term
from outreach import queries, workflow
from outreach.admin import (  # noqa: F401  (records and people register the other admins)
    buttons,
    people,
    records,
)
from outreach.admin.display import (
    _findings,
    ask_reason,
    due_cell,
    grouped_findings,
    in_words,
    post_cell,
    shown,
)
from outreach.admin.filters import (
    AmendRequestFilter,
    AnswerFilter,
    ApprovalFilter,
    AssigneeFilter,
    CaseEventInline,
    CohortFilter,
    DueFilter,
    FairChangeList,
    IncidentFilter,
    QueueFilter,
)
from outreach.admin.people import history_context
from outreach.forms import (
    DismissSelectedForm,
    DraftForm,
    MoveForm,
    OpenCaseForm,
    OpenFromDetectionsForm,
    ResearchForm,
)
from outreach.models import (
    OPEN_STAGES,
    Case,
    OutboundAction,
    PlaybookKind,
    ReplyDraft,
    Severity,
    Stage,
    text_hash,
)
from outreach.tone import CODES
from outreach.workflow.refusals import try_each

# Corrected detections opened in one go at most (the ids travel in the URL).
MAX_DETECTIONS_AT_ONCE = 100


def _text_context(prefix: str, draft: ReplyDraft | None) -> dict[str, Any]:
    """A draft's text as the case page shows it: escaped, its hash and its edit form."""
    text = draft.text if draft else ""
    return {
        prefix: draft,
        f"{prefix}_text": shown(text) if draft else "",
        f"{prefix}_hash": text_hash(text) if draft else "",
        f"{prefix}_form": DraftForm(initial={"text": text}),
    }


def _template_asked(request: HttpRequest, templates: list[str]) -> str:
    """The template ``?template=N`` asks for, or ""."""
    number = request.GET.get("template", "")
    if number.isdigit() and int(number) < len(templates):
        return templates[int(number)]
    return ""


def _starting_point(text: str, page: queries.CasePage) -> dict[str, Any]:
    """A chosen template in the form being written now: the answer, else the first reply."""
    if not text:
        return {}
    if page.answer_editable:
        return {"answer_form": DraftForm(initial={"text": text}), "template_in": "answer"}
    if page.draft_editable:
        return {"draft_form": DraftForm(initial={"text": text}), "template_in": "draft"}
    return {}


def _report(request: HttpRequest, verb: str, done: int, skipped: list[str]) -> None:
    """Tell the user what a bulk action did and what it skipped, and why."""
    if done:
        messages.success(request, f"{verb} {done} case{'s' if done != 1 else ''}.")
    if skipped:
        messages.warning(request, f"Skipped {len(skipped)}: " + "; ".join(skipped))
    if not done and not skipped:
        messages.info(request, "Nothing selected.")


@admin.register(Case)
class CaseAdmin(QuickRows, admin.ModelAdmin[Case]):
    # Few columns, the post wide: it fits a 1280-pixel window beside the filters. The post
    # cell carries the platform, the person and the brand; the due cell the severity (when not
    # normal) and an own-brand case's SLA.
    list_display = ["id", "due", "post_excerpt", "stage_in_words", "assignee"]
    list_display_links = ["id", "post_excerpt"]
    list_filter = (
        QueueFilter,
        ApprovalFilter,
        DueFilter,
        "stage",
        "brand",
        "platform",
        "kind",
        AssigneeFilter,
        IncidentFilter,
        AmendRequestFilter,
        "on_hold",
        CohortFilter,
        AnswerFilter,
    )
    list_select_related = ["person", "post", "brand", "assignee", "playbook"]
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
        return post_cell(obj)

    @admin.display(description="due")
    def due(self, obj: Case) -> SafeString:
        return due_cell(obj, timezone.now())

    @admin.display(description="stage")
    def stage_in_words(self, obj: Case) -> SafeString:
        return in_words(obj.get_stage_display(), obj.stage)

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
            # The stage bar: the open cases per stage, each a link to them.
            "stage_bar": [
                (label, counts[value], f"{base}?{urlencode({'stage__exact': value})}", value)
                for value, label in Stage.choices
                if value in OPEN_STAGES
            ],
            "closed_stages": [
                (label, f"{base}?{urlencode({'stage__exact': value})}", value)
                for value, label in Stage.choices
                if value not in OPEN_STAGES
            ],
            "my_cases_url": f"{base}?assignee=me",
            "my_approvals_url": f"{base}?approval=mine",
            "can_approve": request.user.has_perm(queries.APPROVE_PERMISSION),
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
            path(
                "from-detections/",
                wrap(self.from_detections_view),
                name="outreach_case_from_detections",
            ),
            path("<int:pk>/move/<str:name>/", wrap(self.move_view), name="outreach_case_move"),
            path("<int:pk>/research/", wrap(self.research_view), name="outreach_case_research"),
            path("<int:pk>/draft/", wrap(self.draft_view), name="outreach_case_draft"),
            path("<int:pk>/amend/", wrap(self.amend_view), name="outreach_case_amend"),
            path("<int:pk>/answer/", wrap(self.answer_view), name="outreach_case_answer"),
            path("<int:pk>/overrule/", wrap(self.overrule_view), name="outreach_case_overrule"),
            path(
                "<int:pk>/tone-check/", wrap(self.tone_check_view), name="outreach_case_tone_check"
            ),
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
        # The playbook's templates, offered as starting points: ?template=N puts one in
        # the form being written (the tone guard warns if it is sent unchanged).
        templates = [str(t) for t in case.playbook.reply_templates or () if str(t).strip()]
        start = _template_asked(request, templates)
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
            **_text_context("answer", page.answer),
            **_starting_point(start, page),
            "findings": _findings(draft),
            "sender": workflow.sending_account(case),
            "overrules": list(case.overrules.select_related("actor").order_by("created_at")),
            "overrulable": _overrulable(draft)
            if request.user.has_perm(queries.APPROVE_PERMISSION)
            else [],
            "answer_findings": _findings(page.answer),
            "answer_shown": page.answer_shown,
            "answer_editable": page.answer_editable,
            "answer_queued": page.answer_queued,
            "private_consent": workflow.private_consent(case.pk),
            "guidance": shown(case.playbook.guidance),
            "templates": [{"number": i, "text": shown(t)} for i, t in enumerate(templates)],
            **history_context(case.person, page.history),
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
            # When each queued send will go and why not sooner: the dispatcher's own checks.
            "forecasts": [
                {"action": a, "forecast": workflow.send_forecast(a)}
                for a in page.actions
                if a.state == OutboundAction.State.PENDING
            ],
            "holding": list(case.holding.values_list("pk", flat=True)),
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
            blocking = list(dict.fromkeys(draft.blocking_codes))
            if blocking:
                messages.warning(
                    request,
                    f"{what} saved with blocking findings: "
                    + "; ".join(f"{CODES.get(c, c)} ({c})" for c in blocking),
                )
            else:
                messages.success(request, saved)
        return self._back(case)

    def tone_check_view(self, request: HttpRequest, pk: int) -> JsonResponse:
        """The live tone guard: the same check as a save, on the text being typed, saved nowhere.

        POST ``text`` (and ``reply=amend`` for a request to amend); the answer is JSON, the
        findings once per code with every span. The save stays the authority: it runs the
        check again. Refusals are JSON too, with a 4xx status and an ``error`` in words."""
        if request.method != "POST":
            return JsonResponse({"error": "POST the text to check."}, status=405)
        case = (
            Case.objects.select_related("post", "person", "brand", "playbook").filter(pk=pk).first()
        )
        if case is None:
            return JsonResponse({"error": f"There is no case {pk}."}, status=404)
        if not self.has_change_permission(request, case):
            return JsonResponse({"error": "You may not edit this case."}, status=403)
        text = request.POST.get("text", "")
        if not text.strip():
            return JsonResponse({"error": "Nothing to check: the text is empty."}, status=400)
        if len(text) > workflow.MAX_DRAFT_CHARS:
            return JsonResponse(
                {"error": f"The text is longer than {workflow.MAX_DRAFT_CHARS} characters."},
                status=413,
            )
        reply = request.POST.get("reply", "first")
        if reply not in ("first", "amend"):
            return JsonResponse({"error": "reply must be 'first' or 'amend'."}, status=400)
        try:
            findings = workflow.tone_findings(case, text, first_reply=reply == "first")
        except workflow.WorkflowError as exc:
            return JsonResponse({"error": str(exc)}, status=409)
        grouped = grouped_findings(text, findings)
        return JsonResponse(
            {"findings": grouped, "blocking": sum(1 for g in grouped if g["blocking"])}
        )

    def draft_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        def save(case: Case, text: str) -> ReplyDraft:
            draft = workflow.save_draft(case, actor=request.user, text=text)
            if "submit" in request.POST:
                workflow.submit_draft(case, actor=request.user)
            return draft

        return self._save_text(request, pk, "Draft", save, "Draft saved.")

    def answer_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        def save(case: Case, text: str) -> ReplyDraft:
            return workflow.save_later_reply(case, actor=request.user, text=text)

        saved = "Answer saved; a reviewer approves it before it goes."
        return self._save_text(request, pk, "Answer", save, saved)

    def overrule_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """A reviewer overrules one of the draft's findings with a reason (the workflow
        decides which findings may be overruled: never a firm or blocking pattern one)."""
        case = self._case_for_post(request, pk)
        code, _, source = str(request.POST.get("finding", "")).partition(":")
        try:
            workflow.overrule_finding(
                case,
                actor=request.user,
                draft=int(request.POST.get("draft", 0) or 0),
                code=code,
                source=source or "pattern",
                reason=str(request.POST.get("reason", "")),
            )
        except workflow.WorkflowError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{CODES.get(code, code)} ({code}) overruled.")
        return self._back(case)

    def amend_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        def save(case: Case, text: str) -> ReplyDraft:
            return workflow.save_amend_request(case, actor=request.user, text=text)

        saved = "Request saved; a reviewer approves it before it goes."
        return self._save_text(request, pk, "Request", save, saved)

    # --- opening a case by hand --------------------------------------------------

    def _post_preview(self, raw: Any) -> dict[str, Any] | None:
        """The post a case would be opened for, as the form shows it (escaped); None if the
        id is not a post's."""
        try:
            pk = int(raw)
        except (TypeError, ValueError):
            return None
        post = Post.objects.select_related("author").filter(pk=pk).first()
        if post is None:
            return None
        detection = Detection.objects.select_related("brand").filter(post=post).first()
        return {
            "post": post,
            "text": shown(post.text),
            "author": shown("@" + post.author.handle.lstrip("@")),
            "brand": detection.brand if detection else None,
        }

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        preview = self._post_preview(request.POST.get("post_id") or request.GET.get("post"))
        initial = {"post_id": request.GET.get("post")}
        if preview and preview["brand"] is not None:
            initial["brand"] = preview["brand"].pk
        form = OpenCaseForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                case = workflow.open_case(
                    data["post_id"],
                    data["brand"].pk,
                    workflow.kind_for_brand(data["brand"]),
                    actor=request.user,
                    severity=data["severity"],
                    incident_id=data["incident"].pk if data["incident"] else None,
                )
            except workflow.WorkflowError as exc:
                messages.error(request, str(exc))
            except Post.DoesNotExist:
                form.add_error("post_id", "No post with this id.")
            else:
                messages.success(
                    request, f"Opened {case.get_kind_display().lower()} case {case.pk}."
                )
                return self._back(case)
        return TemplateResponse(
            request,
            "admin/outreach/case/open_case.html",
            {
                **self.admin_site.each_context(request),
                "title": "Open a case from a post",
                "opts": self.model._meta,
                "form": form,
                "preview": preview,
            },
        )

    # --- opening cases for corrected detections ------------------------------------

    def from_detections_view(self, request: HttpRequest) -> HttpResponse:
        """The detection admin's "this is a complaint" lands here: open their cases in one
        step, through the workflow; each refusal is said, none is a server error."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        raw = (
            request.POST.get("ids", "") if request.method == "POST" else request.GET.get("ids", "")
        )
        ids: list[int] = []
        for part in str(raw).split(",")[:MAX_DETECTIONS_AT_ONCE]:
            try:
                ids.append(int(part))
            except ValueError:
                messages.error(request, f"Not a detection id: {part.strip()[:40]!r}.")
        if request.method == "POST":
            form = OpenFromDetectionsForm(request.POST)
            severity = form.cleaned_data["severity"] if form.is_valid() else Severity.NORMAL
            opened: list[Case] = []
            refused: list[str] = []
            for pk in dict.fromkeys(ids):
                try:
                    opened.append(
                        workflow.open_for_detection(pk, actor=request.user, severity=severity)
                    )
                except workflow.WorkflowError as exc:
                    refused.append(f"detection #{pk}: {exc}")
            if opened:
                messages.success(
                    request, "Opened " + ", ".join(f"case {c.pk}" for c in opened) + "."
                )
            if refused:
                messages.warning(request, "No case for " + "; ".join(refused))
            if len(opened) == 1:
                return self._back(opened[0])
            if opened:
                return HttpResponseRedirect(reverse("admin:outreach_case_changelist"))
            return HttpResponseRedirect(reverse("admin:monitoring_detection_changelist"))
        found = {
            d.pk: d
            for d in Detection.objects.filter(pk__in=ids).select_related("post__author", "brand")
        }
        rows: list[dict[str, Any]] = []
        for pk in dict.fromkeys(ids):
            detection = found.get(pk)
            if detection is None:
                messages.error(request, f"There is no detection #{pk}.")
                continue
            brand = detection.brand
            rows.append(
                {
                    "detection": detection,
                    "text": shown(detection.post.text),
                    "author": shown("@" + detection.post.author.handle.lstrip("@")),
                    "brand": brand,
                    "kind": PlaybookKind(workflow.kind_for_brand(brand)).label if brand else "",
                    "complaint": workflow.is_complaint(detection),
                }
            )
        return TemplateResponse(
            request,
            "admin/outreach/case/from_detections.html",
            {
                **self.admin_site.each_context(request),
                "title": "Open cases for these complaints",
                "opts": self.model._meta,
                "rows": rows,
                "form": OpenFromDetectionsForm(
                    initial={"ids": ",".join(str(r["detection"].pk) for r in rows)}
                ),
                "openable": any(r["complaint"] and r["brand"] for r in rows),
            },
        )


def _overrulable(draft: ReplyDraft | None) -> list[dict[str, str]]:
    """The draft's findings a reviewer may overrule, once per (code, source)."""
    if draft is None:
        return []
    seen: dict[str, dict[str, str]] = {}
    for f in draft.tone_findings:
        source = workflow.finding_source(f)
        if not workflow.overrule_refusal(f):
            key = f"{f['code']}:{source}"
            seen.setdefault(
                key,
                {
                    "value": key,
                    "label": f"{CODES.get(f['code'], f['code'])} ({f['code']}, {source})",
                },
            )
    return list(seen.values())
