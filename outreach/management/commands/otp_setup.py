"""Give a user a TOTP second factor and print what to put in an authenticator app."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = (
        "Set up a TOTP second factor for USERNAME (replacing any earlier one) and print the "
        "otpauth:// URL and secret to enter in an authenticator app."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--remove", action="store_true", help="remove the user's second factor instead"
        )

    def handle(self, *args: Any, username: str, remove: bool, **options: Any) -> None:
        user_model = get_user_model()
        try:
            user = user_model.objects.get(**{user_model.USERNAME_FIELD: username})
        except user_model.DoesNotExist:
            raise CommandError(f"no user {username!r}") from None
        with transaction.atomic():
            removed, _ = TOTPDevice.objects.filter(user=user).delete()
            if remove:
                self.stdout.write(f"Removed {removed} second factor(s) of {username}.")
                return
            device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
        secret = device.config_url.split("secret=", 1)[1].split("&", 1)[0]
        self.stdout.write(f"Second factor set up for {username}.")
        self.stdout.write("Add this URL to an authenticator app (or scan it as a QR code):")
        self.stdout.write(f"  {device.config_url}")
        self.stdout.write(f"Or type the secret by hand: {secret}")
        self.stdout.write("From now on the sign-in page asks this user for the app's current code.")
