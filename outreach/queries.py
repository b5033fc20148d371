"""Read-only questions the workflow and the case page ask of the data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from monitoring.models import Detection, Post
from outreach.models import (
    OPEN_STAGES,
    PRE_REPLY_STAGES,
    Case,
    EngagementEvent,
    OutboundAction,
    Playbook,
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


def _by_playbook_limit(field: str, cutoff: Any) -> Q:
    """Each playbook version's own limit as one condition: ``cutoff(limit)`` per distinct
    value of ``field`` over the playbook versions (a small table, read once)."""
    versions: dict[int, list[int]] = {}
    for pk, limit in Playbook.objects.values_list("pk", field):
        versions.setdefault(limit, []).append(pk)
    match = Q(pk__in=[])
    for limit, ids in versions.items():
        match |= Q(playbook_id__in=ids) & cutoff(limit)
    return match


def stale_case_ids(now: dt.datetime | None = None) -> list[int]:
    """Cases not yet replied to whose post is older than their playbook's freshness limit.

    Two queries on indexed conditions, whatever the history: the playbook versions'
    limits, then the cases. A stale case is overdue too (``open_case`` sets
    ``due_at`` no later than the post's time plus freshness), so only overdue
    pre-reply cases are looked at (``case_stage_due``), never the whole queue.
    """
    now = now or timezone.now()
    fresh_until = _by_playbook_limit(
        "freshness_hours", lambda hours: Q(posted_at__lt=now - dt.timedelta(hours=hours))
    )
    # The post's time looked up per overdue case (by its primary key), not joined: a
    # join let the planner scan every post of the history to hash them (100k posts).
    posted_at = Post.objects.filter(pk=OuterRef("post_id")).values("posted_at")[:1]
    return list(
        Case.objects.filter(stage__in=PRE_REPLY_STAGES, due_at__lt=now)
        .annotate(posted_at=Subquery(posted_at))
        .filter(fresh_until)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def unanswered_case_ids(now: dt.datetime | None = None) -> list[int]:
    """Cases awaiting engagement whose playbook's engagement window has passed.

    Two queries: the playbook versions' windows, then the cases awaiting engagement
    (a partial index of open stages) whose sent reply is older than their window.
    """
    now = now or timezone.now()
    window_over = _by_playbook_limit(
        "engagement_window_days",
        lambda days: Q(actions__sent_at__lt=now - dt.timedelta(days=days)),
    )
    return list(
        # One filter() call: the window applies to the same row as the kind and state.
        Case.objects.filter(
            Q(
                stage=Stage.AWAITING_ENGAGEMENT,
                actions__kind=OutboundAction.Kind.REPLY,
                actions__state=OutboundAction.State.SENT,
            )
            & window_over
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()
    )


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
