"""Admin pages for listening: brands, sources, people, posts and the sandbox network.

Our accounts' page is in ``account_admin``, the team labels' and the label queue in
``label_admin`` (both imported here, so the admin finds them).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString

from monitoring import (
    account_admin,  # noqa: F401 (registers AccountAdmin)
    incidents,
    label_admin,  # noqa: F401 (registers LabelAdmin and the label queue)
    labels,
    versions,
)
from monitoring.credentials import CredentialsError
from monitoring.display import mark_title, platform_link, shown
from monitoring.forms import WriteOnlyTextarea, parse_credentials, store_credentials
from monitoring.listing import QuickRows
from monitoring.models import (
    Brand,
    ClassifierVersion,
    Detection,
    Incident,
    Label,
    Person,
    Post,
    SandboxFollow,
    SandboxNotification,
    SandboxPersona,
    SandboxPost,
    Source,
)
from monitoring.paging import HistoryPaginator, capped_label
from monitoring.platforms import PlatformError, check_options, get_platform
from monitoring.search import column_in, each_term, external_id_is


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin[Brand]):
    list_display = ["name", "kind", "aliases", "products", "complaint_threshold"]
    list_filter = ["kind"]
    search_fields = ["name"]
    readonly_fields = ["complaint_threshold"]

    @admin.display(description="Complaint threshold")
    def complaint_threshold(self, obj: Brand) -> str:
        """The brand's threshold, chosen on the team's labels for it when the active version
        was trained (monitoring/versions.py); else the model's."""
        if obj.threshold is None:
            return "0.500 (the model's; too few team labels for this brand)"
        return f"{obj.threshold:.3f} (chosen on the team's labels for this brand)"


