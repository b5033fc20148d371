"""Removing a do-not-contact entry (rule 6): an admin's act, with a reason, on record.

Entries are never edited or deleted (the database refuses both); the one change
an entry takes is its removal, made once, by compare-and-set.
"""

from __future__ import annotations

from django.utils import timezone

from outreach.models import DoNotContact
from outreach.workflow.rules import (
    MAX_NOTE_CHARS,
    ONE_CONVERSATION,
    RuleViolation,
    User,
    WorkflowError,
)

DNC_REMOVE_PERMISSION = "outreach.delete_donotcontact"


def remove_dnc_entry(entry: DoNotContact | int, *, actor: User, reason: str) -> DoNotContact:
    """Take an entry off the list, keeping it with who removed it, when and why.

    Needs the delete_donotcontact permission (the Admin group's; reviewers and
    analysts may only add entries).
    """
    if actor is None or not actor.is_authenticated or not actor.has_perm(DNC_REMOVE_PERMISSION):
        raise RuleViolation(ONE_CONVERSATION, "only an admin may remove a do-not-contact entry")
    reason = reason.strip()
    if not reason:
        raise WorkflowError("say why the entry is removed")
    pk = entry.pk if isinstance(entry, DoNotContact) else entry
    removed = DoNotContact.objects.filter(pk=pk, removed_at__isnull=True).update(
        removed_at=timezone.now(), removed_by_id=actor.pk, removal_reason=reason[:MAX_NOTE_CHARS]
    )
    if removed != 1:
        raise WorkflowError(f"do-not-contact entry {pk} is already removed (or does not exist)")
    return DoNotContact.objects.get(pk=pk)
