"""Retention: posts and people that no open case needs are purged after a while.

A beat tick (``outreach.tasks.purge_expired_data``) runs ``purge`` in bounded
batches, so no statement ever deletes or rewrites more than ``BATCH`` rows and a
tick stops after ``MAX_SECONDS``; the next tick goes on where it stopped. Every
step selects by what is still to do, so a tick repeated, cut short or run twice
at once does no harm.

After ``NOJACKAL_RETENTION_DAYS`` (default 90):

- a post no case points at is deleted (with its detection); one that only closed
  cases point at, closed that long ago, is kept as an empty row: no text, payload
  or link, its platform id replaced (the case's audit skeleton points at it);
- a person with no case and no post left is deleted; one whose cases are all
  closed that long ago (and longer than any playbook's cooldown, so rule 6 still
  sees them while it matters) and who posted nothing since is kept without names.

Posts and people of an open case are never touched. Nothing here touches the
do-not-contact list, the cases, their events, drafts or outbox rows (the audit
skeleton and the team's work), nor the team's labels (``monitoring.models.Label``: they
keep their own copy of the text and lose only the link to the post); a person's texts go
only on request, with ``forget_person`` (``outreach/forgetting.py``).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Max, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from monitoring.models import Detection, Person, Post
from outreach.models import OPEN_STAGES, Playbook

BATCH = 500
MAX_SECONDS = 30.0


def stand_in_id(prefix: str) -> Concat:
    """A unique stand-in for an emptied row's platform id: ``<prefix>-<row id>``."""
    return Concat(Value(f"{prefix}-"), Cast("id", CharField()))


def empty_posts(ids: list[int], *, prefix: str, now: dt.datetime) -> int:
    """Keep these posts as empty rows: no text, payload, link or platform id."""
    Detection.objects.filter(post_id__in=ids).update(triage_note="")
    return Post.objects.filter(pk__in=ids).update(
        text="",
        raw={},
        url="",
        in_reply_to="",
        external_id=stand_in_id(prefix),
        redacted_at=now,
    )


def empty_people(ids: list[int], *, prefix: str, now: dt.datetime) -> int:
    """Keep these people as rows without names or platform id."""
    return Person.objects.filter(pk__in=ids).update(
        handle="",
        display_name="",
        profile_url="",
        external_id=stand_in_id(prefix),
        redacted_at=now,
    )


def cutoffs(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """(data older than this goes, cases closed before this no longer hold a person)."""
    days = settings.NOJACKAL_RETENTION_DAYS
    cooldown = Playbook.objects.aggregate(longest=Max("cooldown_days"))["longest"] or 0
    return now - dt.timedelta(days=days), now - dt.timedelta(days=max(days, cooldown))


def _free_posts(cutoff: dt.datetime) -> QuerySet[Post]:
    return Post.objects.filter(fetched_at__lt=cutoff, cases__isnull=True)


def _posts_of_old_cases(cutoff: dt.datetime, closed_before: dt.datetime) -> QuerySet[Post]:
    return (
        Post.objects.filter(redacted_at__isnull=True, fetched_at__lt=cutoff, cases__isnull=False)
        .exclude(cases__stage__in=OPEN_STAGES)
        .exclude(cases__closed_at__gte=closed_before)
        .distinct()
    )


def _free_people(cutoff: dt.datetime) -> QuerySet[Person]:
    return Person.objects.filter(first_seen_at__lt=cutoff, cases__isnull=True, posts__isnull=True)


def _people_of_old_cases(cutoff: dt.datetime, closed_before: dt.datetime) -> QuerySet[Person]:
    return (
        Person.objects.filter(redacted_at__isnull=True, first_seen_at__lt=cutoff)
        .filter(cases__isnull=False)
        .exclude(cases__stage__in=OPEN_STAGES)
        .exclude(cases__closed_at__gte=closed_before)
        .exclude(posts__fetched_at__gte=cutoff)
        .distinct()
    )


def purge(
    now: dt.datetime | None = None, *, batch: int = BATCH, max_seconds: float = MAX_SECONDS
) -> dict[str, int]:
    """Purge what the retention period has passed, batch by batch; return the counts."""
    now = now or timezone.now()
    cutoff, closed_before = cutoffs(now)
    deadline = time.monotonic() + max_seconds
    counts = {"posts_deleted": 0, "posts_emptied": 0, "people_deleted": 0, "people_emptied": 0}

    def run(key: str, select: Any, act: Any) -> None:
        while time.monotonic() < deadline:
            ids = list(select().values_list("pk", flat=True)[:batch])
            if not ids:
                return
            with transaction.atomic():
                counts[key] += act(ids)

    # Select again inside each delete: a case opened meanwhile keeps its post (PROTECT).
    run(
        "posts_deleted",
        lambda: _free_posts(cutoff).order_by("pk"),
        lambda ids: _free_posts(cutoff).filter(pk__in=ids).delete()[1].get("monitoring.Post", 0),
    )
    run(
        "posts_emptied",
        lambda: _posts_of_old_cases(cutoff, closed_before).order_by("pk"),
        lambda ids: empty_posts(ids, prefix="retired", now=now),
    )
    run(
        "people_deleted",
        lambda: _free_people(cutoff).order_by("pk"),
        lambda ids: _free_people(cutoff).filter(pk__in=ids).delete()[1].get("monitoring.Person", 0),
    )
    run(
        "people_emptied",
        lambda: _people_of_old_cases(cutoff, closed_before).order_by("pk"),
        lambda ids: empty_people(ids, prefix="retired", now=now),
    )
    return counts
