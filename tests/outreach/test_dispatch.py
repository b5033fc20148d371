"""The outbox dispatcher against the real PostgreSQL and the sandbox network.

The sandbox is a real adapter (its "server" is tables in the same database), so
a post it accepted is visible to the test exactly as a platform would show it.
Faults are injected by a subclass of the sandbox that fails on cue.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from monitoring.models import Account, SandboxFollow, SandboxPost
from monitoring.platforms import PermanentError, TransientError
from monitoring.platforms.sandbox import SandboxPlatform
from outreach import dispatch, workflow
from outreach.models import (
    Case,
    CaseEvent,
    DoNotContact,
    OutboundAction,
    Playbook,
    Stage,
    text_hash,
)
from tests.factories import IncidentFactory, PostFactory
from tests.outreach.factories import COMPLAINT, sandbox_post

pytestmark = pytest.mark.django_db


# --- Building blocks --------------------------------------------------------------------


@pytest.fixture
def approved(advance: Any) -> Callable[..., OutboundAction]:
    """A case approved on a sandbox post; its reply action is due now."""

    def _approved(**kwargs: Any) -> OutboundAction:
        case = advance(Stage.APPROVED, post=sandbox_post(**kwargs))
        action = OutboundAction.objects.get(case=case, kind="reply")
        make_due(action)
        return action

    return _approved


def make_due(action: OutboundAction) -> None:
    OutboundAction.objects.filter(pk=action.pk).update(not_before=timezone.now())


def our_replies(action: OutboundAction) -> int:
    """How many replies our account has on the sandbox under the person's post."""
    return SandboxPost.objects.filter(
        author_handle=action.account.handle, reply_to_id=int(action.case.post.external_id)
    ).count()


def reloaded(action: OutboundAction) -> OutboundAction:
    return OutboundAction.objects.select_related("case", "account").get(pk=action.pk)


def events(case_id: int) -> list[str]:
    return list(CaseEvent.objects.filter(case_id=case_id).values_list("action", flat=True))


class FlakySandbox(SandboxPlatform):
    """The sandbox, with faults scripted per call: ``script["reply"]`` is a list of
    exceptions to raise (one per call) before behaving; ``during_reply`` runs
    after the post is accepted but before the answer comes back."""

    script: dict[str, list[Exception]] = {}
    calls: list[str] = []
    during_reply: Callable[[], None] | None = None

    def _fault(self, name: str) -> None:
        type(self).calls.append(name)
        queue = type(self).script.get(name) or []
        if queue:
            raise queue.pop(0)

    def reply(self, *, in_reply_to: str, text: str, idempotency_key: str) -> Any:
        self._fault("reply")
        sent = super().reply(in_reply_to=in_reply_to, text=text, idempotency_key=idempotency_key)
        if type(self).during_reply is not None:
            type(self).during_reply()
        return sent

    def find_reply(self, *, in_reply_to: str, idempotency_key: str, exclude: Any = ()) -> Any:
        self._fault("find_reply")
        return super().find_reply(
            in_reply_to=in_reply_to, idempotency_key=idempotency_key, exclude=exclude
        )

    def follow(self, person_external_id: str) -> Any:
        self._fault("follow")
        return super().follow(person_external_id)


@pytest.fixture
def flaky(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FlakySandbox]]:
    FlakySandbox.script = {}
    FlakySandbox.calls = []
    FlakySandbox.during_reply = None
    monkeypatch.setattr(
        dispatch, "platform_for", lambda account: FlakySandbox(options={"handle": account.handle})
    )
    yield FlakySandbox


@pytest.fixture
def alerts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """What the team was told (the alert channel itself is another module's job)."""
    told: list[tuple[str, str]] = []
    monkeypatch.setattr(dispatch, "tell_team", lambda subject, body: told.append((subject, body)))
    return told


# --- The happy path ------------------------------------------------------------------------


