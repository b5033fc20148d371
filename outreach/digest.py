"""The reviewers' digest: drafts that have waited for approval longer than they should.

A draft submitted more than ``NOJACKAL_APPROVAL_DIGEST_MINUTES`` ago and still awaiting
approval goes into one message to the reviewers (their email addresses; the team's Apprise
chat URLs too), once per case. The marker is a case event written in the same transaction
as the sending, under a row lock: a tick that runs twice, or two at once, never sends a case
twice, and a message that cannot go out leaves no marker, so the next tick tries again.

(The team's alert about an own-brand case close to its due time is ``expiry.alert_due_own_brand``,
also once per case.)
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from outreach.models import Case, CaseEvent, ReplyDraft, Stage
from outreach.workflow import events

log = logging.getLogger(__name__)

DIGEST_ACTION = "approval_digest"


def reviewer_emails() -> list[str]:
    """The addresses of active users who may approve drafts (by group or by their own grant)."""
    perm = Permission.objects.filter(
        codename="approve_replydraft", content_type__app_label="outreach"
    ).first()
    if perm is None:
        return []
    users = get_user_model().objects.filter(
        Q(groups__permissions=perm) | Q(user_permissions=perm), is_active=True
    )
    return sorted(set(users.exclude(email="").values_list("email", flat=True)))


def _waited(since: dt.datetime, now: dt.datetime) -> str:
    minutes = int((now - since).total_seconds() // 60)
    hours, mins = divmod(minutes, 60)
    return f"{hours} h {mins} min" if hours else f"{mins} min"


def send_approval_digest(*, now: dt.datetime | None = None) -> int:
    """Tell the reviewers about drafts waiting too long, each case once; how many were told."""
    from monitoring import alerts

    now = now or timezone.now()
    cutoff = now - dt.timedelta(minutes=settings.NOJACKAL_APPROVAL_DIGEST_MINUTES)
    with transaction.atomic():
        # The lock makes "not told yet -> tell -> marker" one step for every tick at once;
        # a row another tick holds is left to it.
        ids = list(
            Case.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                stage=Stage.AWAITING_APPROVAL,
                drafts__is_first_reply=True,
                drafts__submitted_at__lt=cutoff,
            )
            .exclude(pk__in=CaseEvent.objects.filter(action=DIGEST_ACTION).values("case_id"))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not ids:
            return 0
        drafts = (
            ReplyDraft.objects.filter(case_id__in=ids, is_first_reply=True)
            .select_related("case__brand", "author")
            .order_by("submitted_at", "case_id")
        )
        lines = []
        for draft in drafts:
            case = draft.case
            since = draft.submitted_at or now  # filtered on above: always set here
            events.happened(
                case,
                action=DIGEST_ACTION,
                note=f"reviewers told: awaiting approval since {since:%Y-%m-%d %H:%M} UTC",
            )
            lines.append(
                f"- case {case.pk} · {case.brand} · by {draft.author} · waiting "
                f"{_waited(since, now)} · "
                f"{reverse('admin:outreach_case_change', args=[case.pk])}"
            )
        count = len(lines)
        # Inside the transaction: if the digest cannot go out, the markers roll back.
        alerts.send(
            f"nojackal: {count} draft{'s' if count != 1 else ''} awaiting approval "
            f"for more than {settings.NOJACKAL_APPROVAL_DIGEST_MINUTES} min",
            "These replies wait for a reviewer (four eyes: not their author):\n\n"
            + "\n".join(lines)
            + "\n",
            emails=reviewer_emails() or None,
        )
    return count
