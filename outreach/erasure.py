"""Erasure records and the salted hashes that keep an erased person off our list.

``python manage.py forget_person`` erases a person's posts, names and case texts
(``outreach/forgetting.py``). What stays is the audit skeleton (cases, their
events and outbox rows, without texts) and, on the do-not-contact list, two
salted hashes (of the platform's id and of the handle) so that the person is
never contacted again although we no longer know who they are.

An ``Erasure`` is the record of one erasure: who ran it, when, and how many rows
of each kind it erased. It is append-only (model guard and database triggers,
``dbrules.ERASURE_TRIGGERS``), and the database lets a do-not-contact entry trade
its names for hashes only when an erasure with the same hashes exists.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import models

from monitoring.platforms import PLATFORM_CHOICES
from outreach.fields import team_member

# What an erased text becomes where a column may not be empty (an outbox reply's
# text, a dismissal's reason); the database's exception accepts this value only.
ERASED = "[erased]"


class ErasureSalt(models.Model):
    """The install's one salt for the hashes (one row, made by the migration).

    It lives in the database so that a backup of the database restores it with the
    hashes it salted: without it no erased person would be recognised again.
    """

    value = models.CharField(max_length=128, editable=False)

    class Meta:
        app_label = "outreach"

    def __str__(self) -> str:
        return "erasure salt"


# The salt as read inside ``salt_read_once`` (None outside it).
_held: ContextVar[list[bytes] | None] = ContextVar("erasure_salt_held", default=None)


@contextmanager
def salt_read_once() -> Iterator[None]:
    """Inside this block ``salt()`` reads the salt once: for a run of work that hashes one
    person at a time (the dispatcher's drain checks the do-not-contact list before each
    send). The row never changes once written (the database refuses it)."""
    token = _held.set([])
    try:
        yield
    finally:
        _held.reset(token)


def salt() -> bytes:
    """The install's salt (one query): read it once to hash many values (a triage batch)."""
    held = _held.get()
    if held:
        return held[0]
    row = ErasureSalt.objects.order_by("pk").first()
    if row is None:
        # A database built without the migration's row (never in practice): make one.
        row, _ = ErasureSalt.objects.get_or_create(pk=1, defaults={"value": secrets.token_hex(32)})
    value = row.value.encode()
    if held is not None:
        held.append(value)
    return value


def _install_salt() -> bytes:
    return salt()


def subject_hash(platform: str, kind: str, value: str, *, salt: bytes | None = None) -> str:
    """HMAC-SHA256 of a platform id (``kind="id"``) or a normalised handle (``"handle"``)."""
    if not value:
        return ""
    message = f"{platform}\x00{kind}\x00{value}".encode()
    # The keyword shadows the module's salt(): read the install's through the module.
    key = salt if salt is not None else _install_salt()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def subject_hashes(platform: str, external_id: str, handle: str) -> tuple[str, str]:
    """The (id hash, handle hash) of a person; a blank value hashes to ""."""
    from outreach.donotcontact import normalise_handle  # the handle as the list compares it

    install_salt = salt()
    return (
        subject_hash(platform, "id", external_id, salt=install_salt),
        subject_hash(platform, "handle", normalise_handle(handle), salt=install_salt),
    )


class Erasure(models.Model):
    """The record of one erasure: who, when, for which hashes, and what was erased."""

    platform = models.CharField(max_length=20, choices=PLATFORM_CHOICES, editable=False)
    id_hash = models.CharField(max_length=64, blank=True, editable=False)
    handle_hash = models.CharField(max_length=64, blank=True, editable=False)
    actor = team_member(editable=False)
    # Who ran the command on the server (the operating system's user name).
    operator = models.CharField(max_length=150, blank=True, editable=False)
    note = models.TextField(blank=True, editable=False, help_text="Why: a ticket or request id.")
    counts = models.JSONField(default=dict, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "outreach"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(id_hash="") | ~models.Q(handle_hash=""),
                name="erasure_names_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"erasure {self.pk} ({self.platform}, {self.created_at:%Y-%m-%d %H:%M})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("erasure records are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("erasure records are append-only")
