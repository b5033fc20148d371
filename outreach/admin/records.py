"""The other outreach admins: playbooks, do-not-contact, and the read-only records."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.utils.safestring import SafeString

from monitoring.display import platform_link
from monitoring.listing import QuickRows
from monitoring.paging import HistoryPaginator
from outreach import workflow
from outreach.admin.display import ask_reason
from outreach.forms import (
    PlaybookForm,
    RemoveDoNotContactForm,
)
from outreach.models import (
    DoNotContact,
    EngagementEvent,
    Erasure,
    FindingOverrule,
    OutboundAction,
    Playbook,
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
    """Append-only: entries are added, never edited or deleted; an admin may remove one with
    a reason (the entry stays on record)."""

    list_display = [
        "platform",
        "handle",
        "person_external_id",
        "erased",
        "reason",
        "added_by",
        "created_at",
        "removed_at",
    ]
    list_filter = ["platform", ("removed_at", admin.EmptyFieldListFilter)]
    search_fields = ["=handle", "=person_external_id"]
    readonly_fields = [
        "id_hash",
        "handle_hash",
        "added_by",
        "created_at",
        "removed_at",
        "removed_by",
        "removal_reason",
    ]
    list_select_related = ["added_by"]
    actions = ["remove_selected"]

    @admin.display(boolean=True, description="erased (hashes only)")
    def erased(self, obj: DoNotContact) -> bool:
        return bool(obj.id_hash or obj.handle_hash)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Rule 6: a renamed entry would let the person be contacted again.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_remove_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(workflow.DNC_REMOVE_PERMISSION)

    def save_model(
        self, request: HttpRequest, obj: DoNotContact, form: ModelForm, change: bool
    ) -> None:
        if not change:
            obj.added_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    @admin.action(
        description="Remove selected entries (admin; asks for a reason)", permissions=["remove"]
    )
    def remove_selected(
        self, request: HttpRequest, queryset: QuerySet[DoNotContact]
    ) -> HttpResponse | None:
        form = RemoveDoNotContactForm(request.POST if "removal_reason" in request.POST else None)
        if not form.is_valid():
            return ask_reason(
                self,
                request,
                form=form,
                title="Remove from the do-not-contact list",
                question="Remove these entries from the do-not-contact list? The people may "
                "then be contacted again. Each entry stays on record with your name and the "
                "reason. Entries already removed are skipped.",
                rows=(
                    (
                        e.pk,
                        f"{e.platform} · {e.handle or '-'} · id {e.person_external_id or '-'}"
                        f" · {e.reason}",
                    )
                    for e in queryset.in_force()
                ),
                submit="Remove with this reason",
            )
        removed, skipped = 0, []
        for entry in queryset.in_force():
            try:
                workflow.remove_dnc_entry(
                    entry, actor=request.user, reason=form.cleaned_data["removal_reason"]
                )
            except workflow.WorkflowError as exc:  # removed meanwhile by another admin
                skipped.append(str(exc))
            else:
                removed += 1
        messages.success(request, f"Removed {removed} entr{'y' if removed == 1 else 'ies'}.")
        if skipped:
            messages.warning(request, "Skipped: " + "; ".join(skipped))
        return None


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboundAction)
class OutboundActionAdmin(QuickRows, ReadOnlyAdmin):
    list_display = [
        "id",
        "case",
        "kind",
        "state",
        "outcome",
        "account",
        "not_before",
        "attempts",
        "sent_at",
    ]
    list_filter = ["state", "kind", ("outcome_unknown_since", admin.EmptyFieldListFilter)]
    list_select_related = ["case", "case__person", "account"]
    raw_id_fields = ["case", "draft"]
    # The URL of a sent row is what the platform answered: shown through the one check
    # every outside URL goes through, never as the admin's own link of a URLField.
    exclude = ["url"]
    readonly_fields = ["platform_url"]
    ordering = ["-id"]
    show_full_result_count = False
    paginator = HistoryPaginator

    @admin.display(description="url")
    def platform_url(self, obj: OutboundAction) -> SafeString:
        return platform_link(obj.url)

    @admin.display(description="Outcome", ordering="outcome_unknown_since")
    def outcome(self, obj: OutboundAction) -> str:
        """'outcome unknown' while the platform has not said whether an attempt posted."""
        if obj.outcome_unknown_since is not None:
            return f"outcome unknown since {obj.outcome_unknown_since:%Y-%m-%d %H:%M} UTC"
        return obj.error[:80] if obj.state == OutboundAction.State.FAILED else ""


@admin.register(EngagementEvent)
class EngagementEventAdmin(QuickRows, ReadOnlyAdmin):
    list_display = ["id", "case", "kind", "platform", "occurred_at"]
    list_filter = ["kind", "platform"]
    list_select_related = ["case", "case__person"]
    raw_id_fields = ["case"]
    ordering = ["-occurred_at"]
    show_full_result_count = False
    paginator = HistoryPaginator


@admin.register(Erasure)
class ErasureAdmin(ReadOnlyAdmin):
    """The record of each erasure (forget_person): who, when, what counts. Never edited."""

    list_display = ["id", "platform", "created_at", "actor", "operator", "note"]
    list_filter = ["platform"]
    list_select_related = ["actor"]
    readonly_fields = [
        "platform",
        "created_at",
        "actor",
        "operator",
        "note",
        "counts",
        "id_hash",
        "handle_hash",
    ]
    ordering = ["-created_at", "-id"]


@admin.register(FindingOverrule)
class FindingOverruleAdmin(QuickRows, ReadOnlyAdmin):
    """Tone findings reviewers overruled, with their reasons, and how often per code and
    source (above the list): a pattern overruled often is one to fix."""

    change_list_template = "admin/outreach/findingoverrule/change_list.html"
    list_display = ["id", "case", "code", "source", "actor", "created_at", "reason"]
    list_filter = ["code", "source"]
    list_select_related = ["case", "case__person", "actor"]
    ordering = ["-created_at"]
    show_full_result_count = False
    paginator = HistoryPaginator

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        counts = (
            FindingOverrule.objects.values("code", "source")
            .annotate(overruled=Count("id"))
            .order_by("-overruled", "code", "source")
        )
        return super().changelist_view(
            request, {**(extra_context or {}), "overrule_counts": list(counts)}
        )
