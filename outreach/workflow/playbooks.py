"""Playbooks (rule 11): versioned, edited with a permission, never in place."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import transaction

from monitoring.models import Brand
from outreach.limits import CAP_CEILINGS, CAP_SETTINGS
from outreach.models import (
    Playbook,
    PlaybookKind,
)
from outreach.workflow.rules import (
    MAX_NOTE_CHARS,
    NO_PILE_ON,
    ONE_CONVERSATION,
    ONE_PLAYBOOK,
    PLAYBOOK_PERMISSION,
    RuleViolation,
    User,
    WorkflowError,
    actor_id,
)

PLAYBOOK_EDITABLE_FIELDS = (
    "name",
    "guidance",
    "reply_templates",
    "freshness_hours",
    "due_hours",
    "engagement_window_days",
    "cooldown_days",
    "max_replies_per_brand_per_day",
    "max_replies_per_incident",
    "max_replies_per_account_per_hour",
    "four_eyes",
    "auto_follow",
    "disclosure",
    "alert_opt_out_percent",
    "alert_stop_percent",
    "alert_block_percent",
    "alert_no_response_percent",
    "min_recall_percent",
)


def recall_floors() -> dict[str, float]:
    """{brand kind: recall floor 0-1} from the active playbooks that set one (issue #17).

    Named by ``NOJACKAL_RECALL_FLOORS``: training (monitoring/versions.py) chooses each
    brand's threshold to find at least this share of the complaints about it.
    """
    kinds: dict[str, str] = {
        PlaybookKind.OWN_BRAND: Brand.Kind.OWN,
        PlaybookKind.COMPETITOR: Brand.Kind.COMPETITOR,
    }
    rows = Playbook.objects.filter(is_active=True).values_list("kind", "min_recall_percent")
    return {
        kinds[kind]: percent / 100
        for kind, percent in rows
        if kind in kinds and percent is not None
    }


def limit_problems(kind: str, values: Mapping[str, Any]) -> dict[str, str]:
    """What in ``values`` crosses the limits no playbook may cross, by field (rules 6 and 7).

    The settings may only be stricter than outreach/limits.py, which the database checks.
    """
    problems: dict[str, str] = {}
    floor = settings.NOJACKAL_MIN_COOLDOWN_DAYS
    cooldown = values.get("cooldown_days")
    if cooldown is not None and cooldown < floor:
        problems["cooldown_days"] = (
            f"the cooldown cannot be shorter than {floor} days ({ONE_CONVERSATION})"
        )
    if kind != PlaybookKind.OWN_BRAND:
        for name, hard in CAP_CEILINGS.items():
            ceiling = min(hard, getattr(settings, CAP_SETTINGS[name], hard))
            value = values.get(name)
            if value is not None and value > ceiling:
                problems[name] = f"this cap cannot be raised above {ceiling} ({NO_PILE_ON})"
    return problems


def _refuse_beyond_limits(kind: str, values: Mapping[str, Any]) -> None:
    problems = limit_problems(kind, values)
    if problems:
        rule = ONE_CONVERSATION if "cooldown_days" in problems else NO_PILE_ON
        raise RuleViolation(rule, "; ".join(problems.values()))


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def playbook_changes(before: Playbook, values: Mapping[str, Any]) -> list[str]:
    """The fields ``values`` changes, one "field: before -> after" line each."""
    return [
        f"{name}: {_shown(getattr(before, name))} -> {_shown(value)}"
        for name, value in values.items()
        if getattr(before, name) != value
    ]


def _change_note(note: str, changes: list[str]) -> str:
    """The reason as written, then what changed (kept whole: the diff is the audit)."""
    diff = "\n".join(changes) if changes else "no field changed"
    return f"{note.strip()[:MAX_NOTE_CHARS]}\n\nChanged:\n{diff}"


def edit_playbook(
    playbook: Playbook | int, *, actor: User, note: str, changes: Mapping[str, Any]
) -> Playbook:
    """Make a new active version of a playbook with ``changes``; the old one retires.

    Cases keep the version they started under. Needs the change_playbook permission.
    """
    if actor is None or not actor.is_authenticated or not actor.has_perm(PLAYBOOK_PERMISSION):
        raise RuleViolation(
            ONE_PLAYBOOK, "editing the playbook needs the change_playbook permission"
        )
    unknown = set(changes) - set(PLAYBOOK_EDITABLE_FIELDS)
    if unknown:
        raise WorkflowError(f"these playbook fields cannot be edited: {', '.join(sorted(unknown))}")
    if not note.strip():
        raise WorkflowError("say what changed and why")
    pk = playbook.pk if isinstance(playbook, Playbook) else playbook
    with transaction.atomic():
        current = Playbook.objects.select_for_update().get(pk=pk)
        if not current.is_active:
            raise RuleViolation(ONE_PLAYBOOK, f"{current} is retired; edit the active version")
        values = {name: getattr(current, name) for name in PLAYBOOK_EDITABLE_FIELDS}
        values.update(changes)
        _refuse_beyond_limits(current.kind, values)
        Playbook.objects.filter(pk=current.pk).update(is_active=False)
        new = Playbook(
            kind=current.kind,
            version=current.version + 1,
            is_active=True,
            previous=current,
            change_note=_change_note(note, playbook_changes(current, values)),
            created_by_id=actor.pk,
            **values,
        )
        new.full_clean(exclude=["previous", "created_by"])
        new.save()
    return new


def create_playbook(*, actor: User | None, kind: str, **values: Any) -> Playbook:
    """The first version of a kind's playbook (refused when one is already active)."""
    if actor is not None and not actor.has_perm(PLAYBOOK_PERMISSION):
        raise RuleViolation(
            ONE_PLAYBOOK, "creating a playbook needs the change_playbook permission"
        )
    _refuse_beyond_limits(kind, values)
    if Playbook.objects.filter(kind=kind, is_active=True).exists():
        raise RuleViolation(ONE_PLAYBOOK, f"a {kind} playbook is active already; edit it instead")
    last = Playbook.objects.filter(kind=kind).order_by("-version").first()
    playbook = Playbook(
        kind=kind,
        version=(last.version + 1) if last else 1,
        is_active=True,
        created_by_id=actor_id(actor),
        change_note="first version" if last is None else "new playbook",
        **values,
    )
    playbook.full_clean(exclude=["previous", "created_by"])
    playbook.save()
    return playbook
