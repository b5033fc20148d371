"""Migration 0010: a case that read "followed" while its follow was still queued reads
"follow requested", with the change in its history; a sent follow stays "followed"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.factories import AccountFactory, PostFactory

BEFORE = [("outreach", "0009_opt_out_append_only")]
AFTER = [("outreach", "0015_conversation_rules")]


@pytest.fixture
def executor(transactional_db: None) -> Iterator[MigrationExecutor]:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def _followed_case(apps: Any, playbook: Any, account: Any, follow_state: str) -> Any:
    post = PostFactory()
    case = apps.get_model("outreach", "Case").objects.create(
        post_id=post.pk,
        person_id=post.author_id,
        brand_id=apps.get_model("monitoring", "Brand").objects.create(name=f"B{post.pk}").pk,
        platform="sandbox",
        kind="competitor",
        stage="followed",
        playbook_id=playbook.pk,
        due_at=timezone.now() + dt.timedelta(hours=4),
    )
    apps.get_model("outreach", "CaseEvent").objects.create(
        case_id=case.pk, action="request_follow", origin="engaged", target="followed"
    )
    apps.get_model("outreach", "OutboundAction").objects.create(
        case_id=case.pk,
        kind="follow",
        account_id=account.pk,
        idempotency_key=f"follow-{case.pk}",
        not_before=timezone.now(),
        state=follow_state,
    )
    return case


def test_a_follow_still_queued_reads_follow_requested_after_the_migration(
    executor: MigrationExecutor,
) -> None:
    old = executor.loader.project_state(BEFORE).apps
    # The playbook as it was then (later migrations add columns the factory would write).
    playbook = old.get_model("outreach", "Playbook").objects.create(
        kind="competitor", version=1, name="competitor playbook"
    )
    account = AccountFactory()
    queued = _followed_case(old, playbook, account, "pending")
    sent = _followed_case(old, playbook, account, "pending")
    old.get_model("outreach", "OutboundAction").objects.filter(case_id=sent.pk).update(state="sent")
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    Case = new.get_model("outreach", "Case")
    assert Case.objects.get(pk=queued.pk).stage == "follow_requested"
    assert Case.objects.get(pk=sent.pk).stage == "followed"
    last = new.get_model("outreach", "CaseEvent").objects.filter(case_id=queued.pk).last()
    assert (last.action, last.origin, last.target) == (
        "follow_still_queued",
        "followed",
        "follow_requested",
    )
