"""Admin pages for our own platform accounts: credentials are write-only, never shown."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from monitoring import limits
from monitoring.credentials import CredentialsError
from monitoring.forms import AccountForm, store_credentials
from monitoring.models import Account
from monitoring.platforms import PlatformError


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin[Account]):
    form = AccountForm
    list_display = [
        "handle",
        "platform",
        "display_name",
        "enabled",
        "is_service",
        "credentials_stored",
        "rate_limited_until",
    ]
    list_filter = ["platform", "enabled", "is_service"]
    search_fields = ["handle", "display_name"]
    readonly_fields = [
        "credentials_stored",
        "notifications_cursor",
        "rate_limited_until",
        "limits_summary",
        "limits_checked_at",
        "created_at",
    ]

    actions = ["test_connection"]

    @admin.display(description="credentials", boolean=True)
    def credentials_stored(self, obj: Account) -> bool:
        return obj.has_credentials

    @admin.action(description="Test connection", permissions=["change"])
    def test_connection(self, request: HttpRequest, queryset: QuerySet[Account]) -> None:
        for account in queryset:
            try:
                found = account.adapter().check()
            except (PlatformError, CredentialsError) as exc:
                self.message_user(request, f"{account}: {exc}", level=messages.ERROR)
                continue
            if limits.refresh(account.pk):
                found += "; limits refreshed"
            else:
                found += "; limits not refreshed, the cached ones are kept"
            self.message_user(request, f"{account}: {found}")

    @admin.display(description="platform limits")
    def limits_summary(self, obj: Account) -> str:
        if obj.pk is None:  # the add form: no platform chosen yet
            return "shown once the account is saved"
        found = obj.cached_limits()
        if not found.can_reply:
            return "read-only"
        cached = "" if obj.limits_checked_at else " (defaults: not checked yet)"
        return f"replies up to {found.reply_max_length} {found.length_unit}{cached}"

    def save_model(self, request: HttpRequest, obj: Account, form: ModelForm, change: bool) -> None:
        store_credentials(obj, form.cleaned_data)
        super().save_model(request, obj, form, change)