def test_a_due_reply_is_posted_with_its_key_and_the_case_awaits_engagement(approved: Any) -> None:
    action = approved()
    outcome = dispatch.send_action(action.pk)
    assert outcome.result == "sent"
    action = reloaded(action)
    assert action.state == OutboundAction.State.SENT
    remote = SandboxPost.objects.get(pk=int(action.external_id))
    assert remote.idempotency_key == action.idempotency_key
    assert remote.text == action.text
    assert action.url.endswith(f"/{remote.pk}")
    assert action.case.stage == Stage.AWAITING_ENGAGEMENT
    assert action.attempts == 1


def test_an_action_not_yet_due_is_left_alone(approved: Any) -> None:
    action = approved()
    OutboundAction.objects.filter(pk=action.pk).update(
        not_before=timezone.now() + dt.timedelta(minutes=5)
    )
    assert dispatch.send_action(action.pk).result == "skipped"
    assert reloaded(action).state == OutboundAction.State.PENDING
    assert our_replies(action) == 0
    assert action.pk not in dispatch.due_action_ids()


def test_rows_of_an_account_with_a_send_in_flight_are_not_due_until_it_ends(
    approved: Any,
) -> None:
    first, second = approved(), approved()
    assert first.account_id == second.account_id
    # The first is being sent (its lease runs); the second waits, untouched.
    OutboundAction.objects.filter(pk=first.pk).update(
        state=OutboundAction.State.SENDING, not_before=timezone.now() + dt.timedelta(seconds=30)
    )
    assert second.pk not in dispatch.due_action_ids()
    assert reloaded(second).not_before <= timezone.now()
    # When that send ends (here: its lease runs out), the account's first due row is
    # queued again, and only that one: the other follows it in the same task (send_due).
    OutboundAction.objects.filter(pk=first.pk).update(not_before=timezone.now())
    assert len({first.pk, second.pk} & set(dispatch.due_action_ids())) == 1


def test_a_drain_stops_leaving_the_next_row_untouched_when_another_send_of_the_account_starts(
    approved: Any, flaky: Any
) -> None:
    first, second, third = approved(), approved(), approved()
    due_at = reloaded(second).not_before

    def another_dispatcher_claims_the_third() -> None:
        OutboundAction.objects.filter(pk=third.pk).update(
            state=OutboundAction.State.SENDING, not_before=timezone.now() + dt.timedelta(seconds=30)
        )

    flaky.during_reply = another_dispatcher_claims_the_third
    # The drain sends the first, then finds the account busy under its lock: it stops,
    # and the second row is neither claimed nor deferred (the other send ends first).
    assert [o.result for o in dispatch.send_due(first.pk)] == ["sent"]
    second = reloaded(second)
    assert (second.state, second.not_before, second.error, second.attempts) == (
        OutboundAction.State.PENDING,
        due_at,
        "",
        0,
    )


