"""The do-not-contact list (rules 6 and 9): append-only, removed only by an admin with a reason.

Nobody edits an entry. Removing one is a soft removal (``removed_at``,
``removed_by``, ``removal_reason``) made once, by ``workflow.remove_dnc_entry``
with the ``delete_donotcontact`` permission (the Admin group's only),
so the entry and the reason it went away stay on record. The database holds
this too (migration 0009): on PostgreSQL and SQLite a trigger refuses any
UPDATE but that one removal, and every DELETE. One more UPDATE is let through
(``dbrules.dnc_install_sql``): an erasure trading the entry's names for the
salted hashes of its ``Erasure`` record (``outreach/erasure.py``).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q

from monitoring.platforms import PLATFORM_CHOICES
from outreach.fields import team_member


class DoNotContactQuerySet(models.QuerySet["DoNotContact"]):
    def in_force(self) -> DoNotContactQuerySet:
        """Entries that still block contact (not removed)."""
        return self.filter(removed_at__isnull=True)


class DoNotContact(models.Model):
    """A person or handle we must never contact again (rule 6, rule 9)."""

    platform = models.CharField(max_length=20, choices=PLATFORM_CHOICES)
    # The platform's stable id: matched first, since a handle can change.
    person_external_id = models.CharField(max_length=255, blank=True)
    handle = models.CharField(max_length=255, blank=True)
    # An erased person (forget_person) is kept only as salted hashes of the two
    # above (outreach/erasure.py): recognised again, never named.
    # (db_default: rows written by hand in SQL, without these columns, name nobody by hash.)
    id_hash = models.CharField(
        max_length=64, blank=True, db_default="", editable=False, db_index=True
    )
    handle_hash = models.CharField(
        max_length=64, blank=True, db_default="", editable=False, db_index=True
    )
    reason = models.TextField()
    added_by = team_member()
    created_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True, editable=False)
    removed_by = team_member(editable=False)
    removal_reason = models.TextField(blank=True, editable=False)

    objects = DoNotContactQuerySet.as_manager()

    class Meta:
        app_label = "outreach"
        verbose_name = "do-not-contact entry"
        verbose_name_plural = "do-not-contact list"
        constraints = [
            models.CheckConstraint(
                condition=~Q(person_external_id="")
                | ~Q(handle="")
                | ~Q(id_hash="")
                | ~Q(handle_hash=""),
                name="dnc_names_someone",
            ),
            # A removed entry no longer counts: the person may be added again later.
            models.UniqueConstraint(
                fields=["platform", "person_external_id"],
                condition=~Q(person_external_id="") & Q(removed_at__isnull=True),
                name="dnc_unique_person",
            ),
            models.UniqueConstraint(
                fields=["platform", "handle"],
                condition=~Q(handle="") & Q(removed_at__isnull=True),
                name="dnc_unique_handle",
            ),
            # A removal is whole or absent: when, by whom and why.
            models.CheckConstraint(
                condition=(
                    Q(removed_at__isnull=True) & Q(removed_by__isnull=True) & Q(removal_reason="")
                )
                | (
                    Q(removed_at__isnull=False)
                    & Q(removed_by__isnull=False)
                    & ~Q(removal_reason="")
                ),
                name="dnc_removal_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform}: {self.handle or self.person_external_id or 'erased person'}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # An entry is written once; a rename would let the person be contacted again.
        if self.pk is not None and not self._state.adding:
            raise ValueError("do-not-contact entries cannot be edited; remove one with a reason")
        # Handles compare case-insensitively and without the leading "@".
        self.handle = normalise_handle(self.handle)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("do-not-contact entries are removed with a reason, never deleted")


def normalise_handle(handle: str) -> str:
    """A handle as stored on the do-not-contact list: no leading "@", lower case."""
    return handle.strip().lstrip("@").casefold()
