"""Fixtures for the outreach tests: brands, playbooks, the three roles and a helper
that walks a case through the workflow to any stage."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.utils import timezone

from monitoring.models import Brand, Post
from outreach import workflow
from outreach.models import Case, OutboundAction, PlaybookKind, ResearchNote, Stage, text_hash
from tests.outreach.factories import (
    COMPLAINT,
    GOOD_REPLY,
    SUMMARY,
    AccountFactory,
    BrandFactory,
    PlaybookFactory,
    PostFactory,
    UserFactory,
)


@pytest.fixture
def secrets_key(settings: Any) -> str:
    """A fresh Fernet key in NOJACKAL_SECRETS_KEY (not autouse: the tone tests need no Django)."""
    key = Fernet.generate_key().decode()
    settings.NOJACKAL_SECRETS_KEY = key
    return key


@pytest.fixture
def competitor(db: None) -> Brand:
    return BrandFactory(name="Telvana", kind=Brand.Kind.COMPETITOR, aliases=["Telvana Mobile"])


@pytest.fixture
def own_brand(db: None) -> Brand:
    return BrandFactory(name="Northwind", kind=Brand.Kind.OWN, products=["Breeze"])


@pytest.fixture
def playbook(db: None) -> Any:
    return PlaybookFactory(kind=PlaybookKind.COMPETITOR, version=1, four_eyes=True)


@pytest.fixture
def own_playbook(db: None) -> Any:
    return PlaybookFactory(kind=PlaybookKind.OWN_BRAND, version=1, due_hours=2, four_eyes=False)


@pytest.fixture
def account(db: None) -> Any:
    return AccountFactory()


@pytest.fixture
def roles(db: None) -> None:
    """The groups of the data migration, made again if a transactional test flushed them."""
    from django.apps import apps
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    if Group.objects.filter(name="Reviewer", permissions__codename="approve_replydraft").exists():
        return
    # Replayed as the migrations ran: 0002 names permissions as they were then
    # (accounts still in outreach), and monitoring 0005 moves them where they are now.
    loader = MigrationLoader(connection)
    then = loader.project_state(("outreach", "0002_groups")).apps
    importlib.import_module("outreach.migrations.0002_groups").create_groups(then, None)
    # Verdicts and incidents for analysts and reviewers, classifier versions for reviewers (0003).
    then = loader.project_state(("outreach", "0003_detection_roles")).apps
    importlib.import_module("outreach.migrations.0003_detection_roles").grant(then, None)
    importlib.import_module("monitoring.migrations.0005_account_table").to_monitoring(apps, None)
    # Reviewers may add to the do-not-contact list but no longer change it (0009).
    optout = importlib.import_module("outreach.migrations.0009_opt_out_append_only")
    optout.revoke_reviewer_dnc_change(apps, None)
    # Admins see the erasure records (0010).
    importlib.import_module("outreach.migrations.0012_erasure").admins_see_erasures(apps, None)
    # Analysts and reviewers label posts (0022).
    importlib.import_module("outreach.migrations.0022_label_roles").grant(apps, None)
    # Reviewers and admins see the overrules (0023).
    overrules = importlib.import_module("outreach.migrations.0023_disclosure_overrules")
    overrules.reviewers_see_overrules(apps, None)


@pytest.fixture
def analyst(roles: None) -> Any:
    return UserFactory(username="analyst", groups=["Analyst"])


@pytest.fixture
def reviewer(roles: None) -> Any:
    return UserFactory(username="reviewer", groups=["Reviewer"])


@pytest.fixture
def reviewer2(roles: None) -> Any:
    return UserFactory(username="reviewer2", groups=["Reviewer"])


@pytest.fixture
def admin_user(roles: None) -> Any:
    return UserFactory(username="boss", groups=["Admin"])


@pytest.fixture
def post(competitor: Brand) -> Post:
    return PostFactory(text=COMPLAINT, posted_at=timezone.now() - dt.timedelta(hours=1))


@pytest.fixture
def world(competitor: Brand, own_brand: Brand, playbook: Any, account: Any) -> None:
    """Brands, an active competitor playbook and our sandbox account."""


Advance = Callable[..., Case]


@pytest.fixture
def advance(world: None, analyst: Any, reviewer: Any, competitor: Brand) -> Advance:
    """Build a case and walk it through the real moves up to ``stage``."""

    def _advance(stage: str, *, post: Post | None = None, reply: str = GOOD_REPLY) -> Case:
        post = post or PostFactory(text=COMPLAINT, posted_at=timezone.now() - dt.timedelta(hours=1))
        case = workflow.open_case(post.pk, competitor.pk, PlaybookKind.COMPETITOR)
        path = [
            (Stage.RESEARCHING, lambda: workflow.claim(case, actor=analyst)),
            (
                Stage.DRAFTING,
                lambda: (
                    workflow.save_research(
                        case,
                        actor=analyst,
                        summary=SUMMARY,
                        thread_checked=True,
                        scope=ResearchNote.Scope.ISOLATED,
                    ),
                    workflow.save_draft(case, actor=analyst, text=reply),
                ),
            ),
            (Stage.AWAITING_APPROVAL, lambda: workflow.submit_draft(case, actor=analyst)),
            (
                Stage.APPROVED,
                lambda: workflow.approve_reply(
                    case, actor=reviewer, text_hash_seen=text_hash(reply)
                ),
            ),
            (Stage.AWAITING_ENGAGEMENT, lambda: send_reply(case)),
            (
                Stage.ENGAGED,
                lambda: workflow.record_engagement(
                    case,
                    kind="reply",
                    external_id=f"n-{case.pk}",
                    occurred_at=timezone.now(),
                    text="thanks, it is a bit better today",
                ),
            ),
            (Stage.FOLLOW_REQUESTED, lambda: workflow.request_follow(case, actor=reviewer)),
            (Stage.FOLLOWED, lambda: confirm_follow(case)),
        ]
        for target, move in path:
            if case.stage == stage:
                break
            move()
            case.refresh_from_db()
            assert case.stage == target
        assert case.stage == stage
        return case

    return _advance


def confirm_follow(case: Case) -> Case:
    """What the dispatcher does once the platform confirmed our follow."""
    action = OutboundAction.objects.get(case=case, kind="follow", state="pending")
    return workflow.mark_followed(action.pk, external_id=f"followed-{case.pk}")


def send_reply(case: Case) -> Case:
    """What the dispatcher does once the platform accepted our reply."""
    action = OutboundAction.objects.get(case=case, kind="reply", state="pending")
    return workflow.mark_reply_sent(action.pk, external_id=f"sent-{case.pk}", url="")