def test_a_worker_that_stalled_past_its_lease_posts_nothing(
    approved: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    action = approved()
    platform_for = dispatch.platform_for

    def stalled(account: Account) -> Any:
        # While this worker stalls after its claim, the lease runs out and another
        # dispatcher reclaims the row (a claim of its own: a new fencing token).
        OutboundAction.objects.filter(pk=action.pk).update(
            not_before=timezone.now() + dt.timedelta(seconds=60)
        )
        return platform_for(account)

    monkeypatch.setattr(dispatch, "platform_for", stalled)
    outcome = dispatch.send_action(action.pk)
    assert outcome.result == "skipped"
    assert "lease ran out" in outcome.detail
    assert our_replies(action) == 0
    assert reloaded(action).state == OutboundAction.State.SENDING


def test_sending_the_same_action_again_posts_nothing(approved: Any) -> None:
    action = approved()
    assert dispatch.send_action(action.pk).result == "sent"
    again = dispatch.send_action(action.pk)
    assert again.result == "skipped"
    assert our_replies(action) == 1


def test_unknown_action_ids_are_skipped(db: None) -> None:
    assert dispatch.send_action(987654).result == "skipped"


def test_dispatch_due_sends_every_due_action_once(approved: Any) -> None:
    first, second = approved(), approved()
    # Two accounts, so that spacing does not hold the second one back.
    other = Account.objects.create(
        platform="sandbox", handle="northwind_team", max_sends_per_hour=30
    )
    OutboundAction.objects.filter(pk=second.pk).update(account=other)
    counts = dispatch.dispatch_due()
    assert counts["sent"] == 2
    assert dispatch.dispatch_due()["sent"] == 0
    assert our_replies(first) == 1
    assert our_replies(reloaded(second)) == 1


# --- Crash safety ------------------------------------------------------------------------------


def crashed_after_claim(action: OutboundAction, *, posted: bool) -> None:
    """Leave the row as a worker killed between claim and record leaves it."""
    if posted:
        SandboxPlatform(options={"handle": action.account.handle}).reply(
            in_reply_to=action.case.post.external_id,
            text=action.text,
            idempotency_key=action.idempotency_key,
        )
    OutboundAction.objects.filter(pk=action.pk).update(
        state=OutboundAction.State.SENDING,
        attempts=1,
        not_before=timezone.now() - dt.timedelta(seconds=1),  # the lease ran out
    )


def test_a_row_left_in_sending_after_the_post_is_reconciled_not_posted_again(
    approved: Any, flaky: Any
) -> None:
    action = approved()
    crashed_after_claim(action, posted=True)
    outcome = dispatch.send_action(action.pk)
    assert outcome.result == "reconciled"
    assert "reply" not in flaky.calls  # asked the platform; did not post
    assert flaky.calls == ["find_reply"]
    action = reloaded(action)
    assert action.state == OutboundAction.State.SENT
    assert our_replies(action) == 1
    assert action.case.stage == Stage.AWAITING_ENGAGEMENT


def test_a_row_left_in_sending_before_the_post_is_sent_once_after_checking(
    approved: Any, flaky: Any
) -> None:
    action = approved()
    crashed_after_claim(action, posted=False)
    assert dispatch.send_action(action.pk).result == "sent"
    assert flaky.calls == ["find_reply", "reply"]
    assert our_replies(action) == 1


def test_a_claim_whose_lease_has_not_run_out_is_not_taken_over(approved: Any) -> None:
    action = approved()
    OutboundAction.objects.filter(pk=action.pk).update(
        state=OutboundAction.State.SENDING,
        attempts=1,
        not_before=timezone.now() + dt.timedelta(minutes=5),
    )
    assert dispatch.send_action(action.pk).result == "skipped"
    assert action.pk not in dispatch.due_action_ids()
    assert our_replies(action) == 0


def test_a_lost_response_after_the_platform_accepted_is_not_posted_twice(
    approved: Any, flaky: Any
) -> None:
    # The post went through, then the connection dropped before the answer.
    action = approved()
    flaky.during_reply = lambda: (_ for _ in ()).throw(TransientError("connection reset"))
    assert dispatch.send_action(action.pk).result == "retry"
    assert reloaded(action).state == OutboundAction.State.PENDING
    flaky.during_reply = None
    make_due(action)
    assert dispatch.send_action(action.pk).result == "reconciled"
    assert flaky.calls == ["reply", "find_reply"]
    assert our_replies(action) == 1


def test_when_the_platform_cannot_be_asked_nothing_is_sent_blind(
    approved: Any, flaky: Any, alerts: Any
) -> None:
    action = approved()
    crashed_after_claim(action, posted=False)
    flaky.script["find_reply"] = [PermanentError("403 forbidden")]
    outcome = dispatch.send_action(action.pk)
    # The worker died mid-send: the post may exist. Not failed on a guess, not sent
    # blind: the row waits, marked, and is asked about again; a person is told.
    assert outcome.result == "unknown"
    assert "reply" not in flaky.calls
    action = reloaded(action)
    assert action.state == OutboundAction.State.PENDING
    assert action.outcome_unknown_since is not None
    assert action.case.stage == Stage.APPROVED
    assert len(alerts) == 1


@pytest.mark.django_db(transaction=True)
def test_a_claim_moves_on_while_another_dispatcher_holds_the_account(approved: Any) -> None:
    action = approved()
    locked, release = threading.Event(), threading.Event()

    def other_dispatcher() -> None:
        # Another dispatcher claiming for the same account: its row lock held.
        try:
            with transaction.atomic():
                Account.objects.select_for_update().get(pk=action.account_id)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=other_dispatcher)
    holder.start()
    try:
        assert locked.wait(10)
        outcome = dispatch.send_action(action.pk)
    finally:
        release.set()
        holder.join()
    # Skipped at once, not queued behind the lock; the row untouched, nothing posted.
    assert outcome.result == "skipped"
    assert "another dispatcher" in outcome.detail
    assert reloaded(action).state == OutboundAction.State.PENDING
    assert reloaded(action).attempts == 0
    assert our_replies(action) == 0
    # Once the lock is free, the next tick sends it.
    assert dispatch.send_action(action.pk).result == "sent"


