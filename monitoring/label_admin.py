"""Admin pages for the team's labels: the list (read-only) and the label queue.

The label queue (``queue/`` under the labels' list) shows the posts the active classifier is
least sure of (``monitoring/label_queue.py``), one at a time or as a list; a click or a key
(y: complaint, n: not a complaint, s: skip) labels one through ``monitoring.labels``.
Analysts and reviewers may label (``monitoring.add_label``, given by outreach 0020).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.views.decorators.http import require_POST

from monitoring import label_queue, labels
from monitoring.display import shown
from monitoring.models import Detection, Label
from monitoring.paging import HistoryPaginator

LABEL_PERMISSION = "monitoring.add_label"
# Skipped detections are remembered in the session, newest last, at most this many.
MAX_SKIPPED = 500
_SKIPPED = "nj_label_queue_skipped"
LIST_SIZE = 20
VERDICTS = {"y": True, "n": False}


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin[Label]):
    list_display = [
        "label_text",
        "complaint",
        "brand",
        "platform",
        "source",
        "labelled_by",
        "labelled_at",
    ]
    list_filter = ["source", "complaint", "brand"]
    list_select_related = ["brand", "labelled_by"]
    search_fields = ["text", "external_id"]
    raw_id_fields = ["post"]
    ordering = ["-labelled_at"]
    show_full_result_count = False
    paginator = HistoryPaginator
    change_list_template = "admin/monitoring/label/change_list.html"
    fields = (
        "label_text",
        "complaint",
        "brand",
        "platform",
        "source",
        "external_id",
        "post",
        "labelled_by",
        "labelled_at",
    )
    readonly_fields = fields

    @admin.display(description="Text")
    def label_text(self, obj: Label) -> SafeString:
        return shown(obj.text, 120)

    # Labels are written by monitoring/labels.py only (the queue, corrections, imports):
    # the admin shows them, and lets those who may delete one remove a wrong one.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {
            **(extra_context or {}),
            "can_label": request.user.has_perm(LABEL_PERMISSION),
            "queue_url": reverse("admin:monitoring_label_queue"),
        }
        return super().changelist_view(request, context)

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("queue/", wrap(self.queue_view), name="monitoring_label_queue"),
            path("queue/label/", wrap(self.label_view), name="monitoring_label_queue_label"),
            *super().get_urls(),
        ]

    def queue_view(self, request: HttpRequest) -> HttpResponse:
        """The posts the model is least sure of: one at a time, or ``?view=list``."""
        if not request.user.has_perm(LABEL_PERMISSION):
            raise PermissionDenied
        as_list = request.GET.get("view") == "list"
        skipped = request.session.get(_SKIPPED, [])
        candidates = label_queue.queue(LIST_SIZE if as_list else 1, skipped=skipped)
        figures = label_queue.progress(request.user)
        rows = [
            {
                "id": c.detection.pk,
                "text": shown(c.detection.post.text),
                "brand": c.detection.brand,
                "platform": c.detection.post.get_platform_display(),
                "score": f"{c.detection.score:.2f}",
                "threshold": f"{c.threshold:.2f}",
                "verdict": "complaint" if c.detection.complaint else "not a complaint",
            }
            for c in candidates
        ]
        return TemplateResponse(
            request,
            "admin/monitoring/label/queue.html",
            {
                **self.admin_site.each_context(request),
                "title": "Label queue",
                "opts": self.model._meta,
                "rows": rows,
                "as_list": as_list,
                "view": "list" if as_list else "one",
                "figures": figures,
                "disagreement_pct": (
                    None if figures.disagreement is None else round(100 * figures.disagreement)
                ),
                "skipped": len(skipped),
                "window": label_queue.ESTIMATE_WINDOW,
            },
        )

    def label_view(self, request: HttpRequest) -> HttpResponse:
        """Label one post of the queue (y / n) or skip it (s), then back to the queue."""
        if not request.user.has_perm(LABEL_PERMISSION):
            raise PermissionDenied
        return _label(request)


@require_POST
def _label(request: HttpRequest) -> HttpResponse:
    view = "list" if request.POST.get("view") == "list" else "one"
    back = HttpResponseRedirect(
        reverse("admin:monitoring_label_queue") + ("?" + urlencode({"view": view}))
    )
    verdict = str(request.POST.get("verdict", ""))
    try:
        detection_id = int(str(request.POST.get("detection", "")))
    except ValueError:
        messages.error(request, "No post was given to label.")
        return back
    if verdict == "s":
        skipped = [pk for pk in request.session.get(_SKIPPED, []) if pk != detection_id]
        request.session[_SKIPPED] = [*skipped, detection_id][-MAX_SKIPPED:]
        return back
    if verdict not in VERDICTS:
        messages.error(request, f"Not a verdict: {verdict[:20]!r} (y, n or s).")
        return back
    detection = Detection.objects.select_related("post", "brand").filter(pk=detection_id).first()
    if detection is None or not detection.post.text.strip():
        messages.error(request, f"Post #{detection_id} is gone (erased or purged).")
        return back
    labels.record(
        detection.post.text,
        VERDICTS[verdict],
        Label.Source.QUEUE,
        brand=detection.brand,
        platform=detection.post.platform,
        post=detection.post,
        user=request.user,
    )
    messages.success(
        request,
        f"Labelled post #{detection.post_id} "
        + ("a complaint." if VERDICTS[verdict] else "not a complaint."),
    )
    return back
