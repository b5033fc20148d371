"""Read-only questions the workflow and the case page ask of the data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from monitoring.models import Detection, Post
from outreach.models import (
    CONVERSATION_STAGES,
    OPEN_STAGES,
    PRE_REPLY_STAGES,
    TEXT_KINDS,
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


APPROVE_PERMISSION = "outreach.approve_replydraft"


def awaiting_approval_by(cases: QuerySet[Case], user: Any) -> QuerySet[Case]:
    """The cases of ``cases`` whose first reply waits for ``user``'s approval: submitted, and not
    written by them (four eyes). None for a user who may not approve."""
    if not user.has_perm(APPROVE_PERMISSION):
        return cases.none()
    return cases.filter(stage=Stage.AWAITING_APPROVAL).exclude(
        drafts__is_first_reply=True, drafts__author_id=user.pk
    )


@dataclass(frozen=True)
class WorkCounts:
    """What the admin header's badge shows a user."""

    assigned: int  # open cases assigned to them
    to_approve: int  # drafts awaiting their approval (0 if they may not approve)
    overdue: int  # cases not yet answered past their due time, the whole team's


def work_counts(user: Any, *, now: dt.datetime | None = None) -> WorkCounts:
    """The badge's three counts in one query over the open cases (the partial open-stage
    index keeps it to the work in hand, however long the history)."""
    now = now or timezone.now()
    mine_written = ReplyDraft.objects.filter(
        case_id=OuterRef("pk"), is_first_reply=True, author_id=user.pk
    )
    may_approve = user.has_perm(APPROVE_PERMISSION)
    row = (
        Case.objects.filter(stage__in=OPEN_STAGES)
        .annotate(written_by_me=Exists(mine_written))
        .aggregate(
            assigned=Count("pk", filter=Q(assignee_id=user.pk)),
            to_approve=Count("pk", filter=Q(stage=Stage.AWAITING_APPROVAL, written_by_me=False)),
            overdue=Count("pk", filter=Q(stage__in=PRE_REPLY_STAGES, due_at__lt=now)),
        )
    )
    return WorkCounts(
        assigned=row["assigned"],
        to_approve=row["to_approve"] if may_approve else 0,
        overdue=row["overdue"],
    )


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


def quiet_conversation_ids(now: dt.datetime | None = None) -> list[int]:
    """Cases in conversation with nothing heard or sent for their playbook's engagement
    window (a candidate list: ``workflow.mark_gone_quiet`` decides on each)."""
    now = now or timezone.now()
    ids: list[int] = []
    in_conversation = Case.objects.filter(stage__in=CONVERSATION_STAGES)
    playbooks = Playbook.objects.filter(pk__in=in_conversation.values("playbook_id"))
    for playbook in playbooks:
        cutoff = now - dt.timedelta(days=playbook.engagement_window_days)
        ids.extend(
            in_conversation.filter(playbook=playbook)
            .exclude(engagements__occurred_at__gte=cutoff)
            .exclude(actions__sent_at__gte=cutoff)
            .exclude(
                actions__state__in=[OutboundAction.State.PENDING, OutboundAction.State.SENDING]
            )
            .values_list("pk", flat=True)
        )
    return ids


HISTORY_ROWS = 10


@dataclass(frozen=True)
class Exchange:
    """One message between us and the person, on any of their cases."""

    at: dt.datetime
    ours: bool
    kind: str  # its label: "Later reply", "Reply", "Private message"...
    text: str
    case_id: int
    # Ours: the outbox state ("Pending" until the dispatcher records it sent).
    state: str = ""
    url: str = ""


@dataclass(frozen=True)
class PersonHistory:
    """What we know of a person across their cases; every list is at most ``limit`` rows."""

    cases: list[Case]
    posts: list[Post]
    exchanges: list[Exchange]
    opted_out: Case | None


def person_history(
    person_id: int, *, exclude_case: int | None = None, limit: int = HISTORY_ROWS
) -> PersonHistory:
    """Their other cases with us, their recent posts, what we and they said (newest first),
    and the case where they opted out: five queries whatever the history's length."""
    cases = Case.objects.filter(person_id=person_id).select_related("brand").order_by("-opened_at")
    if exclude_case is not None:
        cases = cases.exclude(pk=exclude_case)
    posts = Post.objects.filter(author_id=person_id).order_by("-posted_at")
    if exclude_case is not None:
        posts = posts.exclude(cases__pk=exclude_case)
    ours = (
        OutboundAction.objects.filter(case__person_id=person_id, kind__in=TEXT_KINDS)
        .exclude(state=OutboundAction.State.CANCELLED)
        .order_by("-created_at")[:limit]
    )
    theirs = EngagementEvent.objects.filter(
        case__person_id=person_id,
        kind__in=[
            EngagementEvent.Kind.REPLY,
            EngagementEvent.Kind.MENTION,
            EngagementEvent.Kind.PRIVATE_MESSAGE,
        ],
    ).order_by("-occurred_at")[:limit]
    exchanges = [
        Exchange(
            at=a.sent_at or a.created_at,
            ours=True,
            kind=a.get_kind_display(),
            text=a.text,
            case_id=a.case_id,
            state=a.get_state_display(),
            url=a.url,
        )
        for a in ours
    ] + [
        Exchange(
            at=e.occurred_at, ours=False, kind=e.get_kind_display(), text=e.text, case_id=e.case_id
        )
        for e in theirs
    ]
    exchanges.sort(key=lambda x: x.at, reverse=True)
    opted_out = (
        Case.objects.filter(person_id=person_id, stage=Stage.OPTED_OUT)
        .order_by("-closed_at")
        .first()
    )
    return PersonHistory(list(cases[:limit]), list(posts[:limit]), exchanges[:limit], opted_out)


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
    answer: ReplyDraft | None
    answer_shown: bool
    answer_editable: bool
    answer_queued: OutboundAction | None
    history: PersonHistory


def case_page(case: Case, *, can_change: bool) -> CasePage:
    """The case page's data for ``case``; ``can_change``: the user may edit the case."""
    research = ResearchNote.objects.filter(case=case).first()
    drafts = {
        (d.is_first_reply, d.later): d
        for d in ReplyDraft.objects.filter(case=case).select_related(
            "author", "approved_by", "rejected_by"
        )
    }
    amend = drafts.get((False, False))
    answer = drafts.get((False, True))
    actions = list(OutboundAction.objects.filter(case=case).select_related("account"))
    answer_live = [
        a
        for a in actions
        if a.kind in (OutboundAction.Kind.LATER_REPLY, OutboundAction.Kind.PRIVATE_MESSAGE)
        and a.state in (OutboundAction.State.PENDING, OutboundAction.State.SENDING)
    ]
    amend_live = [
        a
        for a in actions
        if a.kind == OutboundAction.Kind.AMEND_REQUEST and a.state != OutboundAction.State.CANCELLED
    ]
    return CasePage(
        case=case,
        research=research,
        draft=drafts.get((True, False)),
        amend=amend,
        answer=answer,
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
        # After engagement: the team's next answer, until the conversation is closed.
        answer_shown=answer is not None or case.stage in CONVERSATION_STAGES,
        answer_editable=can_change
        and case.stage in CONVERSATION_STAGES
        and not any(a.state == OutboundAction.State.SENDING for a in answer_live),
        answer_queued=answer_live[0] if answer_live else None,
        history=person_history(case.person_id, exclude_case=case.pk),
    )
