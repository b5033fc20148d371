"""Read-only questions the workflow and the case page ask of the data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.utils import timezone

from monitoring.models import Detection, Post
from outreach.models import (
    OPEN_STAGES,
    PRE_REPLY_STAGES,
    Case,
    EngagementEvent,
    OutboundAction,
    ReplyDraft,
    ResearchNote,
    Stage,
)

CHATTER_DAYS = 7
SIMILAR_DAYS = 7


def chatter_volume(
    brand_id: int,
    *,
    incident_id: int | None = None,
    days: int = CHATTER_DAYS,
    now: dt.datetime | None = None,
) -> int:
    """How loud it is: the complaints grouped in the incident, or for an isolated
    complaint, the complaints about the brand detected in the last ``days``."""
    if incident_id is not None:
        return Detection.objects.filter(incident_id=incident_id, complaint=True).count()
    since = (now or timezone.now()) - dt.timedelta(days=days)
    return Detection.objects.filter(brand_id=brand_id, complaint=True, posted_at__gte=since).count()


def similar_complaints(case: Case, *, days: int = SIMILAR_DAYS) -> int:
    """Other people's cases about the same brand opened in the last ``days``."""
    since = timezone.now() - dt.timedelta(days=days)
    return (
        Case.objects.filter(brand_id=case.brand_id, opened_at__gte=since)
        .exclude(person_id=case.person_id)
        .count()
    )


def author_other_posts(case: Case, *, limit: int = 10) -> QuerySet[Post]:
    """The author's most recent other posts we have heard."""
    return (
        Post.objects.filter(author_id=case.person_id)
        .exclude(pk=case.post_id)
        .order_by("-posted_at")[:limit]
    )


def stage_counts() -> dict[str, int]:
    """Cases per stage, every stage present (one grouped query on the stage index)."""
    counts = dict.fromkeys(Stage.values, 0)
    for row in Case.objects.values("stage").annotate(n=Count("id")).order_by():
        counts[row["stage"]] = row["n"]
    return counts


def open_stage_counts() -> dict[str, int]:
    """Open cases per stage (what the queue header shows)."""
    counts = dict.fromkeys(OPEN_STAGES, 0)
    rows = Case.objects.filter(stage__in=OPEN_STAGES).values("stage").annotate(n=Count("id"))
    for row in rows.order_by():
        counts[row["stage"]] = row["n"]
    return counts


def stale_case_ids(now: dt.datetime | None = None) -> list[int]:
    """Cases not yet replied to whose post is older than their playbook's freshness limit.

    One query on indexed conditions: a stale case is overdue too (``open_case`` sets
    ``due_at`` no later than the post's time plus freshness), so only overdue
    pre-reply cases are read (``case_stage_due``), never the whole open queue, and
    each is compared with its own playbook's limit here.
    """
    now = now or timezone.now()
    rows = Case.objects.filter(stage__in=PRE_REPLY_STAGES, due_at__lt=now).values_list(
        "pk", "post__posted_at", "playbook__freshness_hours"
    )
    return [
        pk
        for pk, posted_at, freshness_hours in rows.order_by("pk")
        if posted_at < now - dt.timedelta(hours=freshness_hours)
    ]


def unanswered_case_ids(now: dt.datetime | None = None) -> list[int]:
    """Cases awaiting engagement whose playbook's engagement window has passed.

    One query: the cases awaiting engagement (a partial index of open stages) with
    their sent reply's time and their playbook's window, compared here.
    """
    now = now or timezone.now()
    rows = Case.objects.filter(
        stage=Stage.AWAITING_ENGAGEMENT,
        actions__kind=OutboundAction.Kind.REPLY,
        actions__state=OutboundAction.State.SENT,
    ).values_list("pk", "actions__sent_at", "playbook__engagement_window_days")
    return [
        pk
        for pk, sent_at, window_days in rows.order_by("pk")
        if sent_at is not None and sent_at < now - dt.timedelta(days=window_days)
    ]


@dataclass(frozen=True)
class CasePage:
    """Everything the case page shows about one case, read in one place (no network)."""

    case: Case
    research: ResearchNote | None
    draft: ReplyDraft | None
    amend: ReplyDraft | None
    actions: list[OutboundAction]
    engagements: list[EngagementEvent]
    other_posts: list[Post]
    similar_complaints: int
    # Where the forms show: only where the workflow would accept them.
    research_editable: bool
    draft_editable: bool
    amend_shown: bool
    amend_editable: bool
    amend_queued: OutboundAction | None


def case_page(case: Case, *, can_change: bool) -> CasePage:
    """The case page's data for ``case``; ``can_change``: the user may edit the case."""
    research = ResearchNote.objects.filter(case=case).first()
    drafts = {
        d.is_first_reply: d
        for d in ReplyDraft.objects.filter(case=case).select_related(
            "author", "approved_by", "rejected_by"
        )
    }
    amend = drafts.get(False)
    actions = list(OutboundAction.objects.filter(case=case).select_related("account"))
    amend_live = [
        a
        for a in actions
        if a.kind == OutboundAction.Kind.AMEND_REQUEST and a.state != OutboundAction.State.CANCELLED
    ]
    return CasePage(
        case=case,
        research=research,
        draft=drafts.get(True),
        amend=amend,
        actions=actions,
        engagements=list(EngagementEvent.objects.filter(case=case)),
        other_posts=list(author_other_posts(case)),
        similar_complaints=similar_complaints(case),
        research_editable=can_change and case.stage in (Stage.RESEARCHING, Stage.DRAFTING),
        draft_editable=can_change
        and case.stage in (Stage.DRAFTING, Stage.AWAITING_APPROVAL, Stage.APPROVED),
        # Own-brand, after resolution: one request to amend the post.
        amend_shown=case.kind == Case.Kind.OWN_BRAND
        and (amend is not None or case.stage in (Stage.RESOLVED, Stage.AMEND_REQUESTED)),
        amend_editable=can_change
        and case.stage == Stage.RESOLVED
        and not any(a.state != OutboundAction.State.PENDING for a in amend_live),
        amend_queued=amend_live[0] if amend_live else None,
    )
