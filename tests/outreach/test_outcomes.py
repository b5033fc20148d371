"""Unknown outcomes are reconciled, never failed; a dead worker's row comes back in a lease.

The sandbox adapter, with faults on cue (``FlakySandbox`` from the dispatcher's
tests): ``during_reply`` raises after the platform has accepted the post, a
scripted error raises before it.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from monitoring.platforms import PermanentError, TransientError, UnknownOutcome
from outreach import dispatch, workflow
from outreach.models import OutboundAction, Stage
from tests.outreach import test_dispatch
from tests.outreach.test_dispatch import (
    crashed_after_claim,
    events,
    make_due,
    our_replies,
    reloaded,
)

# The dispatcher tests' fixtures: the approved reply, the faulty sandbox, the team's alerts.
alerts = test_dispatch.alerts
approved = test_dispatch.approved
flaky = test_dispatch.flaky

pytestmark = pytest.mark.django_db

LOST = UnknownOutcome(
    "Sandbox reply: the platform accepted the request but its answer could not be read"
)


def lose_the_answer() -> None:
    raise LOST


def test_a_reply_whose_answer_was_lost_is_marked_unknown_then_reconciled(
    approved: Any, flaky: Any, alerts: Any
) -> None:
    # given a reply the platform created, whose answer came back unreadable
    action = approved()
    flaky.during_reply = lose_the_answer
    # when it is sent
    outcome = dispatch.send_action(action.pk)
    # then it is not failed: it waits, marked, with the case untouched and the history told
    assert outcome.result == "unknown"
    action = reloaded(action)
    assert action.state == OutboundAction.State.PENDING
    assert action.outcome_unknown_since is not None
    assert "outcome unknown" in action.error
    assert action.case.stage == Stage.APPROVED
    assert "send_outcome_unknown" in events(action.case_id)
    assert alerts == []
    # and the next attempt asks the platform first, finds the reply and records it
    flaky.during_reply = None
    make_due(action)
    assert dispatch.send_action(action.pk).result == "reconciled"
    assert flaky.calls == ["reply", "find_reply"]
    action = reloaded(action)
    assert action.state == OutboundAction.State.SENT
    assert action.outcome_unknown_since is None
    assert action.case.stage == Stage.AWAITING_ENGAGEMENT
    assert our_replies(action) == 1


def test_rows_of_unknown_outcome_are_counted_for_prometheus(
    approved: Any, flaky: Any, client: Any, settings: Any
) -> None:
    settings.NOJACKAL_METRICS = True
    action = approved()
    flaky.during_reply = lose_the_answer
    dispatch.send_action(action.pk)
    body = client.get("/metrics/").content.decode()
    assert "nojackal_outbox_outcome_unknown 1.0" in body


def test_an_unknown_outcome_with_nothing_posted_is_sent_once_after_asking(
    approved: Any, flaky: Any
) -> None:
    # given a timeout before the platform created anything
    action = approved()
    flaky.script["reply"] = [UnknownOutcome("Sandbox reply: no answer after the request was sent")]
    assert dispatch.send_action(action.pk).result == "unknown"
    make_due(action)
    # when retried: the platform says there is nothing, so the reply goes out, once
    assert dispatch.send_action(action.pk).result == "sent"
    assert flaky.calls == ["reply", "find_reply", "reply"]
    assert our_replies(action) == 1
    assert "send_reconciled" in events(action.case_id)
    assert reloaded(action).outcome_unknown_since is None


def test_an_unknown_outcome_is_never_failed_by_the_attempt_ceiling(
    approved: Any, flaky: Any, alerts: Any, settings: Any
) -> None:
    settings.NOJACKAL_OUTBOX_MAX_ATTEMPTS = 2
    action = approved()
    flaky.script["reply"] = [LOST]
    flaky.script["find_reply"] = [TransientError("find: 503"), TransientError("find: 503")]
    results = []
    for _ in range(3):
        make_due(action)
        results.append(dispatch.send_action(action.pk).result)
    # the ceiling is reached, but a post may exist: still unknown, still pending
    assert results == ["unknown", "unknown", "unknown"]
    assert reloaded(action).state == OutboundAction.State.PENDING
    # once the platform answers that nothing is there, the ceiling fails the row
    make_due(action)
    assert dispatch.send_action(action.pk).result == "failed"
    action = reloaded(action)
    assert "nothing was posted" in action.error
    assert action.case.stage == Stage.FAILED
    assert our_replies(action) == 0
    assert len(alerts) == 1


def test_a_refusal_the_platform_gave_before_acting_fails_at_once(
    approved: Any, flaky: Any, alerts: Any
) -> None:
    action = approved()
    flaky.script["reply"] = [PermanentError("Sandbox reply: refused the request (422 too long)")]
    assert dispatch.send_action(action.pk).result == "failed"
    action = reloaded(action)
    assert action.state == OutboundAction.State.FAILED
    assert action.outcome_unknown_since is None
    assert action.case.stage == Stage.FAILED


def test_a_row_abandoned_mid_send_is_marked_unknown_in_its_history(
    approved: Any, flaky: Any
) -> None:
    action = approved()
    crashed_after_claim(action, posted=True)
    assert dispatch.send_action(action.pk).result == "reconciled"
    assert "send_outcome_unknown" in events(action.case_id)
    assert our_replies(action) == 1


def test_an_unknown_follow_is_simply_retried(approved: Any, flaky: Any, reviewer: Any) -> None:
    # given an engaged case whose follow's answer was lost
    action = approved()
    dispatch.send_action(action.pk)
    workflow.record_engagement(
        action.case_id,
        kind="reply",
        external_id="n1",
        occurred_at=timezone.now(),
        text="thanks, that means a lot",
    )
    follow = workflow.request_follow(action.case_id, actor=reviewer)
    flaky.script["follow"] = [
        UnknownOutcome("Sandbox follow: no answer after the request was sent")
    ]
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        make_due(follow)
        assert dispatch.send_action(follow.pk).result == "retry"
        assert reloaded(follow).outcome_unknown_since is None
        make_due(follow)
        # following twice is a no-op on every platform: no find_reply, just again
        assert dispatch.send_action(follow.pk).result == "sent"
    assert flaky.calls.count("find_reply") == 0


def test_a_stuck_row_holds_its_account_only_until_its_lease_ends(
    approved: Any, settings: Any
) -> None:
    settings.NOJACKAL_OUTBOX_LEASE_SECONDS = 30
    stuck, waiting = approved(), approved()
    lease_end = timezone.now() + dt.timedelta(seconds=30)
    OutboundAction.objects.filter(pk=stuck.pk).update(
        state=OutboundAction.State.SENDING, attempts=1, not_before=lease_end
    )
    now = timezone.now()
    assert dispatch.send_action(waiting.pk, now=now).result == "deferred"
    # it looks again within a heartbeat (10 s, plus a little jitter), and never after the
    # stuck claim's lease ends; not after the account's whole spacing
    spacing = dt.timedelta(seconds=3600 / waiting.account.max_sends_per_hour)
    again = reloaded(waiting).not_before
    assert now + dt.timedelta(seconds=10) <= again <= now + dt.timedelta(seconds=10 + 30 / 4)
    assert again < lease_end + dt.timedelta(seconds=30 / 4)
    assert again < now + spacing


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_keeps_a_long_send_claimed_and_lets_go_after(
    approved: Any, settings: Any
) -> None:
    # given a short lease and a send that takes several leases
    settings.NOJACKAL_OUTBOX_LEASE_SECONDS = 0.3
    action = approved()
    claim = dispatch._claim(action.pk, timezone.now())
    assert isinstance(claim, dispatch._Claim)
    first_token = claim.token
    renewed = threading.Event()
    taken: list[str] = []
    with dispatch.Heartbeat(claim) as beat:
        # while the call runs, the lease is renewed: nobody else may take the row
        while beat.renewals < 3:
            renewed.wait(0.05)
        taken.append(dispatch.send_action(action.pk).result)
        connection.close()
    assert taken == ["skipped"]
    assert claim.token > first_token
    assert reloaded(action).not_before == claim.token  # the caller writes with the last token
    assert our_replies(action) == 0
