"""The issue's faults replayed with a real worker on Redis and PostgreSQL against a stub
platform on loopback (``tests/stub_platform.py``) that records every request.

Each fault ends with the reply posted exactly once and recorded as sent with the
platform's id: a reply the platform created behind a broken answer is found by
``find_reply``, never posted again and never recorded as failed. The lease is
shortened (``NOJACKAL_OUTBOX_LEASE_SECONDS=2``) so a killed worker's row comes
back in seconds; ``bench/faults.py`` runs the same faults with production leases
and prints how long each due row waited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e import test_outbox_worker as outbox_e2e
from tests.e2e.test_outbox_worker import sigkill, state, tick, wait
from tests.outreach.conftest import *  # noqa: F403
from tests.stub_platform import StubPlatform

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# The outbox worker tests' fixtures: real workers on a queue of the test's own, approved replies.
approved = outbox_e2e.approved
workers = outbox_e2e.workers


@pytest.fixture(autouse=True)
def short_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set before the workers start (autouse runs first): they read it from the environment."""
    monkeypatch.setenv("NOJACKAL_OUTBOX_LEASE_SECONDS", "2")


@pytest.fixture
def stub() -> Iterator[StubPlatform]:
    with StubPlatform(hang_seconds=2.0).serve() as platform:
        yield platform


@pytest.fixture
def on_stub(stub: StubPlatform) -> Callable[[Any], None]:
    """Point the action's account at the stub (one-second timeout for the 'timeout' fault)."""
    from monitoring.models import Account

    def point(action: Any) -> None:
        account = Account.objects.get(pk=action.account_id)
        account.options = {**account.options, "base_url": stub.url, "timeout": 1}
        account.save(update_fields=["options"])

    return point


def recorded_right(action: Any, stub: StubPlatform) -> bool:
    from outreach.models import OutboundAction

    row = OutboundAction.objects.get(pk=action.pk)
    created = stub.replies_to(action.case.post.external_id)
    return (
        row.state == OutboundAction.State.SENT
        and len(created) == 1
        and row.external_id == str(created[0].id)
        and row.outcome_unknown_since is None
    )


def until_sent(workers: Any, action: Any) -> Callable[[], bool]:
    """Done when the row is sent; meanwhile each look sends a dispatch tick, as beat would."""
    from outreach.models import OutboundAction

    def check() -> bool:
        if state(action) == OutboundAction.State.SENT:
            return True
        tick(workers, "dispatch_due_actions")
        return False

    return check


@pytest.mark.parametrize("fault", ["truncated", "timeout", "reset", "5xx_after", "5xx_before"])
def test_a_broken_answer_to_a_reply_ends_with_it_posted_once_and_recorded_sent(
    workers: Any, approved: Any, stub: StubPlatform, on_stub: Any, fault: str
) -> None:
    # given a due reply whose first POST meets the fault
    action = approved()
    on_stub(action)
    stub.faults.append(fault)
    workers()
    # when the worker sends it, as often as the ticks ask
    wait(workers, until_sent(workers, action), f"the reply sent after a {fault}", timeout=90)
    # then the platform has it once, and the row says sent with the platform's id
    assert stub.injected == [fault]
    assert recorded_right(action, stub)
    assert stub.duplicates() == 0
    # a fault after the platform acted is reconciled, never posted again
    expected_posts = 2 if fault == "5xx_before" else 1
    assert stub.reply_posts() == expected_posts


def test_a_worker_killed_mid_send_is_reconciled_by_another_after_its_lease(
    workers: Any, approved: Any, stub: StubPlatform, on_stub: Any
) -> None:
    # given a worker that dies after the platform created the reply, before the answer
    action = approved()
    on_stub(action)
    stub.faults.append("hold")
    first = workers(concurrency=1)
    tick(workers, "send_action", action.pk)
    wait(workers, stub.held.is_set, "the reply to reach the platform")
    sigkill(first)
    stub.release.set()
    # when another worker takes over (the row comes back after its short lease)
    workers()
    wait(workers, until_sent(workers, action), "the abandoned reply reconciled", timeout=90)
    # then it was recorded from the platform, not posted again
    assert recorded_right(action, stub)
    assert stub.reply_posts() == 1
    assert stub.duplicates() == 0
