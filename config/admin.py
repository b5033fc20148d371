"""The admin site: the stock one, with an optional second factor at sign-in.

A user who has set up a TOTP device (``python manage.py otp_setup USERNAME``)
must give a current code with the password; with ``NOJACKAL_REQUIRE_OTP`` on,
reviewers (who approve what is posted) and superusers cannot sign in without
one. django-axes, consulted before the password is checked, throttles the
attempts (config/settings.py).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django_otp import devices_for_user, user_has_device

# Reviewers approve what goes out in the brand's name: the second factor guards them.
APPROVE_PERMISSION = "outreach.approve_replydraft"


def otp_required(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether ``user`` must sign in with a second factor."""
    if not user.is_authenticated:
        return False
    if user_has_device(user, confirmed=True):
        return True
    return bool(settings.NOJACKAL_REQUIRE_OTP) and (
        user.is_superuser or user.has_perm(APPROVE_PERMISSION)
    )


class OTPLoginForm(AdminAuthenticationForm):
    """Username and password, plus a one-time code for users who need one."""

    otp_token = forms.CharField(
        label="One-time code",
        required=False,
        max_length=12,
        help_text="Only if you have set up an authenticator app.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        user = self.get_user()
        if user is None or not otp_required(user):
            return cleaned
        token = (cleaned.get("otp_token") or "").strip().replace(" ", "")
        devices = list(devices_for_user(user, confirmed=True))
        if not devices:
            raise ValidationError(
                "A second factor is required for reviewers and admins, and this account has "
                "none yet. An admin can set one up with: python manage.py otp_setup USERNAME",
                code="otp_missing",
            )
        if not token:
            raise ValidationError("Enter the one-time code from your authenticator app.", "otp")
        for device in devices:
            if device.verify_token(token):
                # django_otp's user_logged_in handler marks the session verified.
                user.otp_device = device  # type: ignore[union-attr]
                return cleaned
        raise ValidationError("That one-time code is not valid (or was already used).", "otp")


class NojackalAdminSite(admin.AdminSite):
    """The admin, where a user who needs a second factor must have given it this session."""

    site_header = "nojackal"
    site_title = "nojackal"
    index_title = "Listening and outreach"
    login_form = OTPLoginForm
    login_template = "admin/otp_login.html"

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        # Asked several times per page (the view, the sidebar): look the devices up once.
        known: bool | None = getattr(request, "_nojackal_second_factor_ok", None)
        if known is None:
            user = request.user
            known = not otp_required(user) or bool(getattr(user, "is_verified", lambda: False)())
            request._nojackal_second_factor_ok = known  # type: ignore[attr-defined]
        return known

    def get_urls(self) -> list[Any]:
        return [
            path("dashboard/", self.admin_view(self.dashboard), name="dashboard"),
            *super().get_urls(),
        ]

    def dashboard(self, request: HttpRequest) -> HttpResponse:
        """The team's dashboard (outreach/admin/dashboard.py) at its own address."""
        from outreach.admin.dashboard import view

        return view(request)

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """The admin's home is the dashboard, with the list of tables below it."""
        from outreach.admin.dashboard import view

        app_list = self.get_app_list(request)
        return view(request, {"app_list": app_list, **(extra_context or {})})