@pytest.mark.django_db(transaction=True)
def test_dispatchers_racing_for_one_action_post_it_once(approved: Any) -> None:
    action = approved()
    results: list[str] = []
    barrier = threading.Barrier(6)

    def race() -> None:
        try:
            barrier.wait()
            results.append(dispatch.send_action(action.pk).result)
        finally:
            connection.close()

    threads = [threading.Thread(target=race) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["sent"] + ["skipped"] * 5
    assert our_replies(action) == 1
    assert reloaded(action).attempts == 1


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_on_one_account_never_send_at_the_same_time(approved: Any) -> None:
    actions = [approved() for _ in range(4)]
    results: list[str] = []
    barrier = threading.Barrier(4)

    def race(pk: int) -> None:
        try:
            barrier.wait()
            results.append(dispatch.send_action(pk).result)
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(a.pk,)) for a in actions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # One account: one send now; the others wait for the spacing or for the next
    # tick (deferred or skipped), none of them lost.
    assert results.count("sent") == 1
    assert set(results) <= {"sent", "deferred", "skipped"}
    states = sorted(OutboundAction.objects.values_list("state", flat=True))
    assert states == ["pending"] * 3 + ["sent"]
    assert sum(our_replies(a) for a in actions) == 1


# --- Re-checks at send time ----------------------------------------------------------------------


def test_do_not_contact_added_after_approval_refuses_the_send(approved: Any) -> None:
    action = approved()
    person = action.case.person
    DoNotContact.objects.create(platform="sandbox", handle=person.handle, reason="asked by email")
    outcome = dispatch.send_action(action.pk)
    assert outcome.result == "refused"
    assert "do-not-contact" in outcome.detail
    action = reloaded(action)
    assert action.state == OutboundAction.State.CANCELLED
    assert "do-not-contact" in action.error
    assert action.case.stage == Stage.DISMISSED
    assert "send_refused" in events(action.case_id)
    assert our_replies(action) == 0


def test_a_post_that_got_too_old_in_the_queue_is_not_answered(approved: Any) -> None:
    action = approved()
    with time_machine.travel(timezone.now() + dt.timedelta(hours=80)):
        outcome = dispatch.send_action(action.pk)
    assert outcome.result == "refused"
    assert "freshness" in outcome.detail
    action = reloaded(action)
    assert action.state == OutboundAction.State.CANCELLED
    assert action.case.stage == Stage.EXPIRED
    assert our_replies(action) == 0


def test_a_case_dismissed_while_its_reply_was_claimed_is_not_answered(
    approved: Any, reviewer: Any
) -> None:
    action = approved()
    crashed_after_claim(action, posted=False)  # claimed, nothing posted yet
    workflow.dismiss(action.case_id, actor=reviewer, reason="duplicate of another case")
    outcome = dispatch.send_action(action.pk)
    assert outcome.result == "refused"
    assert "dismissed" in outcome.detail
    assert reloaded(action).state == OutboundAction.State.CANCELLED
    assert our_replies(action) == 0


