"""Guards the database holds by itself, and the groups the data migration creates."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone

from outreach.demo import seed_demo
from outreach.models import (
    Case,
    DoNotContact,
    EngagementEvent,
    Playbook,
    ReplyDraft,
    ResearchNote,
    Stage,
)
from tests.outreach.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


def _fails(constraint: str, fn: Any) -> None:
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        fn()


def test_an_unknown_stage_is_refused_by_the_database(world: None) -> None:
    case = CaseFactory()
    _fails(
        "case_stage_valid|case_closed_at_matches_stage",
        lambda: Case.objects.filter(pk=case.pk).update(stage="pestering"),
    )


def test_a_closed_case_needs_closed_at_and_an_open_one_must_not_have_it(world: None) -> None:
    case = CaseFactory()
    _fails(
        "case_closed_at_matches_stage",
        lambda: Case.objects.filter(pk=case.pk).update(stage=Stage.EXPIRED),
    )
    _fails(
        "case_closed_at_matches_stage",
        lambda: Case.objects.filter(pk=case.pk).update(closed_at=timezone.now()),
    )


def test_a_dismissal_without_a_reason_is_refused_by_the_database(world: None) -> None:
    case = CaseFactory()
    _fails(
        "case_dismissal_has_reason",
        lambda: Case.objects.filter(pk=case.pk).update(
            stage=Stage.DISMISSED, closed_at=timezone.now()
        ),
    )


def test_one_first_reply_draft_per_case(world: None) -> None:
    case = CaseFactory()
    user = UserFactory()
    ReplyDraft.objects.create(case=case, text="a", author=user)
    _fails(
        "draft_one_first_reply", lambda: ReplyDraft.objects.create(case=case, text="b", author=user)
    )


def test_a_half_approval_is_refused_by_the_database(world: None) -> None:
    case = CaseFactory()
    user = UserFactory()
    draft = ReplyDraft.objects.create(case=case, text="a", author=user)
    _fails(
        "draft_approval_complete",
        lambda: ReplyDraft.objects.filter(pk=draft.pk).update(
            approved_by=user, approved_at=timezone.now()
        ),
    )


def test_research_for_an_incident_names_it_in_the_database(world: None) -> None:
    case = CaseFactory()
    _fails(
        "research_incident_named",
        lambda: ResearchNote.objects.create(case=case, scope="incident", author=UserFactory()),
    )


def test_an_engagement_is_recorded_once_per_platform_id(world: None) -> None:
    case = CaseFactory()
    now = timezone.now()
    EngagementEvent.objects.create(
        case=case, platform="sandbox", kind="reply", external_id="1", occurred_at=now
    )
    _fails(
        "engagement_unique_per_platform",
        lambda: EngagementEvent.objects.create(
            case=case, platform="sandbox", kind="reply", external_id="1", occurred_at=now
        ),
    )


def test_do_not_contact_is_unique_and_names_someone() -> None:
    DoNotContact.objects.create(platform="sandbox", handle="@Ann", reason="x")
    _fails(
        "dnc_unique_handle",
        lambda: DoNotContact.objects.create(platform="sandbox", handle="ann", reason="y"),
    )
    _fails(
        "dnc_names_someone",
        lambda: DoNotContact.objects.create(platform="sandbox", reason="nobody"),
    )


def test_the_three_groups_exist_with_their_permissions() -> None:
    analyst = set(Group.objects.get(name="Analyst").permissions.values_list("codename", flat=True))
    reviewer = set(
        Group.objects.get(name="Reviewer").permissions.values_list("codename", flat=True)
    )
    admin = set(Group.objects.get(name="Admin").permissions.values_list("codename", flat=True))
    assert "change_case" in analyst and "approve_replydraft" not in analyst
    assert "change_playbook" not in analyst
    assert {"approve_replydraft", "change_playbook"} <= reviewer and analyst <= reviewer
    assert {
        "change_account",
        "change_source",
        "change_brand",
        "change_user",
        "approve_replydraft",
    } <= admin


def test_seed_demo_is_idempotent_and_sets_up_the_roles(monkeypatch: Any) -> None:
    monkeypatch.setenv("NOJACKAL_DEMO_PASSWORD", "pw-for-demo")
    out = io.StringIO()
    seed_demo(out)
    seed_demo(out)
    User = get_user_model()
    for username, group in (("analyst", "Analyst"), ("reviewer", "Reviewer"), ("admin", "Admin")):
        user = User.objects.get(username=username)
        assert user.is_staff and user.check_password("pw-for-demo")
        assert list(user.groups.values_list("name", flat=True)) == [group]
    assert User.objects.get(username="reviewer").has_perm("outreach.approve_replydraft")
    assert not User.objects.get(username="analyst").has_perm("outreach.approve_replydraft")
    assert Playbook.objects.filter(is_active=True).count() == 2
    assert Playbook.objects.count() == 2
    assert "already in place" in out.getvalue()