class SourceForm(forms.ModelForm):  # type: ignore[type-arg]
    credentials = forms.CharField(
        required=False,
        widget=WriteOnlyTextarea(attrs={"rows": 2, "cols": 60, "autocomplete": "off"}),
        help_text="Write-only, for read-only platforms that need a key of their own (an X "
        "bearer token, a Reddit app): a JSON object or key=value lines. Leave blank to keep "
        "what is stored. Encrypted, never shown again. Sources that search as an account "
        "use the account's credentials.",
    )
    clear_credentials = forms.BooleanField(required=False, label="Remove stored credentials")

    class Meta:
        model = Source
        fields = [
            "name",
            "platform",
            "brand",
            "enabled",
            "account",
            "terms",
            "exclusions",
            "language",
            "options",
            "cadence_seconds",
            "next_poll_at",
        ]

    def clean_credentials(self) -> dict[str, str]:
        return parse_credentials(self.cleaned_data.get("credentials") or "")

    def clean(self) -> dict[str, Any]:
        """A bad option is a form error here, not a poll that fails later."""
        data = super().clean() or {}
        platform, account = data.get("platform"), data.get("account")
        if platform and isinstance(data.get("options"), dict):
            # The account's options count too (Mastodon's instance URL is usually there).
            inherited = (account.options or {}) if account else {}
            try:
                check_options(platform, {**inherited, **data["options"]})
            except PlatformError as exc:
                self.add_error("options", str(exc))
        return data


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin[Source]):
    form = SourceForm
    autocomplete_fields = ["account"]
    list_display = [
        "name",
        "platform",
        "brand",
        "enabled",
        "status",
        "next_poll_at",
        "last_success_at",
        "posts_ingested",
    ]
    list_filter = ["platform", "enabled", "brand"]
    list_select_related = ["brand"]
    search_fields = ["name"]
    readonly_fields = [
        "credentials_stored",
        "cursor",
        "failure_count",
        "last_polled_at",
        "last_success_at",
        "last_error",
        "last_error_at",
        "disabled_reason",
        "failing_since",
        "alerted_at",
        "raw_answer",
        "posts_ingested",
        "created_at",
    ]
    fieldsets = [
        (None, {"fields": ["name", "platform", "brand", "enabled"]}),
        (
            "Access",
            {"fields": ["account", "credentials_stored", "credentials", "clear_credentials"]},
        ),
        ("Query", {"fields": ["terms", "exclusions", "language", "options"]}),
        ("Schedule", {"fields": ["cadence_seconds", "next_poll_at"]}),
        (
            "State",
            {
                "fields": [
                    "cursor",
                    "posts_ingested",
                    "last_polled_at",
                    "last_success_at",
                    "failure_count",
                    "last_error",
                    "last_error_at",
                    "disabled_reason",
                    "failing_since",
                    "alerted_at",
                    "raw_answer",
                ]
            },
        ),
    ]
    actions = ["poll_now", "enable_sources", "test_connection"]

    @admin.display(description="Last unreadable answer")
    def raw_answer(self, obj: Source) -> str:
        """What the platform sent when it could not be read: escaped, never rendered."""
        if not obj.last_raw_answer:
            return "-"
        # format_html escapes it: a hostile page shows as text, never as markup.
        return format_html(
            '<pre style="white-space:pre-wrap;max-height:20em;overflow:auto">{}</pre>',
            obj.last_raw_answer,
        )

    @admin.display(description="Credentials stored", boolean=True)
    def credentials_stored(self, obj: Source) -> bool:
        return bool(obj.credentials_encrypted)

    def save_model(self, request: HttpRequest, obj: Source, form: Any, change: bool) -> None:
        store_credentials(obj, form.cleaned_data)
        super().save_model(request, obj, form, change)

    @admin.display(description="Status")
    def status(self, obj: Source) -> str:
        if not obj.enabled:
            return format_html(
                '<span style="color:#ba2121" title="{}">disabled</span>',
                obj.disabled_reason or "turned off",
            )
        if obj.failure_count:
            return format_html(
                '<span style="color:#b36b00" title="{}">backing off ({} failures)</span>',
                obj.last_error,
                obj.failure_count,
            )
        return "ok"

    @admin.action(description="Poll now", permissions=["change"])
    def poll_now(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        from config.queueing import QueueUnavailable, enqueue
        from monitoring.tasks import poll_source

        queued, skipped = 0, []
        for source in queryset:
            if not source.enabled:
                skipped.append(f"{source.name} (disabled)")
                continue
            try:
                enqueue(poll_source, source.pk)
            except QueueUnavailable as exc:
                # Stop at the first failure: each try waits out the broker's timeout.
                self.message_user(
                    request, f"{exc} Polls queued before it failed: {queued}.", messages.ERROR
                )
                return
            queued += 1
        self.message_user(request, f"Queued a poll for {queued} source(s).")
        if skipped:
            self.message_user(request, "Skipped: " + ", ".join(skipped), level=messages.WARNING)

    @admin.action(description="Enable and clear errors", permissions=["change"])
    def enable_sources(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        count = queryset.update(
            enabled=True,
            disabled_reason="",
            failure_count=0,
            last_error="",
            failing_since=None,
            alerted_at=None,  # a new episode gets its own alert
            next_poll_at=timezone.now(),
        )
        self.message_user(request, f"Enabled {count} source(s).")

    @admin.action(description="Test connection", permissions=["change"])
    def test_connection(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        for source in queryset:
            try:
                credentials, options = source.adapter_settings()
                found = get_platform(
                    source.platform, credentials=credentials, options=options
                ).check()
            except (PlatformError, CredentialsError) as exc:
                self.message_user(request, f"{source.name}: {exc}", level=messages.ERROR)
            else:
                self.message_user(request, f"{source.name}: {found}")


class TopicFilter(admin.SimpleListFilter):
    """The classifier's topics: a fixed list, not a DISTINCT over every detection."""

    title = "topic"
    parameter_name = "topic"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        from monitoring.classifier import TOPICS  # loads the model's libraries; only here

        return [(topic, topic) for topic in TOPICS]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(topic=self.value()) if self.value() else queryset


class ModelVersionFilter(admin.SimpleListFilter):
    """Classifier versions from their own small table, not a DISTINCT over detections."""

    title = "model version"
    parameter_name = "model_version"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        versions = ClassifierVersion.objects.order_by("-created_at").values_list(
            "version", flat=True
        )
        return [(v, v) for v in versions]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(model_version=self.value()) if self.value() else queryset


def handle_matches(term: str) -> QuerySet[Person]:
    """People whose handle contains ``term`` (a trigram index on PostgreSQL)."""
    return Person.objects.filter(handle__icontains=term).values("pk")


@admin.register(Person)
class PersonAdmin(QuickRows, admin.ModelAdmin[Person]):
    """People as their platform describes them: every field is theirs, shown marked, not edited."""

    list_display = ["shown_handle", "shown_display_name", "platform", "first_seen_at"]
    list_filter = ["platform"]
    search_fields = ["handle", "display_name", "external_id"]
    # The platform writes these on every ingest; shown with bidi controls marked.
    fields = [
        "platform",
        "external_id",
        "shown_handle",
        "shown_display_name",
        "profile_link",
        "first_seen_at",
    ]
    readonly_fields = fields
    show_full_result_count = False
    paginator = HistoryPaginator

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Person], search_term: str
    ) -> tuple[QuerySet[Person], bool]:
        """Handle or name containing the word (trigram indexes), or an exact external id."""
        return each_term(
            queryset,
            search_term,
            lambda term: (
                Q(handle__icontains=term) | Q(display_name__icontains=term) | external_id_is(term)
            ),
        )

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        mark_title(context, kwargs.get("obj"))
        return super().render_change_form(request, context, *args, **kwargs)

    @admin.display(description="handle", ordering="handle")
    def shown_handle(self, obj: Person) -> SafeString:
        return shown(obj.handle)

    @admin.display(description="display name", ordering="display_name")
    def shown_display_name(self, obj: Person) -> SafeString:
        return shown(obj.display_name)

    @admin.display(description="profile")
    def profile_link(self, obj: Person) -> SafeString:
        return platform_link(obj.profile_url)


@admin.register(Post)
class PostAdmin(QuickRows, admin.ModelAdmin[Post]):
    list_display = ["short_text", "shown_author", "platform", "posted_at", "source", "open_case"]
    list_filter = ["platform", "source"]
    list_select_related = ["author", "source"]
    search_fields = ["text", "external_id", "author__handle"]
    raw_id_fields = ["author", "source"]
    ordering = ["-posted_at"]
    show_full_result_count = False
    paginator = HistoryPaginator
    # All from the platform, none edited here; text and link shown through the safe helpers.
    fields = [
        "platform",
        "external_id",
        "shown_author",
        "source",
        "shown_text",
        "post_link",
        "lang",
        "posted_at",
        "in_reply_to",
        "raw",
        "fetched_at",
    ]
    readonly_fields = fields

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Post], search_term: str
    ) -> tuple[QuerySet[Post], bool]:
        """Text or author's handle containing the word, or an exact external id: each a
        condition on the post's own row, so the indexes combine (monitoring/search.py)."""
        return each_term(
            queryset,
            search_term,
            lambda term: (
                Q(text__icontains=term)
                | column_in(Post, "author_id", handle_matches(term))
                | external_id_is(term)
            ),
        )

    @admin.display(description="Text")
    def short_text(self, obj: Post) -> SafeString:
        # Post text is hostile input: escaped, bidi controls marked.
        return shown(obj.text, 120)

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        mark_title(context, kwargs.get("obj"))
        return super().render_change_form(request, context, *args, **kwargs)

    @admin.display(description="author")
    def shown_author(self, obj: Post) -> SafeString:
        url = reverse("admin:monitoring_person_change", args=[obj.author_id])
        return format_html('<a href="{}">{}</a>', url, shown(obj.author.handle))

    @admin.display(description="text")
    def shown_text(self, obj: Post) -> SafeString:
        return shown(obj.text)

    @admin.display(description="url")
    def post_link(self, obj: Post) -> SafeString:
        return platform_link(obj.url)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="")
    def open_case(self, obj: Post) -> str:
        """A link to open a case by hand (triage opens most of them on its own)."""
        url = reverse("admin:outreach_case_add") + f"?post={obj.pk}"
        return format_html('<a href="{}">Open case</a>', url)


class SandboxAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Shared settings for the simulated network's tables."""

    def changelist_view(self, request, extra_context=None):  # type: ignore[no-untyped-def]
        extra_context = {
            **(extra_context or {}),
            "title": f"Sandbox (simulated network): {self.model._meta.verbose_name_plural}",
        }
        return super().changelist_view(request, extra_context)


@admin.register(SandboxPost)
class SandboxPostAdmin(SandboxAdmin):
    list_display = ["pk", "author_handle", "text", "published_at", "reply_to"]
    search_fields = ["text", "author_handle"]
    raw_id_fields = ["reply_to"]
    ordering = ["-published_at"]
    show_full_result_count = False


@admin.register(SandboxPersona)
class SandboxPersonaAdmin(SandboxAdmin):
    list_display = ["handle", "name", "persona"]
    list_filter = ["persona"]
    search_fields = ["handle"]


@admin.register(SandboxNotification)
class SandboxNotificationAdmin(SandboxAdmin):
    list_display = ["kind", "person_handle", "account_handle", "visible_at"]
    list_filter = ["kind"]
    raw_id_fields = ["subject", "post"]


@admin.register(SandboxFollow)
class SandboxFollowAdmin(SandboxAdmin):
    list_display = ["follower_handle", "followed_id", "created_at"]