def test_a_dismissed_case_never_reaches_the_platform(approved: Any, reviewer: Any) -> None:
    action = approved()
    workflow.dismiss(action.case_id, actor=reviewer, reason="not a real complaint")
    assert dispatch.send_action(action.pk).result == "skipped"
    assert our_replies(action) == 0


def test_incident_cap_reached_since_approval_refuses_the_send(
    approved: Any, playbook: Playbook
) -> None:
    first, second = approved(), approved()
    incident = IncidentFactory(brand=first.case.brand)
    Case.objects.filter(pk__in=[first.case_id, second.case_id]).update(incident=incident)
    OutboundAction.objects.filter(pk=second.pk).update(
        account=Account.objects.create(platform="sandbox", handle="northwind_team")
    )
    assert dispatch.send_action(first.pk).result == "sent"
    Playbook.objects.filter(pk=playbook.pk).update(max_replies_per_incident=1)
    outcome = dispatch.send_action(second.pk)
    assert outcome.result == "refused"
    assert f"incident #{incident.pk}" in outcome.detail
    assert reloaded(second).case.stage == Stage.DISMISSED
    assert our_replies(reloaded(second)) == 0


def test_hourly_cap_defers_the_send_until_the_hour_has_passed(
    approved: Any, playbook: Playbook
) -> None:
    first, second = approved(), approved()
    Playbook.objects.filter(pk=playbook.pk).update(max_replies_per_account_per_hour=1)
    assert dispatch.send_action(first.pk).result == "sent"
    sent_at = reloaded(first).sent_at
    later = timezone.now() + dt.timedelta(minutes=10)  # past the spacing, inside the hour
    with time_machine.travel(later):
        make_due(second)
        outcome = dispatch.send_action(second.pk)
    assert outcome.result == "deferred"
    second = reloaded(second)
    assert second.state == OutboundAction.State.PENDING
    assert second.not_before >= sent_at + dt.timedelta(hours=1)
    assert second.attempts == 0
    assert "this hour" in second.error
    assert "send_deferred" in events(second.case_id)


def test_follow_for_a_case_that_is_not_engaged_is_refused(approved: Any) -> None:
    action = approved()
    dispatch.send_action(action.pk)
    follow = OutboundAction(
        case_id=action.case_id,
        kind="follow",
        account=action.account,
        idempotency_key="shell-follow",
        not_before=timezone.now(),
    )
    # The database refuses to queue it (outreach.workflow.dbrules); the send-time check too.
    with pytest.raises(IntegrityError, match="queued only by its move"), transaction.atomic():
        follow.save()
    with pytest.raises(workflow.RuleViolation, match="engaged"):
        workflow.check_sendable(follow)
    assert not SandboxFollow.objects.exists()


def _engaged_with_follow_queued(approved: Any, reviewer: Any) -> OutboundAction:
    action = approved()
    dispatch.send_action(action.pk)
    workflow.record_engagement(
        action.case_id, kind="reply", external_id="n1", occurred_at=timezone.now(), text="ok"
    )
    return workflow.request_follow(action.case_id, actor=reviewer)


def _send_follow(follow: OutboundAction) -> str:
    """The follow's send, a few minutes after it was queued (its spacing past): the result."""
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        make_due(follow)
        return dispatch.send_action(follow.pk).result


def test_follow_after_engagement_is_sent(approved: Any, reviewer: Any) -> None:
    follow = _engaged_with_follow_queued(approved, reviewer)
    # Queued only: the case does not claim the follow happened.
    assert reloaded(follow).case.stage == Stage.FOLLOW_REQUESTED
    assert _send_follow(follow) == "sent"
    follow = reloaded(follow)
    assert follow.state == OutboundAction.State.SENT
    assert follow.case.stage == Stage.FOLLOWED
    person = follow.case.person
    assert SandboxFollow.objects.filter(followed_id=person.external_id).count() == 1
    assert events(follow.case_id)[-2:] == ["request_follow", "mark_followed"]


