"""Admin pages for listening: brands, sources, people, posts and the sandbox network."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html

from monitoring.models import (
    Brand,
    Person,
    Post,
    SandboxFollow,
    SandboxNotification,
    SandboxPersona,
    SandboxPost,
    Source,
)
from monitoring.platforms import PlatformError, get_platform


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin[Brand]):
    list_display = ["name", "kind", "aliases", "products"]
    list_filter = ["kind"]
    search_fields = ["name"]


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin[Source]):
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
        "cursor",
        "failure_count",
        "last_polled_at",
        "last_success_at",
        "last_error",
        "last_error_at",
        "disabled_reason",
        "posts_ingested",
        "created_at",
    ]
    fieldsets = [
        (None, {"fields": ["name", "platform", "brand", "enabled"]}),
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
                ]
            },
        ),
    ]
    actions = ["poll_now", "enable_sources", "test_connection"]

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

    @admin.action(description="Poll now")
    def poll_now(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        from monitoring.tasks import poll_source

        queued, skipped = 0, []
        for source in queryset:
            if not source.enabled:
                skipped.append(f"{source.name} (disabled)")
                continue
            poll_source.delay(source.pk)
            queued += 1
        self.message_user(request, f"Queued a poll for {queued} source(s).")
        if skipped:
            self.message_user(request, "Skipped: " + ", ".join(skipped), level=messages.WARNING)

    @admin.action(description="Enable and clear errors")
    def enable_sources(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        count = queryset.update(
            enabled=True,
            disabled_reason="",
            failure_count=0,
            last_error="",
            next_poll_at=timezone.now(),
        )
        self.message_user(request, f"Enabled {count} source(s).")

    @admin.action(description="Test connection")
    def test_connection(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        for source in queryset:
            try:
                found = get_platform(source.platform, options=source.options).check()
            except PlatformError as exc:
                self.message_user(request, f"{source.name}: {exc}", level=messages.ERROR)
            else:
                self.message_user(request, f"{source.name}: {found}")


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin[Person]):
    list_display = ["handle", "display_name", "platform", "first_seen_at"]
    list_filter = ["platform"]
    search_fields = ["handle", "display_name", "external_id"]
    readonly_fields = ["platform", "external_id", "first_seen_at"]
    show_full_result_count = False


@admin.register(Post)
class PostAdmin(admin.ModelAdmin[Post]):
    list_display = ["short_text", "author", "platform", "posted_at", "source"]
    list_filter = ["platform", "source"]
    list_select_related = ["author", "source"]
    search_fields = ["text", "external_id", "author__handle"]
    raw_id_fields = ["author", "source"]
    date_hierarchy = "posted_at"
    ordering = ["-posted_at"]
    show_full_result_count = False
    readonly_fields = [
        "platform",
        "external_id",
        "author",
        "source",
        "text",
        "url",
        "lang",
        "posted_at",
        "in_reply_to",
        "raw",
        "fetched_at",
    ]

    @admin.display(description="Text")
    def short_text(self, obj: Post) -> str:
        # Escaped by the admin; post text is hostile input.
        return obj.text if len(obj.text) <= 120 else obj.text[:119] + "…"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


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
