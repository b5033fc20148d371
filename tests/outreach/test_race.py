"""Two people clicking at once: compare-and-set lets exactly one win."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from outreach import workflow
from outreach.models import Case, CaseEvent, OutboundAction, Stage, text_hash
from outreach.workflow import TransitionNotAllowed
from tests.outreach.factories import GOOD_REPLY

pytestmark = pytest.mark.django_db


def test_two_approvals_of_one_loaded_case_one_wins(
    advance: Any, reviewer: Any, reviewer2: Any
) -> None:
    # given the same case loaded by two reviewers
    case = advance(Stage.AWAITING_APPROVAL)
    seen_by_first = Case.objects.get(pk=case.pk)
    seen_by_second = Case.objects.get(pk=case.pk)
    # when both approve
    workflow.approve_reply(seen_by_first, actor=reviewer, text_hash_seen=text_hash(GOOD_REPLY))
    with pytest.raises(TransitionNotAllowed):
        workflow.approve_reply(
            seen_by_second, actor=reviewer2, text_hash_seen=text_hash(GOOD_REPLY)
        )
    # then one reply is queued and one approval recorded
    assert OutboundAction.objects.filter(case=case, kind="reply").count() == 1
    assert CaseEvent.objects.filter(case=case, action="approve_reply").count() == 1


def test_a_stale_stage_change_fails_cleanly(advance: Any, analyst: Any) -> None:
    # given a case loaded, then moved elsewhere by someone else
    case = advance(Stage.RESEARCHING)
    stale = Case.objects.get(pk=case.pk)
    workflow.dismiss(case, actor=analyst, reason="duplicate of another case")
    # when the stale copy is moved by compare-and-set
    events = CaseEvent.objects.count()
    with pytest.raises(TransitionNotAllowed, match="no longer researching"):
        workflow._move(stale, to=Stage.DRAFTING, actor=analyst, action="save_research")
    # then nothing changed and nothing was recorded
    case.refresh_from_db()
    assert case.stage == Stage.DISMISSED
    assert CaseEvent.objects.count() == events


# No serialized_rollback: mixed with transactional tests that flush without it, it
# reloads content types that are already there. The ``roles`` fixture (via the
# reviewer fixtures) makes the groups again instead.
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_on_real_connections_one_wins(
    advance: Any, reviewer: Any, reviewer2: Any
) -> None:
    # given a case awaiting approval and two reviewers on two database connections
    case = advance(Stage.AWAITING_APPROVAL)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(user: Any) -> None:
        try:
            barrier.wait(timeout=10)
            workflow.approve_reply(case.pk, actor=user, text_hash_seen=text_hash(GOOD_REPLY))
            outcomes.append("won")
        except TransitionNotAllowed:
            outcomes.append("refused")
        except Exception as exc:  # a thread's surprise must fail the test, not vanish
            outcomes.append(repr(exc))
        finally:
            connection.close()

    # when both approve at the same moment
    threads = [threading.Thread(target=approve, args=(u,)) for u in (reviewer, reviewer2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    # then exactly one wins
    assert sorted(outcomes) == ["refused", "won"]
    assert OutboundAction.objects.filter(case=case, kind="reply").count() == 1