def test_a_follow_the_platform_refuses_takes_the_case_back_to_engaged(
    approved: Any, reviewer: Any, alerts: Any, monkeypatch: Any
) -> None:
    # "Follow requested (queued)" with nothing queued would say something that is not so.
    follow = _engaged_with_follow_queued(approved, reviewer)

    def refuse(self: Any, person_external_id: str) -> Any:
        raise PermanentError("this account does not accept follows")

    monkeypatch.setattr(SandboxPlatform, "follow", refuse)
    assert _send_follow(follow) == "failed"
    follow = reloaded(follow)
    assert follow.state == OutboundAction.State.FAILED
    assert follow.case.stage == Stage.ENGAGED
    last = CaseEvent.objects.filter(case_id=follow.case_id).latest("pk")
    assert (last.action, last.origin, last.target) == (
        "follow_not_sent",
        Stage.FOLLOW_REQUESTED,
        Stage.ENGAGED,
    )
    assert "does not accept follows" in last.note
    assert alerts and "failed" in alerts[-1][0]
    # The platform said no for good: the button says why rather than queue it again.
    with pytest.raises(workflow.WorkflowError, match="does not accept follows"):
        workflow.request_follow(follow.case_id, actor=reviewer)


def test_a_follow_refused_at_send_time_takes_the_case_back_to_engaged_and_may_be_asked_again(
    approved: Any, reviewer: Any, admin_user: Any
) -> None:
    follow = _engaged_with_follow_queued(approved, reviewer)
    person = follow.case.person
    entry = DoNotContact.objects.create(
        platform=person.platform, person_external_id=person.external_id, reason="asked"
    )
    assert _send_follow(follow) == "refused"
    follow = reloaded(follow)
    assert follow.state == OutboundAction.State.CANCELLED
    assert follow.case.stage == Stage.ENGAGED
    assert events(follow.case_id)[-2:] == ["send_refused", "follow_not_sent"]
    assert not SandboxFollow.objects.exists()
    # While the person is on the list the button stays refused; a cancelled follow is no
    # obstacle once they are off it (an admin's audited removal).
    with pytest.raises(workflow.RuleViolation, match="do-not-contact"):
        workflow.request_follow(follow.case_id, actor=reviewer)
    workflow.remove_dnc_entry(entry, actor=admin_user, reason="added by mistake")
    again = workflow.request_follow(follow.case_id, actor=reviewer)
    assert reloaded(again).case.stage == Stage.FOLLOW_REQUESTED


def test_a_follow_on_its_way_is_not_declared_unsent(approved: Any, reviewer: Any) -> None:
    follow = _engaged_with_follow_queued(approved, reviewer)
    with pytest.raises(workflow.WorkflowError, match="still on its way"):
        workflow.follow_not_sent(follow.pk, reason="guess")
    assert reloaded(follow).case.stage == Stage.FOLLOW_REQUESTED


def test_sends_from_one_account_are_spaced_out(approved: Any) -> None:
    first, second = approved(), approved()
    assert dispatch.send_action(first.pk).result == "sent"
    outcome = dispatch.send_action(second.pk)
    assert outcome.result == "deferred"
    spacing = dt.timedelta(seconds=3600 / first.account.max_sends_per_hour)
    assert reloaded(second).not_before >= reloaded(first).sent_at + spacing


def test_a_rate_limited_account_waits_without_spending_an_attempt(approved: Any) -> None:
    action = approved()
    until = timezone.now() + dt.timedelta(minutes=7)
    Account.objects.filter(pk=action.account_id).update(rate_limited_until=until)
    assert dispatch.send_action(action.pk).result == "deferred"
    action = reloaded(action)
    assert action.state == OutboundAction.State.PENDING
    assert action.not_before >= until
    assert action.attempts == 0
    assert our_replies(action) == 0


