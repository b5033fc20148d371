"""Erase a person on request (right to erasure): their posts, names and case texts.

The audit skeleton stays, and a salted hash on the do-not-contact list keeps them
from ever being contacted again; see ``outreach/forgetting.py`` and the README.
"""

from __future__ import annotations

import getpass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from outreach import forgetting


class Command(BaseCommand):
    help = (
        "Erase the person PLATFORM HANDLE_OR_ID: their posts, names and case texts. Keeps the "
        "audit skeleton and salted hashes on the do-not-contact list; records the erasure."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("platform", help="the platform's code, e.g. mastodon")
        parser.add_argument("handle_or_id", help="the person's handle, or the platform's id")
        parser.add_argument(
            "--dry-run", action="store_true", help="show what would be erased; change nothing"
        )
        parser.add_argument("--by", default="", help="the team member asking (a username)")
        parser.add_argument("--note", default="", help="why: a ticket or request reference")

    def handle(
        self,
        *args: Any,
        platform: str,
        handle_or_id: str,
        dry_run: bool,
        by: str,
        note: str,
        **options: Any,
    ) -> None:
        actor = None
        if by:
            user_model = get_user_model()
            try:
                actor = user_model.objects.get(**{user_model.USERNAME_FIELD: by})
            except user_model.DoesNotExist:
                raise CommandError(f"no user {by!r} (--by)") from None
        try:
            plans = forgetting.plan(platform, handle_or_id)
        except forgetting.ForgetError as exc:
            raise CommandError(str(exc)) from None
        for p in plans:
            heading = "Would erase" if dry_run else "Erasing"
            self.stdout.write(f"{heading} a person on {platform}:")
            for name, count in p.counts.items():
                self.stdout.write(f"  {name.replace('_', ' ')}: {count}")
            if dry_run:
                continue
            try:
                erasure = forgetting.forget(p, actor=actor, operator=getpass.getuser(), note=note)
            except forgetting.ForgetError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(
                f"Done: erasure {erasure.pk} recorded (admin: Outreach > Erasures); the person "
                "stays on the do-not-contact list as salted hashes."
            )
        if dry_run:
            self.stdout.write("Dry run: nothing was changed.")
