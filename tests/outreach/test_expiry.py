"""Silence, stale posts and nearly-due own-brand cases, with time moved, never slept on."""

from __future__ import annotations

import datetime as dt
import sys
import types
from typing import Any

import pytest
import time_machine
from django.utils import timezone

import monitoring
from monitoring.models import Post
from outreach import expiry, workflow
from outreach.models import Case, CaseEvent, OutboundAction, PlaybookKind, Stage
from tests.outreach.factories import COMPLAINT, PostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alerts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Stand in for monitoring.alerts (the alert channel is another module's job)."""
    told: list[tuple[str, str]] = []
    sink = types.ModuleType("monitoring.alerts")
    sink.send = lambda subject, body: told.append((subject, body))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "monitoring.alerts", sink)
    monkeypatch.setattr(monitoring, "alerts", sink, raising=False)
    return told


def stage(case: Case) -> str:
    return Case.objects.get(pk=case.pk).stage


def later(**delta: float) -> Any:
    return time_machine.travel(timezone.now() + dt.timedelta(**delta))


# --- no_response --------------------------------------------------------------------------


def test_silence_past_the_engagement_window_ends_as_no_response(advance: Any) -> None:
    case = advance(Stage.AWAITING_ENGAGEMENT)
    with later(days=8):
        assert expiry.close_unanswered() == 1
    assert stage(case) == Stage.NO_RESPONSE


def test_a_case_inside_its_engagement_window_keeps_waiting(advance: Any) -> None:
    case = advance(Stage.AWAITING_ENGAGEMENT)
    with later(days=6):
        assert expiry.close_unanswered() == 0
    assert stage(case) == Stage.AWAITING_ENGAGEMENT


def test_an_engaged_case_never_ends_as_no_response_it_goes_quiet(advance: Any) -> None:
    case = advance(Stage.ENGAGED)
    with later(days=6):
        expiry.run()
    assert stage(case) == Stage.ENGAGED
    with later(days=30):
        expiry.run()
    # A conversation that went silent is not "no response": the person did answer.
    assert stage(case) == Stage.GONE_QUIET


# --- expired ---------------------------------------------------------------------------------


@pytest.mark.parametrize("start", [Stage.NEW, Stage.RESEARCHING, Stage.DRAFTING])
def test_a_case_not_replied_to_expires_when_its_post_gets_too_old(advance: Any, start: str) -> None:
    case = advance(start)
    with later(hours=72):
        assert expiry.expire_stale() == 1
    assert stage(case) == Stage.EXPIRED


def test_a_fresh_case_does_not_expire(advance: Any) -> None:
    case = advance(Stage.RESEARCHING)
    with later(hours=60):
        assert expiry.expire_stale() == 0
    assert stage(case) == Stage.RESEARCHING


def test_an_approved_reply_whose_post_got_too_old_is_cancelled(advance: Any) -> None:
    case = advance(Stage.APPROVED)
    with later(hours=80):
        expiry.run()
    assert stage(case) == Stage.EXPIRED
    assert OutboundAction.objects.get(case=case).state == OutboundAction.State.CANCELLED


def test_a_reply_being_sent_is_left_to_the_dispatcher(advance: Any) -> None:
    case = advance(Stage.APPROVED)
    OutboundAction.objects.filter(case=case).update(state=OutboundAction.State.SENDING)
    with later(hours=80):
        assert expiry.expire_stale() == 0
    assert stage(case) == Stage.APPROVED


def test_a_replied_case_does_not_expire_with_its_post(advance: Any) -> None:
    case = advance(Stage.AWAITING_ENGAGEMENT)
    with later(hours=80):
        assert expiry.expire_stale() == 0
    assert stage(case) == Stage.AWAITING_ENGAGEMENT


# --- own-brand cases near their due time ---------------------------------------------------


@pytest.fixture
def own_case(world: None, own_brand: Any, own_playbook: Any) -> Case:
    """An own-brand complaint opened now; its playbook gives the team 2 hours."""
    post = PostFactory(text=COMPLAINT, posted_at=timezone.now() - dt.timedelta(minutes=5))
    return workflow.open_case(post.pk, own_brand.pk, PlaybookKind.OWN_BRAND)


def test_an_own_brand_case_near_its_due_time_alerts_the_team_once(
    own_case: Case, alerts: list[tuple[str, str]]
) -> None:
    with later(minutes=70):  # 50 minutes left of 2 hours
        assert expiry.alert_due_own_brand() == 1
        assert expiry.alert_due_own_brand() == 0
    with later(minutes=150):  # overdue now: still only the one alert
        assert expiry.alert_due_own_brand() == 0
    assert len(alerts) == 1
    subject, body = alerts[0]
    assert "no answer yet" in body
    assert f"case {own_case.pk}" in subject
    assert "due in" in subject
    assert CaseEvent.objects.filter(case=own_case, action=expiry.ALERT_ACTION).count() == 1


@pytest.mark.parametrize(
    ("url", "named"),
    [("https://social.example/@ann/1", True), ("javascript:alert(1)", False)],
)
def test_the_due_alert_names_the_post_by_its_url_only_when_it_is_a_web_link(
    own_case: Case, alerts: list[tuple[str, str]], url: str, named: bool
) -> None:
    Post.objects.filter(pk=own_case.post_id).update(url=url)
    with later(minutes=70):
        assert expiry.alert_due_own_brand() == 1
    (_subject, body), *_ = alerts
    assert (url in body) is named
    assert named or f"Post: {own_case.post.external_id}" in body


def test_an_own_brand_case_with_time_left_does_not_alert(
    own_case: Case, alerts: list[tuple[str, str]]
) -> None:
    with later(minutes=30):
        assert expiry.alert_due_own_brand() == 0
    assert alerts == []


def test_a_competitor_case_near_its_due_time_does_not_alert(
    advance: Any, alerts: list[tuple[str, str]]
) -> None:
    advance(Stage.RESEARCHING)
    with later(hours=23, minutes=50):
        assert expiry.alert_due_own_brand() == 0
    assert alerts == []


def test_an_own_brand_case_already_closed_does_not_alert(
    own_case: Case, alerts: list[tuple[str, str]], analyst: Any
) -> None:
    workflow.dismiss(own_case, actor=analyst, reason="spam account")
    with later(minutes=110):
        assert expiry.alert_due_own_brand() == 0
    assert alerts == []


def test_an_alert_that_could_not_go_out_is_tried_again(
    own_case: Case, alerts: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(subject: str, body: str) -> None:
        raise ConnectionError("smtp down")

    monkeypatch.setattr(sys.modules["monitoring.alerts"], "send", broken)
    with later(minutes=70):
        assert expiry.alert_due_own_brand() == 0
    assert not CaseEvent.objects.filter(case=own_case, action=expiry.ALERT_ACTION).exists()
    monkeypatch.setattr(
        sys.modules["monitoring.alerts"], "send", lambda s, b: alerts.append((s, b))
    )
    with later(minutes=75):
        assert expiry.alert_due_own_brand() == 1
    assert len(alerts) == 1


def test_the_tick_reports_what_it_did(advance: Any, alerts: list[tuple[str, str]]) -> None:
    advance(Stage.AWAITING_ENGAGEMENT)
    advance(Stage.NEW)
    advance(Stage.ENGAGED)
    with later(days=8):
        assert expiry.run() == {"no_response": 1, "gone_quiet": 1, "expired": 1, "alerted": 0}
