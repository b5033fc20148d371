"""Engagement detection: read our accounts' notifications and move the cases they concern.

Each account's notifications are read from its stored cursor, page by page.
The cursor is advanced by compare-and-set in the same transaction as the
events of that page, so a page is stored exactly once: a crash before the
commit reads it again, and a second reader running at the same time loses the
compare-and-set and stores nothing.

A notification counts only when it comes from a person we replied to from that
account (a reply, mention, favourite, boost, follow, private message, block or
mute); everything else is ignored. What it means for the case (engaged, opted
out, nothing) is decided by ``workflow.record_engagement``.

This is the only way engagement enters the system: the facts (who, what kind,
which post) come from the account's adapter, read by the worker, and no task
takes them as arguments (see "Tasks and trust" in ``outreach/tasks.py``). A
case reaches engaged only with such an EngagementEvent stored.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from monitoring.models import Account, Person
from monitoring.platforms import NotSupported, PermanentError, TransientError
from monitoring.platforms.base import Notification
from outreach import dispatch, workflow
from outreach.models import (
    TEXT_KINDS,
    EngagementEvent,
    OutboundAction,
    normalise_handle,
)

log = logging.getLogger(__name__)

DEFAULT_MAX_PAGES = 10
MAX_TEXT_CHARS = 5_000


@dataclass(frozen=True)
class ReadResult:
    """What one read of an account's notifications did."""

    pages: int = 0
    recorded: int = 0  # new EngagementEvents
    ignored: int = 0  # not from a person we replied to, or already recorded
    error: str = ""


def max_pages() -> int:
    """Pages read per account per tick; the rest waits for the next tick, cursor kept."""
    return int(getattr(settings, "NOJACKAL_MAX_NOTIFICATION_PAGES", DEFAULT_MAX_PAGES))


def account_ids_to_read() -> list[int]:
    """Enabled accounts that have replied to someone (the only ones with anything to match)."""
    return list(
        Account.objects.filter(
            enabled=True,
            actions__kind=OutboundAction.Kind.REPLY,
            actions__state=OutboundAction.State.SENT,
        )
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def read_notifications(account_id: int, *, now: dt.datetime | None = None) -> ReadResult:
    """Read one account's new notifications from its cursor and record the ones that matter."""
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        return ReadResult(error="no such account")
    if not account.enabled:
        return ReadResult(error="account disabled")
    now = now or timezone.now()
    if account.rate_limited_until and account.rate_limited_until > now:
        return ReadResult(error="account rate-limited")
    adapter = dispatch.platform_for(account)
    cursor = account.notifications_cursor
    pages = recorded = ignored = 0
    error = ""
    for _ in range(max_pages()):
        try:
            page = adapter.notifications(cursor)
        except NotSupported:
            return ReadResult(error="the platform has no notifications")
        except TransientError as exc:
            error = str(exc)
            if exc.retry_after is not None:
                # Same token, same budget: sends from this account wait as well.
                Account.objects.filter(pk=account.pk).update(
                    rate_limited_until=now + dt.timedelta(seconds=exc.retry_after)
                )
            log.warning("notifications of %s: transient error, next tick: %s", account, exc)
            break
        except PermanentError as exc:
            error = str(exc)
            log.error("notifications of %s cannot be read: %s", account, exc)
            break
        with transaction.atomic():
            # The cursor first: its row lock makes a concurrent reader wait, then
            # fail the compare-and-set, so one page is never stored by two readers.
            moved = Account.objects.filter(pk=account.pk, notifications_cursor=cursor).update(
                notifications_cursor=page.cursor
            )
            if moved != 1:
                error = "another reader advanced the cursor"
                break
            for note in page.notifications:
                if _record(account, note):
                    recorded += 1
                else:
                    ignored += 1
        pages += 1
        cursor = page.cursor
        if not page.has_more:
            break
    return ReadResult(pages=pages, recorded=recorded, ignored=ignored, error=error)


def read_all_notifications() -> dict[int, ReadResult]:
    """Read every account in this process (the tick queues one task per account instead)."""
    return {pk: read_notifications(pk) for pk in account_ids_to_read()}


def _same_person(note: Notification) -> Q:
    """The people a notification may be from: its id, else its handle (case-insensitive,
    with or without "@", on the person_handle_upper index)."""
    match = Q(external_id=note.person.external_id) if note.person.external_id else Q(pk__in=[])
    handle = normalise_handle(note.person.handle)
    if handle:
        match |= Q(handle__iexact=handle) | Q(handle__iexact=f"@{handle}")
    return match


def match_case_id(account: Account, note: Notification) -> int | None:
    """The case a notification is about: our reply to that person from that account.

    Three index lookups at most, whatever the number of replies the account sent:
    the person, then the replied-to post's id (``action_sent_external``), else the
    person's cases.
    """
    if not (note.person.external_id or note.person.handle):
        return None
    # The people first (a handful of rows by index), so that the replies below are
    # found through those people's cases, never by walking the account's replies.
    people = list(
        Person.objects.filter(platform=account.platform)
        .filter(_same_person(note))
        .values_list("pk", flat=True)
    )
    if not people:
        return None  # someone we never heard of: we cannot have replied to them
    replies = OutboundAction.objects.filter(
        account_id=account.pk,
        # Our first reply, or the own-brand request to amend the post.
        kind__in=TEXT_KINDS,
        state=OutboundAction.State.SENT,
        case__platform=account.platform,
        case__person_id__in=people,
    )
    if note.subject_id:
        # About our reply itself (an answer, a favourite, a boost): the surest match.
        exact = replies.filter(external_id=note.subject_id).values_list("case_id", flat=True)
        if exact:
            return exact[0]
    # A mention, a follow, a block: the person's latest case with us.
    latest = replies.order_by("-sent_at", "-pk").values_list("case_id", flat=True).first()
    return latest


def _record(account: Account, note: Notification) -> bool:
    """Store one notification as an EngagementEvent; False when it is not one of ours."""
    if note.kind not in EngagementEvent.Kind.values:
        return False
    case_id = match_case_id(account, note)
    if case_id is None:
        return False  # someone we never replied to: not our business
    text = note.post.text if note.post is not None else ""
    payload = {
        "notification_id": note.external_id,
        "account_id": account.pk,
        "subject_id": note.subject_id,
        "person": {"id": note.person.external_id, "handle": note.person.handle},
        "post_id": note.post.external_id if note.post is not None else "",
        "post_url": note.post.url if note.post is not None else "",
    }
    try:
        with transaction.atomic():
            event = workflow.record_engagement(
                case_id,
                kind=note.kind,
                # Notification ids are unique per account (per instance on
                # Mastodon), not per platform: qualify them with the account.
                external_id=f"{account.pk}:{note.external_id}"[:255],
                occurred_at=note.created_at,
                text=text[:MAX_TEXT_CHARS],
                payload=payload,
            )
    except workflow.WorkflowError as exc:
        log.info("notification %s on case %s not recorded: %s", note.external_id, case_id, exc)
        return False
    return event is not None