# --- Platform errors --------------------------------------------------------------------------


def test_a_transient_error_retries_later_with_backoff(approved: Any, flaky: Any) -> None:
    action = approved()
    flaky.script["reply"] = [TransientError("503 Service Unavailable")]
    before = timezone.now()
    assert dispatch.send_action(action.pk).result == "retry"
    action = reloaded(action)
    assert action.state == OutboundAction.State.PENDING
    assert action.attempts == 1
    assert action.not_before > before
    assert "503" in action.error
    assert action.case.stage == Stage.APPROVED


def test_retry_after_rate_limits_the_whole_account(approved: Any, flaky: Any) -> None:
    action = approved()
    flaky.script["reply"] = [TransientError("429 Too Many Requests", retry_after=900)]
    now = timezone.now()
    assert dispatch.send_action(action.pk).result == "retry"
    account = Account.objects.get(pk=action.account_id)
    assert account.rate_limited_until >= now + dt.timedelta(seconds=899)
    assert reloaded(action).not_before >= now + dt.timedelta(seconds=899)


def test_too_many_transient_errors_fail_the_action_and_tell_the_team(
    approved: Any, flaky: Any, alerts: Any, settings: Any
) -> None:
    settings.NOJACKAL_OUTBOX_MAX_ATTEMPTS = 3
    action = approved()
    flaky.script["reply"] = [TransientError("502 Bad Gateway")] * 5
    results = []
    for _ in range(3):
        make_due(action)
        results.append(dispatch.send_action(action.pk).result)
    assert results == ["retry", "retry", "failed"]
    action = reloaded(action)
    assert action.state == OutboundAction.State.FAILED
    assert "gave up after 3 attempts" in action.error
    assert action.case.stage == Stage.FAILED
    assert len(alerts) == 1
    assert our_replies(action) == 0


def test_a_permanent_error_fails_the_action_and_the_case(advance: Any, alerts: Any) -> None:
    # A post the sandbox does not have: the platform answers "does not exist".
    case = advance(Stage.APPROVED, post=PostFactory(external_id="gone-1", text=COMPLAINT))
    action = OutboundAction.objects.get(case=case)
    make_due(action)
    outcome = dispatch.send_action(action.pk)
    assert outcome.result == "failed"
    action = reloaded(action)
    assert action.state == OutboundAction.State.FAILED
    assert "does not exist" in action.error
    assert action.case.stage == Stage.FAILED
    assert "does not exist" in alerts[0][1]


def test_a_reply_that_went_out_while_the_case_closed_is_still_recorded(
    approved: Any, flaky: Any, alerts: Any, reviewer: Any
) -> None:
    action = approved()
    # A reviewer dismisses the case while the request is on its way.
    flaky.during_reply = lambda: workflow.dismiss(
        action.case_id, actor=reviewer, reason="changed my mind"
    )
    assert dispatch.send_action(action.pk).result == "sent"
    action = reloaded(action)
    assert action.state == OutboundAction.State.SENT
    assert action.external_id
    assert action.case.stage == Stage.DISMISSED
    assert "reply_sent" in events(action.case_id)
    assert alerts and "after it changed" in alerts[0][0]


def test_a_private_message_the_platform_cannot_send_is_refused_with_its_reason(
    approved: Any, reviewer: Any, analyst: Any
) -> None:
    action = approved()
    dispatch.send_action(action.pk)
    workflow.record_engagement(
        action.case_id,
        kind="private_message",
        external_id="n2",
        occurred_at=timezone.now(),
        text="can we talk privately?",
    )
    # The sandbox adapter sends no private messages: the move (and its button) says so.
    workflow.save_later_reply(action.case_id, actor=analyst, text="Happy to, what happened?")
    with pytest.raises(workflow.WorkflowError, match="no private messages"):
        workflow.approve_private_message(
            action.case_id, actor=reviewer, text_hash_seen=text_hash("Happy to, what happened?")
        )
    assert not OutboundAction.objects.filter(kind="private_message").exists()
