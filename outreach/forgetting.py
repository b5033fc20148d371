"""Erasing a person on request (``python manage.py forget_person``), for data protection.

What goes: the person's posts (deleted; those a case points at are kept as empty
rows), the team labels given on those posts or on their texts (``monitoring.labels.forget``),
their names (handle, display name, profile link, the platform's id), and
the texts of their cases: research notes, reply drafts, the outbox's texts, case
event notes, dismissal reasons, their answers to us. What stays is the audit
skeleton: the cases (stage, dates, brand, playbook, who did what), their events
and outbox rows without texts, and a do-not-contact entry that holds only salted
hashes of the platform's id and handle (``outreach/erasure.py``), so the person is
never contacted again. An ``Erasure`` record says who erased, when, and how many
rows of each kind.

The database lets the frozen rows take these changes only with the erasure on
record (``outreach/workflow/dbrules.py``): the case's ``erase`` event for its event
notes and outbox texts, the ``Erasure`` row for the do-not-contact entries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from monitoring import labels
from monitoring.models import Detection, Label, Person, Post
from monitoring.platforms import PLATFORM_CHOICES
from outreach.models import (
    ERASED,
    OPEN_STAGES,
    Case,
    CaseEvent,
    DoNotContact,
    EngagementEvent,
    Erasure,
    FindingOverrule,
    OutboundAction,
    ReplyDraft,
    ResearchNote,
    normalise_handle,
    subject_hashes,
)
from outreach.workflow import dbrules, events
from outreach.workflow.endings import dismiss
from outreach.workflow.rules import User, actor_id


class ForgetError(Exception):
    """The request cannot be carried out as asked (unknown platform or person)."""


@dataclass
class Plan:
    """One person to erase and the rows it touches, by id: what a dry run shows."""

    platform: str
    external_id: str
    handle: str
    person_ids: list[int] = field(default_factory=list)
    posts_deleted: list[int] = field(default_factory=list)
    posts_kept_empty: list[int] = field(default_factory=list)
    case_ids: list[int] = field(default_factory=list)
    open_case_ids: list[int] = field(default_factory=list)
    dnc_ids: list[int] = field(default_factory=list)
    people_deleted: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def _ids(qs: Any) -> list[int]:
    return sorted(qs.values_list("pk", flat=True))


def plan(platform: str, handle_or_id: str) -> list[Plan]:
    """What erasing the person named by ``handle_or_id`` on ``platform`` would touch.

    Raises ``ForgetError`` for an unknown platform or when no person, post or
    do-not-contact entry names them.
    """
    platforms = [code for code, _ in PLATFORM_CHOICES]
    if platform not in platforms:
        raise ForgetError(f"unknown platform {platform!r}; one of: {', '.join(platforms)}")
    value = handle_or_id.strip()
    handle = normalise_handle(value)
    if not value or not handle:
        raise ForgetError("give the person's handle or the platform's id for them")
    people = list(
        Person.objects.filter(platform=platform).filter(
            Q(external_id=value) | Q(handle__iexact=handle) | Q(handle__iexact=f"@{handle}")
        )
    )
    subjects: list[tuple[str, str, list[int]]] = [
        (p.external_id, normalise_handle(p.handle), [p.pk]) for p in people
    ]
    if not subjects:
        # Someone we only hold on the do-not-contact list (added by hand, or their posts gone).
        entry = (
            DoNotContact.objects.filter(platform=platform)
            .filter(Q(person_external_id=value) | Q(handle=handle))
            .first()
        )
        if entry is not None:
            subjects.append((entry.person_external_id, entry.handle, []))
    if not subjects:
        id_hash, handle_hash = subject_hashes(platform, value, handle)
        done = Erasure.objects.filter(platform=platform).filter(
            Q(id_hash=id_hash) | Q(handle_hash=handle_hash)
        )
        if done.exists():
            raise ForgetError(
                f"{value!r} on {platform} was already erased (erasure "
                f"{', '.join(str(e.pk) for e in done)}); nothing is left to erase"
            )
        raise ForgetError(f"no person with the handle or id {value!r} on {platform}")
    return [_plan_one(platform, *subject) for subject in subjects]


def _plan_one(platform: str, external_id: str, handle: str, person_ids: list[int]) -> Plan:
    p = Plan(platform=platform, external_id=external_id, handle=handle, person_ids=person_ids)
    posts = Post.objects.filter(author_id__in=person_ids)
    held = posts.filter(cases__isnull=False).distinct()
    p.posts_kept_empty = _ids(held)
    p.posts_deleted = _ids(posts.exclude(pk__in=p.posts_kept_empty))
    cases = Case.objects.filter(Q(person_id__in=person_ids) | Q(post_id__in=p.posts_kept_empty))
    p.case_ids = _ids(cases)
    p.open_case_ids = _ids(cases.filter(stage__in=OPEN_STAGES))
    p.people_deleted = _ids(
        Person.objects.filter(pk__in=person_ids).exclude(
            Q(cases__isnull=False) | Q(posts__pk__in=p.posts_kept_empty)
        )
    )
    dnc = DoNotContact.objects.filter(platform=platform, id_hash="", handle_hash="")
    names = Q(pk__in=[])
    if external_id:
        names |= Q(person_external_id=external_id)
    if handle:
        names |= Q(handle=handle)
    p.dnc_ids = _ids(dnc.filter(names))
    in_cases = Q(case_id__in=p.case_ids)
    outbox = OutboundAction.objects.filter(in_cases)
    p.counts = {
        "people_deleted": len(p.people_deleted),
        "people_kept_without_names": len(person_ids) - len(p.people_deleted),
        "posts_deleted": len(p.posts_deleted),
        "posts_kept_empty": len(p.posts_kept_empty),
        "labels_deleted": _labels_of(p).count(),
        "cases": len(p.case_ids),
        "open_cases_dismissed": len(p.open_case_ids),
        "research_notes": ResearchNote.objects.filter(in_cases).count(),
        "reply_drafts": ReplyDraft.objects.filter(in_cases).count(),
        "engagement_events": EngagementEvent.objects.filter(in_cases).count(),
        "case_event_notes": CaseEvent.objects.filter(in_cases).exclude(note="").count(),
        # Queued rows are cancelled with their case, then erased like finished ones.
        "outbox_texts": outbox.exclude(state=OutboundAction.State.SENDING).count(),
        "outbox_rows_being_sent": outbox.filter(state=OutboundAction.State.SENDING).count(),
        "do_not_contact_entries_hashed": len(p.dnc_ids),
    }
    return p


def _post_ids(p: Plan) -> list[int]:
    return [*p.posts_deleted, *p.posts_kept_empty]


def _post_texts(p: Plan) -> list[str]:
    return list(Post.objects.filter(pk__in=_post_ids(p)).values_list("text", flat=True))


def _labels_of(p: Plan) -> Any:
    """The labels ``labels.forget`` deletes for this plan (for the dry run's count)."""
    keys = {labels.text_key(t) for t in _post_texts(p) if t.strip()}
    return Label.objects.filter(Q(post_id__in=_post_ids(p)) | Q(text_key__in=keys))


def _erased_id(erasure: Erasure) -> Concat:
    """A unique stand-in for an erased external id: ``erased-<erasure>-<row id>``."""
    return Concat(Value(f"erased-{erasure.pk}-"), Cast("id", CharField()))


def forget(p: Plan, *, actor: User | None = None, operator: str = "", note: str = "") -> Erasure:
    """Carry out one plan in one transaction and return its ``Erasure`` record."""
    now = timezone.now()
    id_hash, handle_hash = subject_hashes(p.platform, p.external_id, p.handle)
    if p.counts["outbox_rows_being_sent"]:
        # Its text is checked against the draft at send time, and the platform's answer
        # is still to be recorded: erase once the dispatcher is done with it.
        raise ForgetError(
            "a send to this person is in flight right now; nothing was changed: run the "
            "command again in a minute"
        )
    with transaction.atomic():
        for case_id in p.open_case_ids:
            dismiss(case_id, actor=actor, reason="the person's data was erased on request")
        # The record first: the database lets the frozen rows change only once it exists.
        erasure = Erasure.objects.create(
            platform=p.platform,
            id_hash=id_hash,
            handle_hash=handle_hash,
            actor_id=actor_id(actor),
            operator=operator[:150],
            note=note,
            counts=p.counts,
        )
        for case in Case.objects.filter(pk__in=p.case_ids):
            events.happened(
                case, action=dbrules.ERASE_ACTION, actor=actor, note=f"erasure {erasure.pk}"
            )
        _erase_case_texts(p.case_ids, erasure)
        _hash_dnc(p, erasure, actor)
        # Before the posts go: their deletion would only unlink the labels (SET_NULL).
        labels.forget(_post_ids(p), _post_texts(p))
        Post.objects.filter(pk__in=p.posts_deleted).delete()
        Post.objects.filter(pk__in=p.posts_kept_empty).update(
            text="",
            raw={},
            url="",
            in_reply_to="",
            external_id=_erased_id(erasure),
            redacted_at=now,
        )
        Detection.objects.filter(post_id__in=p.posts_kept_empty).update(triage_note="")
        Person.objects.filter(pk__in=p.people_deleted).delete()
        Person.objects.filter(pk__in=p.person_ids).update(
            handle="",
            display_name="",
            profile_url="",
            external_id=_erased_id(erasure),
            redacted_at=now,
        )
    return erasure


def _erase_case_texts(case_ids: Iterable[int], erasure: Erasure) -> None:
    in_cases = Q(case_id__in=list(case_ids))
    ResearchNote.objects.filter(in_cases).update(summary="")
    ReplyDraft.objects.filter(in_cases).update(
        text=ERASED, tone_findings=[], rejection_note="", rejected_text=""
    )
    # A reviewer's reason for overruling a finding may quote the person; the code stays.
    FindingOverrule.objects.filter(in_cases).exclude(reason="").update(reason=ERASED)
    EngagementEvent.objects.filter(in_cases).update(
        text="", payload={}, external_id=_erased_id(erasure)
    )
    Case.objects.filter(pk__in=list(case_ids)).exclude(dismiss_reason="").update(
        dismiss_reason=ERASED
    )
    CaseEvent.objects.filter(in_cases).exclude(action=dbrules.ERASE_ACTION).exclude(note="").update(
        note=""
    )
    outbox = OutboundAction.objects.filter(in_cases, state__in=dbrules.ERASABLE_OUTBOX_STATES)
    outbox.exclude(text="").update(text=ERASED, in_reply_to="")
    outbox.filter(text="").update(in_reply_to="")


def _hash_dnc(p: Plan, erasure: Erasure, actor: User | None) -> None:
    """The person's entries trade names for hashes; one in force is added if none is."""
    DoNotContact.objects.filter(pk__in=p.dnc_ids).update(
        person_external_id="",
        handle="",
        id_hash=erasure.id_hash,
        handle_hash=erasure.handle_hash,
        reason=ERASED,
    )
    hashed = DoNotContact.objects.in_force().filter(
        platform=p.platform, id_hash=erasure.id_hash, handle_hash=erasure.handle_hash
    )
    if not hashed.exists():
        DoNotContact.objects.create(
            platform=p.platform,
            id_hash=erasure.id_hash,
            handle_hash=erasure.handle_hash,
            reason=f"erased on request (erasure {erasure.pk}); never contact again",
            added_by_id=actor_id(actor),
        )