@admin.register(Detection)
class DetectionAdmin(QuickRows, admin.ModelAdmin[Detection]):
    list_display = [
        "post_text",
        "brand",
        "complaint",
        "score_display",
        "topic",
        "language",
        "triage",
        "correction",
        "posted_at",
    ]
    list_filter = [
        "triage",
        "complaint",
        "correction",
        "brand",
        TopicFilter,
        ModelVersionFilter,
    ]
    list_select_related = ["post", "brand"]
    search_fields = ["post__text", "post__author__handle"]
    raw_id_fields = ["post", "incident"]
    ordering = ["-posted_at"]
    show_full_result_count = False
    paginator = HistoryPaginator
    readonly_fields = [
        "post",
        "brands",
        "brand",
        "posted_at",
        "complaint",
        "score",
        "sentiment",
        "topic",
        "model_version",
        "language",
        "incident",
        "triage",
        "triage_note",
        "correction",
        "corrected_by",
        "corrected_at",
        "created_at",
    ]
    actions = ["mark_complaint", "mark_not_complaint", "mark_wrong_brand"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Detection]:
        # The list shows the post's text, never the payload it came in (a kilobyte or more of
        # JSON a row). The related rows are selected here because the changelist adds
        # list_select_related only to a queryset that selects none.
        related = super().get_queryset(request).select_related(*self.list_select_related)
        return related.defer("post__raw")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Detection], search_term: str
    ) -> tuple[QuerySet[Detection], bool]:
        """The post's text or its author's handle containing the word, both as conditions
        on the post row (monitoring/search.py)."""
        return each_term(
            queryset,
            search_term,
            lambda term: (
                Q(post__text__icontains=term) | column_in(Post, "author_id", handle_matches(term))
            ),
        )

    @admin.display(description="Post")
    def post_text(self, obj: Detection) -> SafeString:
        return shown(obj.post.text, 100)

    @admin.display(description="Score", ordering="score")
    def score_display(self, obj: Detection) -> str:
        return f"{obj.score:.2f}"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def _correct(self, request: HttpRequest, queryset: QuerySet[Detection], label: str) -> None:
        # Corrections are training labels for the next classifier version (stored as team
        # labels too); the verdict itself stays as the model gave it, so evaluation stays honest.
        count = labels.record_corrections(queryset, label, request.user)
        self.message_user(
            request,
            f"Marked {count} post(s) as “{Detection.Correction(label).label}”. "
            "They will be used the next time the classifier is trained.",
        )

    @admin.action(description="Correct: this is a complaint", permissions=["change"])
    def mark_complaint(
        self, request: HttpRequest, queryset: QuerySet[Detection]
    ) -> HttpResponseRedirect | None:
        ids = list(queryset.values_list("pk", flat=True))
        self._correct(request, queryset, Detection.Correction.COMPLAINT)
        # A complaint deserves an answer, not only a training label: offer to open the
        # cases in one step, on outreach's page (the workflow and its rules live there).
        if not ids or not request.user.has_perm("outreach.change_case"):
            return None
        url = reverse("admin:outreach_case_from_detections")
        return HttpResponseRedirect(f"{url}?{urlencode({'ids': ','.join(map(str, ids))})}")

    @admin.action(description="Correct: not a complaint", permissions=["change"])
    def mark_not_complaint(self, request: HttpRequest, queryset: QuerySet[Detection]) -> None:
        self._correct(request, queryset, Detection.Correction.NOT_COMPLAINT)

    @admin.action(description="Correct: wrong brand", permissions=["change"])
    def mark_wrong_brand(self, request: HttpRequest, queryset: QuerySet[Detection]) -> None:
        self._correct(request, queryset, Detection.Correction.WRONG_BRAND)


