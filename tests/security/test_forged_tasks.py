"""Attack: task messages are trusted (issue #12, attack 2).

The reproduced attack queued ``record_engagement(case_id, "follow", "made-up-id",
...)``: the case moved to engaged on an invented engagement and a follow was
requested and sent to a person who never engaged. Anyone who can write to the
broker can send any task with any arguments; these tests send them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from celery import current_app
from django.utils import timezone

from config.celery import app
from monitoring import limits
from monitoring import tasks as monitoring_tasks
from outreach import tasks
from outreach.models import Case, CaseEvent, EngagementEvent, OutboundAction, Stage
from tests.factories import DetectionFactory
from tests.outreach.test_engagement import read, replied  # noqa: F401

pytestmark = pytest.mark.django_db

# Every task of both apps, as the broker names them.
EVERY_TASK = {
    "outreach.tasks.open_case": tasks.open_case,
    "outreach.tasks.expire_cases": tasks.expire_cases,
    "outreach.tasks.send_action": tasks.send_action,
    "outreach.tasks.dispatch_due_actions": tasks.dispatch_due_actions,
    "outreach.tasks.read_notifications": tasks.read_notifications,
    "outreach.tasks.read_all_notifications": tasks.read_all_notifications,
    "outreach.tasks.follow_after_engagement": tasks.follow_after_engagement,
    "outreach.tasks.purge_expired_data": tasks.purge_expired_data,
    "outreach.tasks.approval_digest": tasks.approval_digest,
    "monitoring.tasks.poll_due_sources": monitoring_tasks.poll_due_sources,
    "monitoring.tasks.poll_source": monitoring_tasks.poll_source,
    "monitoring.tasks.detect_posts": monitoring_tasks.detect_posts,
    "monitoring.tasks.refresh_incidents": monitoring_tasks.refresh_incidents,
    "monitoring.tasks.send_incident_alert": monitoring_tasks.send_incident_alert,
    "monitoring.tasks.retrain_classifier": monitoring_tasks.retrain_classifier,
    "monitoring.limits.refresh_limits_tick": limits.refresh_limits_tick,
    "monitoring.limits.refresh_account_limits": limits.refresh_account_limits,
}

# Tasks whose only argument is an id: a non-id is refused before anything is read.
ID_TASKS = (
    tasks.open_case,
    tasks.send_action,
    tasks.read_notifications,
    tasks.follow_after_engagement,
)

GARBAGE: list[tuple[Any, ...]] = [
    (987_654,),  # no such row
    (-1,),
    ("1",),
    ("abc",),
    (None,),
    (True,),
    (1.5,),
    ({"kind": "follow", "external_id": "made-up-id"},),
    (1, "follow", "made-up-id", "2026-01-01T00:00:00+00:00", "thanks!"),  # the old message
]


def the_world() -> tuple[list[tuple[int, str]], int, int, int]:
    """Everything a forged task could move: stages, history, outbox and engagements."""
    return (
        list(Case.objects.order_by("pk").values_list("pk", "stage")),
        CaseEvent.objects.count(),
        OutboundAction.objects.count(),
        EngagementEvent.objects.count(),
    )


def deliver(task: Any, args: tuple[Any, ...]) -> Any:
    """Run a message as the worker would; an exception is the task refusing it."""
    try:
        return task.apply(args=args).get()
    except Exception as exc:  # a refusal by exception: what matters is what changed
        return exc


def test_a_task_that_takes_facts_no_longer_exists() -> None:
    # The facts-carrying tasks are gone; a forged message naming one is an
    # unregistered task, which a worker discards.
    registered = set(app.tasks) | set(current_app.tasks)
    assert "outreach.tasks.record_engagement" not in registered
    assert "outreach.tasks.opt_out" not in registered
    assert not hasattr(tasks, "record_engagement")
    assert not hasattr(tasks, "opt_out")
    assert set(EVERY_TASK) <= registered


def test_every_task_of_both_apps_is_in_the_trust_table() -> None:
    # A new task must be listed (and reasoned about) before it ships.
    ours = {name for name in app.tasks if name.startswith(("outreach.", "monitoring."))}
    assert ours == set(EVERY_TASK)
    for name in ours:
        short = name.rsplit(".", 1)[1]
        table = tasks.__doc__ if name.startswith("outreach.") else monitoring_tasks.__doc__
        assert table is not None and short in table


def test_forged_engagement_with_invented_facts_changes_nothing(
    replied: Callable[[str], Case],  # noqa: F811 (the imported fixture)
) -> None:
    # given a case waiting for a person who never engages
    case = replied("silent")
    account_id = OutboundAction.objects.get(case=case, kind="reply").account_id
    before = the_world()
    # when the attack's message is sent to the engagement task that remains
    forged = deliver(
        tasks.read_notifications,
        (case.pk, "follow", "made-up-id", timezone.now().isoformat()),
    )
    # and the honest message is sent too: the platform is asked what happened
    assert read(case).recorded == 0
    assert deliver(tasks.read_notifications, (account_id,)) == 0
    # and a follow is asked for
    assert deliver(tasks.follow_after_engagement, (case.pk,)) is None
    # then the forged one was refused and nothing moved: no engagement, no follow
    assert isinstance(forged, TypeError)
    assert the_world() == before
    assert Case.objects.get(pk=case.pk).stage == Stage.AWAITING_ENGAGEMENT
    assert not OutboundAction.objects.filter(case=case, kind="follow").exists()


@pytest.mark.parametrize("name", sorted(EVERY_TASK))
@pytest.mark.parametrize("args", GARBAGE, ids=repr)
def test_every_task_refuses_forged_arguments_without_changing_a_stage(
    name: str,
    args: tuple[Any, ...],
    advance: Any,
) -> None:
    # given cases at the stages a forged message would most like to move
    advance(Stage.AWAITING_ENGAGEMENT)
    advance(Stage.DRAFTING)
    before = the_world()
    # when the task receives garbage
    deliver(EVERY_TASK[name], args)
    # then not a stage, an event, an outbox row or an engagement changed
    assert the_world() == before


@pytest.mark.parametrize("task", ID_TASKS, ids=lambda t: t.name)
@pytest.mark.parametrize("value", ["1", "abc", None, True, 1.5, -3, {"id": 1}], ids=repr)
def test_an_id_task_refuses_a_non_id_cleanly_and_says_so(
    task: Any, value: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # when a message carries something that is not an id
    with caplog.at_level(logging.WARNING, logger="outreach.messages"):
        result = task.apply(args=(value,))
    # then the task succeeds doing nothing, and the log says it refused
    assert result.successful()
    assert result.get() is None
    assert f"task {task.name.rsplit('.', 1)[1]} refused" in caplog.text


def test_follow_for_a_case_that_never_engaged_is_refused(advance: Any) -> None:
    # given a real case id whose person has not engaged
    case = advance(Stage.AWAITING_ENGAGEMENT)
    # when a follow task names it
    assert deliver(tasks.follow_after_engagement, (case.pk,)) is None
    # then nothing was queued
    assert Case.objects.get(pk=case.pk).stage == Stage.AWAITING_ENGAGEMENT
    assert not OutboundAction.objects.filter(case=case, kind="follow").exists()


def test_open_case_for_a_verdict_that_is_no_complaint_opens_nothing(
    world: None,
    competitor: Any,
) -> None:
    # given a stored verdict saying the post is not a complaint
    detection = DetectionFactory(brand=competitor, complaint=False)
    # when a message asks for a case anyway
    assert deliver(tasks.open_case, (detection.pk,)) is None
    # then none is opened: the verdict is read, not taken from the message
    assert not Case.objects.exists()
