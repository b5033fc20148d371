"""The service lane (issue #13, item 1): own-brand replies never wait behind competitor
outreach. Pacing (the hourly caps, spacing and jitter) applies to competitor replies
only; own-brand replies are paced by the platform's own limits, go first, and go from
the platform's service account when one is marked. The case page says when a queued
reply will go and why, from the dispatcher's own checks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Account, Brand, Post
from outreach import dispatch, tasks, workflow
from outreach.models import Case, OutboundAction, Playbook, PlaybookKind, ResearchNote, Stage
from outreach.models import text_hash as hash_of
from outreach.workflow import caps
from tests.factories import AccountFactory
from tests.outreach.factories import SUMMARY, sandbox_post

pytestmark = pytest.mark.django_db

OWN_COMPLAINT = "Northwind billed me twice this month, really annoyed"
OWN_REPLY = (
    "So sorry you were billed twice this month, that should not happen. Could you email "
    "support@northwind.example with your account number so we can refund it today?"
)


@pytest.fixture
def service_reply(own_brand: Brand, own_playbook: Playbook, analyst: Any, reviewer: Any) -> Any:
    """Walk an own-brand case to approved through the real moves; its queued reply."""

    def _approve(post: Post | None = None) -> OutboundAction:
        post = post or sandbox_post(text=OWN_COMPLAINT)
        case = workflow.open_case(post.pk, own_brand.pk, PlaybookKind.OWN_BRAND)
        workflow.claim(case, actor=analyst)
        workflow.save_research(
            case,
            actor=analyst,
            summary=SUMMARY,
            thread_checked=True,
            scope=ResearchNote.Scope.ISOLATED,
        )
        workflow.save_draft(case, actor=analyst, text=OWN_REPLY)
        workflow.submit_draft(case, actor=analyst)
        return workflow.approve_reply(case, actor=reviewer, text_hash_seen=hash_of(OWN_REPLY))

    return _approve


@pytest.fixture
def competitor_queue(advance: Any, playbook: Playbook) -> list[OutboundAction]:
    """The issue's morning: a competitor reply just went out from the one account (4 an
    hour), three more are queued behind it, spaced out."""
    Playbook.objects.filter(pk=playbook.pk).update(max_replies_per_account_per_hour=4)
    replies = [
        OutboundAction.objects.get(case=advance(Stage.APPROVED, post=sandbox_post()), kind="reply")
        for _ in range(4)
    ]
    first = replies[0]
    OutboundAction.objects.filter(pk=first.pk).update(not_before=timezone.now())
    assert dispatch.send_action(first.pk).result == "sent"
    queued = OutboundAction.objects.filter(pk__in=[r.pk for r in replies[1:]])
    assert all(r.state == "pending" and r.not_before > timezone.now() for r in queued)
    return list(queued)


def _state(action: OutboundAction) -> OutboundAction:
    return OutboundAction.objects.select_related("case", "account").get(pk=action.pk)


# --- One dispatch tick ------------------------------------------------------------------


def test_an_own_brand_reply_approved_behind_queued_competitor_replies_goes_in_one_tick(
    competitor_queue: list[OutboundAction], service_reply: Any
) -> None:
    reply = service_reply()
    # The same (only) account as the competitor replies, approved while they wait.
    assert reply.account_id == competitor_queue[0].account_id
    tasks.dispatch_due_actions()  # one tick of the real dispatcher (tasks run eagerly here)
    reply = _state(reply)
    assert reply.state == OutboundAction.State.SENT
    assert reply.case.stage == Stage.AWAITING_ENGAGEMENT
    assert all(_state(a).state == OutboundAction.State.PENDING for a in competitor_queue)


def test_the_tick_queues_each_accounts_first_due_row_and_its_task_sends_the_rest(
    competitor_queue: list[OutboundAction], service_reply: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    replies = [service_reply() for _ in range(3)]
    assert len({r.account_id for r in replies}) == 1
    queued: list[int] = []
    monkeypatch.setattr(tasks.send_action, "apply_async", lambda args, **_: queued.extend(args))
    assert tasks.dispatch_due_actions() == 1
    assert queued == [replies[0].pk]
    # The one task sends the account's rows one after the other, each checked again.
    assert tasks.send_action(queued[0]) == "sent"
    assert all(_state(r).state == OutboundAction.State.SENT for r in replies)
    assert tasks.dispatch_due_actions() == 0


def test_a_drain_stops_at_the_first_send_that_leaves_the_account_waiting(
    competitor_queue: list[OutboundAction], service_reply: Any
) -> None:
    reply = service_reply()
    # Due competitor rows behind the service reply on the same account: after the service
    # reply goes, the next row meets the spacing and is deferred; the drain stops there.
    OutboundAction.objects.filter(pk__in=[a.pk for a in competitor_queue]).update(
        not_before=timezone.now() - dt.timedelta(minutes=1)
    )
    outcomes = dispatch.send_due(reply.pk)
    assert [o.result for o in outcomes] == ["sent", "deferred"]
    states = [_state(a).state for a in competitor_queue]
    assert states == [OutboundAction.State.PENDING] * 3


def test_a_drain_sends_at_most_its_limit(
    competitor_queue: list[OutboundAction], service_reply: Any
) -> None:
    replies = [service_reply() for _ in range(3)]
    outcomes = dispatch.send_due(replies[0].pk, limit=2)
    assert [o.result for o in outcomes] == ["sent", "sent"]
    assert _state(replies[2]).state == OutboundAction.State.PENDING


def test_competitor_pacing_still_holds_beside_the_service_lane(
    competitor_queue: list[OutboundAction], service_reply: Any
) -> None:
    reply = service_reply()
    tasks.dispatch_due_actions()
    assert _state(reply).state == OutboundAction.State.SENT
    # The queued competitor replies come due: spacing holds them apart, one tick at a time.
    OutboundAction.objects.filter(pk__in=[a.pk for a in competitor_queue]).update(
        not_before=timezone.now()
    )
    # One tick tries the account's first due row only: spacing defers it. Each later tick
    # does the same for the next, so the three go out spaced, never together.
    spacing = caps.spacing(competitor_queue[0].account)
    for _ in competitor_queue:
        counts = dispatch.dispatch_due()
        assert counts["sent"] == 0 and counts["deferred"] == 1
    last_sent = max(OutboundAction.objects.exclude(sent_at=None).values_list("sent_at", flat=True))
    for action in competitor_queue:
        action = _state(action)
        assert action.state == OutboundAction.State.PENDING
        assert action.not_before >= last_sent + spacing


def test_the_competitor_hourly_cap_refuses_approval_but_not_a_service_reply(
    advance: Any, playbook: Playbook, service_reply: Any
) -> None:
    Playbook.objects.filter(pk=playbook.pk).update(max_replies_per_account_per_hour=2)
    advance(Stage.APPROVED, post=sandbox_post())
    advance(Stage.APPROVED, post=sandbox_post())
    with pytest.raises(workflow.RuleViolation, match="replies queued or sent this hour"):
        advance(Stage.APPROVED, post=sandbox_post())
    Playbook.objects.filter(kind=PlaybookKind.OWN_BRAND).update(max_replies_per_account_per_hour=1)
    assert service_reply().state == OutboundAction.State.PENDING


def test_a_service_reply_is_queued_for_now_without_spacing(
    competitor_queue: list[OutboundAction], service_reply: Any
) -> None:
    before = timezone.now()
    reply = service_reply()
    assert before <= reply.not_before <= timezone.now()


def test_due_service_rows_are_sent_before_competitor_rows(
    competitor_queue: list[OutboundAction], service_reply: Any
) -> None:
    OutboundAction.objects.filter(pk__in=[a.pk for a in competitor_queue]).update(
        not_before=timezone.now() - dt.timedelta(hours=1)
    )
    reply = service_reply()
    assert dispatch.due_action_ids()[0] == reply.pk


def test_the_platform_rate_limit_holds_a_service_reply_too(
    competitor_queue: list[OutboundAction], service_reply: Any
) -> None:
    reply = service_reply()
    until = timezone.now() + dt.timedelta(minutes=7)
    Account.objects.filter(pk=reply.account_id).update(rate_limited_until=until)
    assert dispatch.send_action(reply.pk).result == "deferred"
    reply = _state(reply)
    # Exactly the platform's time: no pacing jitter on a service reply.
    assert reply.state == OutboundAction.State.PENDING and reply.not_before == until
    assert reply.attempts == 0


def test_the_account_hourly_send_cap_does_not_hold_a_service_reply(
    competitor_queue: list[OutboundAction], service_reply: Any
) -> None:
    Account.objects.filter(pk=competitor_queue[0].account_id).update(max_sends_per_hour=1)
    reply = service_reply()
    assert dispatch.send_action(reply.pk).result == "sent"


# --- The service account ----------------------------------------------------------------


def test_own_brand_replies_go_from_the_service_account_and_outreach_from_another(
    account: Account, advance: Any, service_reply: Any
) -> None:
    care = AccountFactory(handle="northwind_help", is_service=True)
    reply = service_reply()
    assert reply.account_id == care.pk
    outreach = OutboundAction.objects.get(
        case=advance(Stage.APPROVED, post=sandbox_post()), kind="reply"
    )
    assert outreach.account_id == account.pk


def test_without_a_service_account_own_brand_replies_use_the_platforms_account(
    account: Account, service_reply: Any
) -> None:
    assert service_reply().account_id == account.pk


def test_a_disabled_service_account_is_not_used(account: Account, service_reply: Any) -> None:
    AccountFactory(handle="northwind_help", is_service=True, enabled=False)
    assert service_reply().account_id == account.pk


def test_the_database_holds_one_service_account_per_platform(account: Account) -> None:
    AccountFactory(handle="northwind_help", is_service=True)
    refused = pytest.raises(IntegrityError, match="account_one_service_per_platform")
    with refused, transaction.atomic():
        Account.objects.filter(pk=account.pk).update(is_service=True)
    # Another platform may have its own.
    AccountFactory(platform="mastodon", handle="northwind@social.example", is_service=True)
    assert Account.objects.filter(is_service=True).count() == 2


def test_the_account_admin_refuses_a_second_service_account(
    account: Account, admin_user: Any
) -> None:
    AccountFactory(handle="northwind_help", is_service=True)
    client = Client()
    client.force_login(admin_user)
    url = reverse("admin:monitoring_account_change", args=[account.pk])
    page = client.get(url)
    assert page.status_code == 200 and "is_service" in page.content.decode()
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.update(is_service="on", options="{}", credentials="")
    response = client.post(url, data)
    assert response.status_code == 200  # the form again, with the refusal
    assert "already has a service account" in response.content.decode()
    assert not Account.objects.get(pk=account.pk).is_service


# --- When it goes, and why ------------------------------------------------------------------


def test_the_forecast_names_the_spacing_of_a_queued_competitor_reply(
    competitor_queue: list[OutboundAction],
) -> None:
    action = _state(competitor_queue[0])
    forecast = workflow.send_forecast(action)
    assert forecast.at is not None and forecast.at >= action.not_before
    assert {r.code for r in forecast.reasons} >= {"scheduled", "spacing"}


def test_the_forecast_of_a_service_reply_is_the_next_tick(
    competitor_queue: list[OutboundAction], service_reply: Any
) -> None:
    reply = _state(service_reply())
    forecast = workflow.send_forecast(reply)
    assert forecast.reasons == ()
    assert forecast.at is not None and forecast.at <= timezone.now()


def test_the_forecast_names_the_platform_rate_limit_with_its_time(
    competitor_queue: list[OutboundAction], service_reply: Any
) -> None:
    reply = service_reply()
    until = timezone.now() + dt.timedelta(minutes=20)
    Account.objects.filter(pk=reply.account_id).update(rate_limited_until=until)
    forecast = workflow.send_forecast(_state(reply))
    assert [(r.code, r.until) for r in forecast.reasons] == [("rate_limited", until)]
    assert forecast.at == until


def test_the_forecast_names_a_cap_that_will_not_free_up(
    approved_in_incident: Any,
) -> None:
    forecast = workflow.send_forecast(approved_in_incident)
    assert forecast.at is None
    assert "incident" in {r.code for r in forecast.reasons}


@pytest.fixture
def approved_in_incident(advance: Any, competitor: Brand, playbook: Playbook) -> OutboundAction:
    from tests.factories import IncidentFactory

    incident = IncidentFactory(brand=competitor)
    case = advance(Stage.APPROVED, post=sandbox_post())
    Case.objects.filter(pk=case.pk).update(incident=incident)
    Playbook.objects.filter(pk=playbook.pk).update(max_replies_per_incident=0)
    return _state(OutboundAction.objects.get(case=case, kind="reply"))


def test_the_case_page_says_when_the_reply_goes_and_why(
    competitor_queue: list[OutboundAction], service_reply: Any, reviewer: Any
) -> None:
    client = Client()
    client.force_login(reviewer)
    waiting = competitor_queue[0]
    page = client.get(reverse("admin:outreach_case_change", args=[waiting.case_id]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "When it goes" in body and "spacing sends from one account" in body
    reply = service_reply()
    page = client.get(reverse("admin:outreach_case_change", args=[reply.case_id]))
    assert "nothing holds it back" in page.content.decode()


def test_the_forecast_is_what_the_dispatcher_then_does(
    competitor_queue: list[OutboundAction],
) -> None:
    action = competitor_queue[0]
    OutboundAction.objects.filter(pk=action.pk).update(not_before=timezone.now())
    forecast = workflow.send_forecast(_state(action))
    assert [r.code for r in forecast.reasons] == ["spacing"]
    assert forecast.at is not None
    assert dispatch.send_action(action.pk).result == "deferred"
    deferred_to = _state(action).not_before
    # The dispatcher adds its jitter (at most a quarter of the spacing) to the same time.
    assert forecast.at <= deferred_to <= forecast.at + caps.spacing(action.account) / 4


def test_a_service_reply_waits_only_seconds_for_a_send_in_flight(
    competitor_queue: list[OutboundAction], service_reply: Any
) -> None:
    in_flight = competitor_queue[0]
    lease = timezone.now() + dt.timedelta(minutes=5)
    OutboundAction.objects.filter(pk=in_flight.pk).update(state="sending", not_before=lease)
    reply = service_reply()
    assert dispatch.send_action(reply.pk).result == "deferred"
    assert _state(reply).not_before <= timezone.now() + caps.SERVICE_BUSY_RETRY