@admin.register(Incident)
class IncidentAdmin(QuickRows, admin.ModelAdmin[Incident]):
    list_display = [
        "__str__",
        "state",
        "volume",
        "peak_per_hour",
        "spike",
        "first_seen_at",
        "last_seen_at",
    ]
    list_filter = ["state", "spike", "brand", TopicFilter]
    list_select_related = ["brand"]
    show_full_result_count = False
    paginator = HistoryPaginator
    readonly_fields = [
        "brand",
        "topic",
        "state",
        "volume",
        "peak_per_hour",
        "baseline_per_hour",
        "spike",
        "first_seen_at",
        "last_seen_at",
        "alerted_state",
        "volume_chart",
        "cases",
        "latest_detections",
    ]
    fields = readonly_fields
    LATEST = 20  # detections shown on the page; the rest are one link away
    CHART_BARS = 96  # the volume chart's widest: four days of hours
    CLOSED_SHOWN = 1_000  # closed cases counted on the page; past that "1,000+"

    @admin.display(description="Cases")
    def cases(self, obj: Incident) -> SafeString:
        """The incident's open cases per stage and its closed ones (counted up to
        CLOSED_SHOWN), linked to the queue: a bounded count however big the incident grew
        (the open ones through the partial index of open cases per incident; a case is
        open exactly while it has no ``closed_at``, a rule the database checks)."""
        rows = (
            obj.cases.filter(closed_at__isnull=True)
            .values("stage")
            .annotate(n=Count("id"))
            .order_by("stage")
        )
        parts = [f"{r['n']} {r['stage'].replace('_', ' ')}" for r in rows]
        closed = obj.cases.filter(closed_at__isnull=False)[: self.CLOSED_SHOWN].count()
        if not parts and not closed:
            return format_html("{}", "No case in this incident.")
        if closed:
            parts.append(f"{capped_label(closed, self.CLOSED_SHOWN)} closed")
        url = reverse("admin:outreach_case_changelist") + f"?incident={obj.pk}&queue=all"
        return format_html('{} · <a href="{}">open them in the queue</a>', ", ".join(parts), url)

    @admin.display(description="Latest complaints")
    def latest_detections(self, obj: Incident) -> SafeString:
        """The newest LATEST detections, and a link to all of them in the detection list."""
        rows = (
            obj.detections.select_related("post")
            .order_by("-posted_at", "-pk")
            .only("pk", "incident", "posted_at", "score", "triage", "post__text")[: self.LATEST]
        )
        items = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:monitoring_detection_change", args=[d.pk]),
                    d.posted_at.strftime("%Y-%m-%d %H:%M"),
                    f"{d.score:.2f}",
                    d.get_triage_display(),
                    shown(d.post.text, 120),
                )
                for d in rows
            ),
        )
        if not items:
            return format_html("{}", "No complaint in this incident.")
        url = reverse("admin:monitoring_detection_changelist") + f"?incident__exact={obj.pk}"
        return format_html(
            "<table><thead><tr><th>posted</th><th>score</th><th>triage</th><th>post</th></tr>"
            '</thead><tbody>{}</tbody></table><a href="{}">All {} complaints of this incident'
            "</a>",
            items,
            url,
            obj.volume,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Complaints over time")
    def volume_chart(self, obj: Incident) -> SafeString:
        """Bars per 5 minutes (young incident) or per hour, with axes and the brand's normal
        rate as a dashed line: inline SVG from the rollups, no JavaScript."""
        bucket, series = incidents.volume(obj)
        # At most CHART_BARS bars however long the incident ran: neighbouring hours fold
        # into one bar (2, 3, 4 hours), so the page does as much work at 14 days as at 2.
        fold = -(-len(series) // self.CHART_BARS)
        if fold > 1:
            series = [
                (series[i][0], sum(n for _, n in series[i : i + fold]))
                for i in range(0, len(series), fold)
            ]
            bucket *= fold
        minutes = int(bucket.total_seconds() // 60)
        normal = obj.baseline_per_hour * minutes / 60
        peak = max(max((n for _, n in series), default=0), normal, 1)
        left, top, height, step = 40, 8, 100, 12
        width = max(step * len(series), 120)
        bottom = top + height

        def y(value: float) -> float:
            return round(bottom - value / peak * height, 1)

        bars = format_html_join(
            "",
            '<rect x="{}" y="{}" width="{}" height="{}" fill="#417690">'
            "<title>{}: {}</title></rect>",
            (
                (
                    left + i * step,
                    y(n),
                    step - 2,
                    round(bottom - y(n), 1),
                    moment.strftime("%Y-%m-%d %H:%M"),
                    n,
                )
                for i, (moment, n) in enumerate(series)
            ),
        )
        if minutes == 60:
            unit = "hour"
        else:
            unit = f"{minutes} minutes" if minutes < 60 else f"{minutes // 60} hours"
        last = series[-1][0] + bucket
        return format_html(
            '<svg width="{w}" height="{h}" role="img" aria-label="complaints per {unit}">'
            '<line x1="{l}" y1="{t}" x2="{l}" y2="{b}" stroke="#333"/>'
            '<line x1="{l}" y1="{b}" x2="{r}" y2="{b}" stroke="#333"/>'
            '<text x="{lx}" y="{ty}" font-size="10" text-anchor="end">{peak}</text>'
            '<text x="{lx}" y="{b}" font-size="10" text-anchor="end">0</text>'
            "{bars}"
            '<line x1="{l}" y1="{ny}" x2="{r}" y2="{ny}" stroke="#ba2121" stroke-dasharray="4 3">'
            "<title>the brand's normal rate: {normal} per {unit}</title></line>"
            '<text x="{l}" y="{xy}" font-size="10">{first}</text>'
            '<text x="{r}" y="{xy}" font-size="10" text-anchor="end">{last}</text>'
            "</svg><div>complaints per {unit} (UTC); dashed line: the brand's normal rate, "
            "{normal} per {unit}; peak {peak}</div>",
            w=left + width + 10,
            h=bottom + 16,
            unit=unit,
            l=left,
            t=top,
            b=bottom,
            r=left + width,
            lx=left - 4,
            ty=top + 8,
            peak=max((n for _, n in series), default=0),
            bars=bars,
            ny=y(normal),
            normal=f"{normal:.2f}",
            xy=bottom + 13,
            first=series[0][0].strftime("%m-%d %H:%M"),
            last=last.strftime("%m-%d %H:%M"),
        )


@admin.register(ClassifierVersion)
class ClassifierVersionAdmin(admin.ModelAdmin[ClassifierVersion]):
    """Versions from ``train_classifier`` (or the nightly tick), with their figures beside the
    active version's before anyone activates one; a version that scores worse on the team's
    labels (or was not measured against the active one) is activated only after a
    confirmation page (monitoring/versions.py decides "worse")."""

    list_display = [
        "version",
        "active",
        "examples",
        "labels_count",
        "team_quality",
        "quality",
        "created_at",
    ]
    readonly_fields = [
        "version",
        "active",
        "figures",
        "examples",
        "corrections",
        "created_at",
        "activated_at",
        "activated_by",
        "metrics",
    ]
    fields = readonly_fields
    actions = ["activate"]

    @admin.display(description="Macro-F1 (held-back)")
    def quality(self, obj: ClassifierVersion) -> str:
        return _figure(obj.metrics.get("heldout_macro_f1"))

    @admin.display(description="Macro-F1 (team labels, k-fold)")
    def team_quality(self, obj: ClassifierVersion) -> str:
        return _figure((obj.metrics.get("kfold") or {}).get("macro_f1"))

    @admin.display(description="Team labels")
    def labels_count(self, obj: ClassifierVersion) -> str:
        return str(obj.metrics.get("team_labels", obj.corrections))

    @admin.display(description="Figures beside the active version")
    def figures(self, obj: ClassifierVersion) -> SafeString:
        return comparison_table(obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # versions come from `manage.py train_classifier`

    @admin.action(description="Activate this version", permissions=["change"])
    def activate(
        self, request: HttpRequest, queryset: QuerySet[ClassifierVersion]
    ) -> TemplateResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one version.", level=messages.ERROR)
            return None
        chosen = queryset.get()
        if chosen.active:
            self.message_user(request, f"{chosen.version} is the active classifier already.")
            return None
        comparison = versions.compare(chosen)
        if comparison.worse and request.POST.get("confirm") != "yes":
            return TemplateResponse(
                request,
                "admin/monitoring/classifierversion/confirm_activate.html",
                {
                    **self.admin_site.each_context(request),
                    "title": f"Activate {chosen.version}?",
                    "opts": self.model._meta,
                    "version": chosen,
                    "why": _why_confirm(comparison),
                    "figures": comparison_table(chosen),
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        versions.activate(chosen, request.user)
        self.message_user(request, f"{chosen.version} is now the active classifier.")
        return None


def _figure(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else "-"


def _why_confirm(comparison: versions.Comparison) -> str:
    if not comparison.comparable:
        return f"Its figures cannot be compared with the active version's: {comparison.reason}."
    return (
        f"It scores worse on the team's labels than the active version "
        f"({_figure(comparison.team_new)} against {_figure(comparison.team_active)} k-fold "
        "macro-F1): posts the team judged would be judged worse."
    )


def comparison_table(version: ClassifierVersion) -> SafeString:
    """This version's figures and the active version's, measured on the same data when this
    one was trained (team labels: the same k folds; held-back: the same rows)."""
    metrics = version.metrics or {}
    kfold = metrics.get("kfold") or {}
    comparison = versions.compare(version)
    labels = metrics.get("labels") or {}
    by_source = ", ".join(
        f"{labels[source]} {Label.Source(source).label.lower()}"
        for source in Label.Source.values
        if source in labels
    )
    folds = f"{kfold['folds']}-fold, n={kfold.get('n')}" if kfold.get("folds") else "too few labels"
    rows = [
        (
            f"Team labels: macro-F1 ({folds})",
            _figure(comparison.team_new),
            _figure(comparison.team_active),
        ),
        (
            f"Held-back rows: macro-F1 (n={metrics.get('heldout_n', '-')})",
            _figure(comparison.heldout_new),
            _figure(comparison.heldout_active),
        ),
        ("Team labels trained on", by_source or str(metrics.get("team_labels", "-")), ""),
    ]
    thresholds = metrics.get("thresholds") or {}
    names = dict(
        Brand.objects.filter(pk__in=[int(b) for b in thresholds]).values_list("pk", "name")
    )
    for brand_id, chosen in thresholds.items():
        floor = chosen.get("min_recall")
        rows.append(
            (
                f"Threshold for {names.get(int(brand_id), f'brand {brand_id}')}",
                f"{chosen['threshold']:.3f} (recall {chosen['recall']:.2f}"
                + (f", floor {floor:.2f}" if floor is not None else "")
                + f", n={chosen['n']})",
                "",
            )
        )
    note = (
        ""
        if comparison.comparable
        else f"Not comparable with the active version: {comparison.reason}."
    )
    return format_html(
        "<table><thead><tr><th></th><th>this version</th><th>active when trained: {}</th>"
        "</tr></thead><tbody>{}</tbody></table><p>{}</p>",
        kfold.get("active_version", "-"),
        format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        note,
    )
