"""Opening a case, assigning it and claiming it."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction

from monitoring.models import Account, Brand, Incident, Post
from outreach.models import (
    OPEN_STAGES,
    Case,
    Playbook,
    PlaybookKind,
    Severity,
    Stage,
)
from outreach.workflow import caps, events, holds
from outreach.workflow.checks import dnc_entry
from outreach.workflow.rules import (
    FRESHNESS,
    ONE_CONVERSATION,
    ONE_PLAYBOOK,
    RuleViolation,
    TransitionNotAllowed,
    User,
    WorkflowError,
    actor_id,
    now_or,
)
from outreach.workflow.table import MOVES, _case, _move

# The playbook a brand's complaints run under: ours is service, a competitor's is outreach.
KIND_FOR_BRAND: dict[str, str] = {
    Brand.Kind.OWN: PlaybookKind.OWN_BRAND,
    Brand.Kind.COMPETITOR: PlaybookKind.COMPETITOR,
}


def kind_for_brand(brand: Brand) -> str:
    """The case kind for a complaint about ``brand`` (triage and the admin's open form)."""
    return KIND_FOR_BRAND[brand.kind]


def open_case(
    post_id: int,
    brand_id: int,
    kind: str,
    *,
    actor: User | None = None,
    severity: int = Severity.NORMAL,
    incident_id: int | None = None,
    automatic: bool = False,
    now: dt.datetime | None = None,
) -> Case:
    """Open a case for the author of a post under the active playbook of ``kind``.

    ``automatic`` (triage) also applies rule 7 to opening: no more competitor
    cases per brand a day, or per incident, than the playbook lets us reply to,
    so a burst never floods the queue. Own-brand service cases have no cap:
    every customer is answered, and a customer with an open competitor case is
    served all the same: that case is put on hold (outreach/workflow/holds.py).
    """
    now = now_or(now)
    if kind not in PlaybookKind.values:
        raise WorkflowError(f"unknown case kind {kind!r}")
    if severity not in Severity.values:
        raise WorkflowError(f"unknown severity {severity!r}")
    post = Post.objects.select_related("author").get(pk=post_id)
    brand = Brand.objects.get(pk=brand_id)
    expected_brand_kind = (
        Brand.Kind.COMPETITOR if kind == PlaybookKind.COMPETITOR else Brand.Kind.OWN
    )
    if brand.kind != expected_brand_kind:
        raise WorkflowError(
            f"a {PlaybookKind(kind).label} case needs a {expected_brand_kind} brand"
        )
    playbook = Playbook.objects.filter(kind=kind, is_active=True).first()
    if playbook is None:
        raise RuleViolation(
            ONE_PLAYBOOK,
            f"there is no active {PlaybookKind(kind).label} playbook",
            reason="no_playbook",
        )
    if (
        incident_id is not None
        and not Incident.objects.filter(pk=incident_id, brand_id=brand.pk).exists()
    ):
        raise WorkflowError(f"incident #{incident_id} is not an incident about {brand}")
    person = post.author
    if Account.objects.filter(
        platform=post.platform, handle__iexact=person.handle.lstrip("@")
    ).exists():
        raise WorkflowError(f"{person} is one of our own accounts")
    if dnc_entry(post.platform, person.external_id, person.handle) is not None:
        raise RuleViolation(
            ONE_CONVERSATION, f"{person} is on the do-not-contact list", reason="do_not_contact"
        )
    freshness = dt.timedelta(hours=playbook.freshness_hours)
    if post.posted_at < now - freshness:
        raise RuleViolation(
            FRESHNESS,
            f"the post is older than the playbook's {playbook.freshness_hours} h limit",
            reason="too_old",
        )
    open_cases = Case.objects.filter(person=person, stage__in=OPEN_STAGES)
    if kind == PlaybookKind.OWN_BRAND:
        # Service first: only another own-brand case stands in the way.
        open_cases = open_cases.filter(kind=PlaybookKind.OWN_BRAND)
    if open_cases.exists():
        raise RuleViolation(
            ONE_CONVERSATION, f"{person} already has an open case", reason="in_conversation"
        )
    cooldown_start = now - dt.timedelta(days=playbook.cooldown_days)
    if Case.objects.filter(person=person, closed_at__gte=cooldown_start).exists():
        raise RuleViolation(
            ONE_CONVERSATION,
            f"{person}'s last case closed less than {playbook.cooldown_days} days ago",
            reason="cooldown",
        )
    due_at = min(now + dt.timedelta(hours=playbook.due_hours), post.posted_at + freshness)
    try:
        with transaction.atomic():
            if automatic and kind == PlaybookKind.COMPETITOR:
                cap = caps.opening(brand, playbook, incident_id, now)
                if cap is not None:
                    raise cap.violation()
            held = holds.hold_for(person.pk) if kind == PlaybookKind.OWN_BRAND else []
            case = Case.objects.create(
                post=post,
                person=person,
                brand=brand,
                platform=post.platform,
                kind=kind,
                playbook=playbook,
                due_at=due_at,
                severity=severity,
                incident_id=incident_id,
            )
            events.happened(case, action="open_case", actor=actor, note=f"{playbook}")
            holds.link(held, case, actor=actor)
    except IntegrityError as exc:
        # Two openers raced past the check above; a partial unique index decided
        # (case_one_open_per_person, or case_one_open_per_person_per_kind).
        if "case_one_open_per_person" in str(exc):
            raise RuleViolation(
                ONE_CONVERSATION, f"{person} already has an open case", reason="in_conversation"
            ) from None
        raise
    case.post, case.person, case.brand, case.playbook = post, person, brand, playbook
    return case


def assign(case: Case | int, assignee: User | None, *, actor: User | None) -> Case:
    """Give an open case to ``assignee`` (or nobody); no stage change."""
    case = _case(case)
    with transaction.atomic():
        changed = Case.objects.filter(pk=case.pk, stage__in=OPEN_STAGES).update(
            assignee_id=actor_id(assignee)
        )
        if changed != 1:
            raise TransitionNotAllowed(f"case {case.pk} is closed")
        events.happened(
            case, action="assign", actor=actor, note=f"assigned to {assignee or 'nobody'}"
        )
    case.assignee_id = actor_id(assignee)
    return case


def claim(case: Case | int, *, actor: User) -> Case:
    """Start researching a new case and take it (new -> researching)."""
    case = _case(case)
    MOVES["claim"].require(case, actor)
    _move(
        case,
        to=Stage.RESEARCHING,
        actor=actor,
        action="claim",
        fields={"assignee_id": actor_id(actor)},
    )
    return case
