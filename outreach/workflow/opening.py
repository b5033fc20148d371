"""Opening a case, assigning it and claiming it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q

from monitoring.models import Account, Brand, Incident, Post
from outreach import rollups
from outreach.erasure import salt as erasure_salt
from outreach.models import (
    OPEN_STAGES,
    Case,
    DoNotContact,
    Playbook,
    PlaybookKind,
    Severity,
    Stage,
    normalise_handle,
    subject_hash,
)
from outreach.workflow import caps, events, holds
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


@dataclass
class Batch:
    """What opening cases for a batch of posts needs to know, read once for the whole batch.

    Triage opens cases for up to a detection batch of posts at a time: reading the
    people's cases, the do-not-contact list, our accounts and the playbooks once
    for all of them keeps ``open_case`` at a fixed number of queries per post
    (the cap count under its lock, the case and its audit row), whatever the
    history; the dashboard's count of them is one statement for the batch
    (``opened``). ``open_case`` keeps the sets up to date as it opens cases, so a
    later post of the same person in the batch is refused as it would be one by one.
    """

    posts: dict[int, Post]
    brands: dict[int, Brand]
    playbooks: dict[str, Playbook]
    incident_brands: dict[int, int]
    our_handles: set[tuple[str, str]]
    blocked_ids: set[tuple[str, str]]
    blocked_handles: set[tuple[str, str]]
    open_people: set[int]
    open_own_brand: set[int] = field(default_factory=set)
    last_closed: dict[int, dt.datetime] = field(default_factory=dict)
    # The same for own-brand cases only: the cooldown that applies to serving a person.
    last_closed_own_brand: dict[int, dt.datetime] = field(default_factory=dict)
    # The dashboard's count of the cases opened, when the batch's owner writes it in one
    # statement (triage: ``flush`` at the end of its transaction); None: each at once.
    opened: rollups.Tally | None = None

    @classmethod
    def read(cls, posts: Sequence[Post], incident_ids: Iterable[int | None] = ()) -> Batch:
        """Read everything for ``posts`` (with their authors loaded): seven queries at most."""
        people = {p.author_id: p.author for p in posts}
        external = {(p.platform, p.author.external_id) for p in posts if p.author.external_id}
        handles = {(p.platform, normalise_handle(p.author.handle)) for p in posts}
        blocked_ids: set[tuple[str, str]] = set()
        blocked_handles: set[tuple[str, str]] = set()
        if posts:
            entries = DoNotContact.objects.in_force().filter(
                platform__in={p.platform for p in posts}
            )
            # An erased person's entry holds only salted hashes of their id and handle.
            salt = erasure_salt()
            id_hashes = {
                subject_hash(platform, "id", e, salt=salt): (platform, e)
                for platform, e in external
            }
            handle_hashes = {
                subject_hash(platform, "handle", h, salt=salt): (platform, h)
                for platform, h in handles
                if h
            }
            match = (
                Q(person_external_id__in={e for _, e in external if e})
                | Q(handle__in={h for _, h in handles if h})
                | Q(id_hash__in=[h for h in id_hashes if h])
                | Q(handle_hash__in=[h for h in handle_hashes if h])
            )
            for platform, external_id, handle, id_hash, handle_hash in entries.filter(
                match
            ).values_list("platform", "person_external_id", "handle", "id_hash", "handle_hash"):
                if external_id:
                    blocked_ids.add((platform, external_id))
                if handle:
                    blocked_handles.add((platform, normalise_handle(handle)))
                if id_hash in id_hashes:
                    blocked_ids.add(id_hashes[id_hash])
                if handle_hash in handle_hashes:
                    blocked_handles.add(handle_hashes[handle_hash])
        open_people: set[int] = set()
        open_own_brand: set[int] = set()
        last_closed: dict[int, dt.datetime] = {}
        last_closed_own_brand: dict[int, dt.datetime] = {}
        if people:
            # One pass over the people's own cases (the case_person_closed index).
            rows = (
                Case.objects.filter(person_id__in=list(people))
                .filter(Q(stage__in=OPEN_STAGES) | Q(closed_at__isnull=False))
                .values("person_id")
                .annotate(
                    open=Count("pk", filter=Q(stage__in=OPEN_STAGES)),
                    open_own_brand=Count(
                        "pk", filter=Q(stage__in=OPEN_STAGES, kind=PlaybookKind.OWN_BRAND)
                    ),
                    closed=Max("closed_at"),
                    closed_own_brand=Max("closed_at", filter=Q(kind=PlaybookKind.OWN_BRAND)),
                )
                .order_by()
            )
            for row in rows:
                if row["open"]:
                    open_people.add(row["person_id"])
                if row["open_own_brand"]:
                    open_own_brand.add(row["person_id"])
                if row["closed"] is not None:
                    last_closed[row["person_id"]] = row["closed"]
                if row["closed_own_brand"] is not None:
                    last_closed_own_brand[row["person_id"]] = row["closed_own_brand"]
        wanted_incidents = {pk for pk in incident_ids if pk is not None}
        return cls(
            posts={p.pk: p for p in posts},
            brands={b.pk: b for b in Brand.objects.all()},
            playbooks={p.kind: p for p in Playbook.objects.filter(is_active=True)},
            incident_brands=dict(
                Incident.objects.filter(pk__in=wanted_incidents).values_list("pk", "brand_id")
            )
            if wanted_incidents
            else {},
            our_handles={
                (platform, handle.lstrip("@").lower())
                for platform, handle in Account.objects.values_list("platform", "handle")
            },
            blocked_ids=blocked_ids,
            blocked_handles=blocked_handles,
            open_people=open_people,
            open_own_brand=open_own_brand,
            last_closed=last_closed,
            last_closed_own_brand=last_closed_own_brand,
        )

    def on_do_not_contact(self, post: Post) -> bool:
        person = post.author
        if person.external_id and (post.platform, person.external_id) in self.blocked_ids:
            return True
        handle = normalise_handle(person.handle)
        return bool(handle) and (post.platform, handle) in self.blocked_handles


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
    batch: Batch | None = None,
) -> Case:
    """Open a case for the author of a post under the active playbook of ``kind``.

    ``automatic`` (triage) also applies rule 7 to opening: no more competitor
    cases per brand a day, or per incident, than the playbook lets us reply to,
    so a burst never floods the queue. Own-brand service cases have no cap:
    every customer is answered, and a customer with an open competitor case is
    served all the same: that case is put on hold (outreach/workflow/holds.py).

    ``batch`` (triage) holds what was read for every post of a batch at once
    (``Batch.read``); without it, the same is read for this one post.
    """
    now = now_or(now)
    if kind not in PlaybookKind.values:
        raise WorkflowError(f"unknown case kind {kind!r}")
    if severity not in Severity.values:
        raise WorkflowError(f"unknown severity {severity!r}")
    if batch is None or post_id not in batch.posts:
        post = Post.objects.select_related("author").get(pk=post_id)
        batch = Batch.read([post], [incident_id])
    post = batch.posts[post_id]
    brand = batch.brands.get(brand_id)
    if brand is None:
        raise Brand.DoesNotExist(f"no brand #{brand_id}")
    expected_brand_kind = (
        Brand.Kind.COMPETITOR if kind == PlaybookKind.COMPETITOR else Brand.Kind.OWN
    )
    if brand.kind != expected_brand_kind:
        raise WorkflowError(
            f"a {PlaybookKind(kind).label} case needs a {expected_brand_kind} brand"
        )
    playbook = batch.playbooks.get(kind)
    if playbook is None:
        raise RuleViolation(
            ONE_PLAYBOOK,
            f"there is no active {PlaybookKind(kind).label} playbook",
            reason="no_playbook",
        )
    if incident_id is not None and batch.incident_brands.get(incident_id) != brand.pk:
        raise WorkflowError(f"incident #{incident_id} is not an incident about {brand}")
    person = post.author
    if (post.platform, person.handle.lstrip("@").lower()) in batch.our_handles:
        raise WorkflowError(f"{person} is one of our own accounts")
    if batch.on_do_not_contact(post):
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
    # Service first: for an own-brand case only another own-brand case stands in the way
    # (an open competitor case is put on hold below).
    busy = batch.open_own_brand if kind == PlaybookKind.OWN_BRAND else batch.open_people
    if person.pk in busy:
        raise RuleViolation(
            ONE_CONVERSATION, f"{person} already has an open case", reason="in_conversation"
        )
    # The cooldown keeps our outreach away from a person we just talked to, whatever about;
    # it never turns a customer away because a competitor case of theirs closed lately
    # (an open one does not either): service waits only for the last own-brand case.
    closed = batch.last_closed_own_brand if kind == PlaybookKind.OWN_BRAND else batch.last_closed
    cooldown_start = now - dt.timedelta(days=playbook.cooldown_days)
    last_closed = closed.get(person.pk)
    if last_closed is not None and last_closed >= cooldown_start:
        raise RuleViolation(
            ONE_CONVERSATION,
            f"{person}'s last case closed less than {playbook.cooldown_days} days ago",
            reason="cooldown",
        )
    due_at = min(now + dt.timedelta(hours=playbook.due_hours), post.posted_at + freshness)
    # Counted into the batch's tally only once the case stands (its savepoint released).
    counted = rollups.Tally() if batch.opened is not None else None
    try:
        with transaction.atomic():
            if automatic and kind == PlaybookKind.COMPETITOR:
                cap = caps.opening(brand, playbook, incident_id, now)
                if cap is not None:
                    raise cap.violation()
            # Only a person with an open case when the batch was read can have a competitor
            # case to hold (a race past the read is caught below).
            holding = kind == PlaybookKind.OWN_BRAND and person.pk in batch.open_people
            held = holds.hold_for(person.pk) if holding else []
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
            events.happened(
                case, action="open_case", actor=actor, note=f"{playbook}", tally=counted
            )
            holds.link(held, case, actor=actor)
    except IntegrityError as exc:
        # Two openers raced past the check above; a partial unique index decided
        # (case_one_open_per_person, or case_one_open_per_person_per_kind).
        if "case_one_open_per_person" in str(exc):
            if kind == PlaybookKind.OWN_BRAND and person.pk not in batch.open_people:
                # A competitor case opened since the batch was read: service first, so
                # once more, putting it on hold (a second refusal is final).
                batch.open_people.add(person.pk)
                return open_case(
                    post_id,
                    brand_id,
                    kind,
                    actor=actor,
                    severity=severity,
                    incident_id=incident_id,
                    automatic=automatic,
                    now=now,
                    batch=batch,
                )
            raise RuleViolation(
                ONE_CONVERSATION, f"{person} already has an open case", reason="in_conversation"
            ) from None
        raise
    if batch.opened is not None and counted is not None:
        batch.opened.merge(counted)
    batch.open_people.add(person.pk)
    if kind == PlaybookKind.OWN_BRAND:
        batch.open_own_brand.add(person.pk)
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
