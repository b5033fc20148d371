"""The rules hold when moves come from Celery tasks (eager mode, real broker config)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import OperationalError
from django.utils import timezone

from monitoring.models import Brand, Post
from outreach import tasks, workflow
from outreach.models import Case, DoNotContact, OutboundAction, Playbook, PlaybookKind, Stage
from outreach.workflow import triage as triage_module
from tests.factories import DetectionFactory
from tests.outreach.factories import COMPLAINT, PostFactory

pytestmark = pytest.mark.django_db


def complaint(brand: Brand, post: Post | None = None) -> int:
    """A pending complaint verdict about ``brand``: what the open_case task is given."""
    return DetectionFactory(post=post or PostFactory(text=COMPLAINT), brand=brand).pk


def test_open_case_task_opens_a_case(world: None, competitor: Brand) -> None:
    case_id = tasks.open_case.delay(complaint(competitor)).get()
    case = Case.objects.get(pk=case_id)
    assert (case.stage, case.kind) == (Stage.NEW, PlaybookKind.COMPETITOR)


def test_open_case_task_takes_the_kind_from_the_stored_verdict(
    world: None, own_brand: Brand, own_playbook: Any
) -> None:
    case_id = tasks.open_case.delay(complaint(own_brand)).get()
    assert Case.objects.get(pk=case_id).kind == PlaybookKind.OWN_BRAND


def test_open_case_task_twice_opens_one_case(world: None, competitor: Brand) -> None:
    detection_id = complaint(competitor)
    assert tasks.open_case.delay(detection_id).get() is not None
    assert tasks.open_case.delay(detection_id).get() is None
    assert Case.objects.count() == 1


def test_task_moves_are_audited_without_a_person(advance: Any) -> None:
    from outreach.models import CaseEvent

    case = advance(Stage.ENGAGED)
    tasks.follow_after_engagement.delay(case.pk).get()
    event = CaseEvent.objects.filter(case=case).last()
    assert event is not None
    assert (event.action, event.origin, event.target, event.actor_id) == (
        "request_follow",
        Stage.ENGAGED,
        Stage.FOLLOW_REQUESTED,
        None,
    )


def test_open_case_task_respects_do_not_contact(world: None, competitor: Brand) -> None:
    post = PostFactory(text=COMPLAINT)
    DoNotContact.objects.create(
        platform="sandbox", person_external_id=post.author.external_id, reason="x"
    )
    assert tasks.open_case.delay(complaint(competitor, post)).get() is None
    assert not Case.objects.exists()


def test_open_case_task_refuses_a_second_open_case(advance: Any, competitor: Brand) -> None:
    case = advance(Stage.NEW)
    again = PostFactory(author=case.person, text=COMPLAINT)
    assert tasks.open_case.delay(complaint(competitor, again)).get() is None
    assert Case.objects.filter(person=case.person).count() == 1


def test_open_case_task_refuses_stale_posts(world: None, competitor: Brand) -> None:
    post = PostFactory(text=COMPLAINT, posted_at=timezone.now() - dt.timedelta(days=4))
    assert tasks.open_case.delay(complaint(competitor, post)).get() is None


def test_open_case_task_refuses_without_an_active_playbook(world: None, competitor: Brand) -> None:
    Playbook.objects.update(is_active=False)
    assert tasks.open_case.delay(complaint(competitor)).get() is None


def test_follow_task_before_engagement_is_refused(advance: Any) -> None:
    case = advance(Stage.AWAITING_ENGAGEMENT)
    assert tasks.follow_after_engagement.delay(case.pk).get() is None
    assert not OutboundAction.objects.filter(case=case, kind="follow").exists()


def test_follow_task_after_engagement_queues_one_follow(advance: Any) -> None:
    case = advance(Stage.ENGAGED)
    assert tasks.follow_after_engagement.delay(case.pk).get() is not None
    assert tasks.follow_after_engagement.delay(case.pk).get() is None  # safe to run twice
    assert OutboundAction.objects.filter(case=case, kind="follow").count() == 1


def test_expiry_tick_expires_only_stale_unreplied_cases(advance: Any) -> None:
    # given a drafting case and a case whose reply went out
    drafting = advance(Stage.DRAFTING)
    replied = advance(Stage.AWAITING_ENGAGEMENT)
    # when the tick runs after the freshness limit
    with time_machine.travel(timezone.now() + dt.timedelta(hours=73)):
        assert tasks.expire_cases.delay().get()["expired"] == 1
    # then only the unreplied one expired
    drafting.refresh_from_db(), replied.refresh_from_db()
    assert drafting.stage == Stage.EXPIRED
    assert replied.stage == Stage.AWAITING_ENGAGEMENT


def test_no_response_tick_closes_silent_cases_after_the_window(advance: Any) -> None:
    case = advance(Stage.AWAITING_ENGAGEMENT)
    assert tasks.expire_cases.delay().get()["no_response"] == 0
    with time_machine.travel(timezone.now() + dt.timedelta(days=8)):
        assert tasks.expire_cases.delay().get()["no_response"] == 1
    case.refresh_from_db()
    assert case.stage == Stage.NO_RESPONSE


def test_tasks_retry_only_database_outages() -> None:
    every_task = [
        tasks.open_case,
        tasks.expire_cases,
        tasks.follow_after_engagement,
        tasks.send_action,
        tasks.dispatch_due_actions,
        tasks.read_notifications,
        tasks.read_all_notifications,
    ]
    for task in every_task:
        assert task.autoretry_for == (OperationalError,)
        assert Exception not in task.autoretry_for


def test_a_refusal_is_not_retried(world: None, competitor: Brand, monkeypatch: Any) -> None:
    calls: list[int] = []

    def refuse(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        raise workflow.RuleViolation(workflow.ONE_CONVERSATION, "no")

    monkeypatch.setattr(triage_module, "open_case", refuse)
    assert tasks.open_case.delay(complaint(competitor)).get() is None
    assert calls == [1]
