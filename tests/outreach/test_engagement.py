"""Engagement detection on the sandbox network: its people react to our replies
for real (by persona), and notifications are read from a stored cursor."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from monitoring.models import Account, SandboxNotification, SandboxPost
from monitoring.platforms import TransientError
from monitoring.platforms.sandbox import SandboxPlatform
from outreach import dispatch, engagement
from outreach.models import (
    Case,
    DoNotContact,
    EngagementEvent,
    OutboundAction,
    Stage,
)
from tests.factories import SandboxPersonaFactory
from tests.outreach.factories import sandbox_post
from tests.outreach.test_dispatch import make_due

pytestmark = pytest.mark.django_db

LATER = dt.timedelta(minutes=10)  # past every persona's reaction delay


@pytest.fixture
def replied(advance: Any) -> Callable[[str], Case]:
    """A case whose reply the dispatcher posted to a sandbox person with ``persona``."""

    def _replied(persona: str) -> Case:
        case = advance(Stage.APPROVED, post=sandbox_post(persona=persona))
        action = OutboundAction.objects.get(case=case, kind="reply")
        Account.objects.filter(pk=action.account_id).update(max_sends_per_hour=100_000)
        make_due(action)
        assert dispatch.send_action(action.pk).result == "sent"
        case.refresh_from_db()
        return case

    return _replied


def read(case: Case) -> engagement.ReadResult:
    account_id = OutboundAction.objects.get(case=case, kind="reply").account_id
    with time_machine.travel(timezone.now() + LATER):
        return engagement.read_notifications(account_id)


def kinds(case: Case) -> list[str]:
    return sorted(EngagementEvent.objects.filter(case=case).values_list("kind", flat=True))


def stage(case: Case) -> str:
    return Case.objects.get(pk=case.pk).stage


def notify(case: Case, kind: str, *, person: Any = None, text: str = "", minutes: int = 1) -> None:
    """A notification as the sandbox network itself writes them."""
    reply = OutboundAction.objects.get(case=case, kind="reply")
    our_post = SandboxPost.objects.get(pk=int(reply.external_id))
    who_id = person.external_id if person else case.person.external_id
    who = person.handle if person else case.person.handle
    answer = None
    if text:
        answer = SandboxPost.objects.create(
            author_id_text=who_id,
            author_handle=who,
            text=text,
            published_at=timezone.now(),
            reply_to=our_post,
        )
    SandboxNotification.objects.create(
        account_handle=reply.account.handle,
        kind=kind,
        person_id_text=who_id,
        person_handle=who,
        subject=our_post,
        post=answer,
        visible_at=timezone.now() + dt.timedelta(minutes=minutes),
    )


# --- The people of the sandbox react ----------------------------------------------------------


def test_a_kind_answer_engages_the_case(replied: Any) -> None:
    case = replied("friendly")
    result = read(case)
    assert result.recorded == 2
    assert kinds(case) == ["favourite", "reply"]
    assert stage(case) == Stage.ENGAGED
    event = EngagementEvent.objects.get(case=case, kind="reply")
    assert event.text.startswith("@")
    assert event.payload["person"]["id"] == case.person.external_id


def test_a_follow_back_is_engagement(replied: Any) -> None:
    case = replied("follower")
    read(case)
    assert kinds(case) == ["favourite", "follow", "reply"]
    assert stage(case) == Stage.ENGAGED


def test_a_favourite_alone_is_recorded_but_the_case_keeps_waiting(replied: Any) -> None:
    case = replied("liker")
    read(case)
    assert kinds(case) == ["favourite"]
    assert stage(case) == Stage.AWAITING_ENGAGEMENT


def test_a_hostile_answer_opts_the_person_out(replied: Any) -> None:
    case = replied("hostile")
    read(case)
    assert stage(case) == Stage.OPTED_OUT
    assert DoNotContact.objects.filter(person_external_id=case.person.external_id).exists()
    # Nothing is sent back.
    assert OutboundAction.objects.filter(case=case).count() == 1


def test_a_block_opts_the_person_out(replied: Any) -> None:
    case = replied("blocker")
    read(case)
    assert kinds(case) == ["block"]
    assert stage(case) == Stage.OPTED_OUT
    assert DoNotContact.objects.filter(handle=case.person.handle.lower()).exists()


def test_silence_records_nothing(replied: Any) -> None:
    case = replied("silent")
    result = read(case)
    assert result.recorded == 0
    assert stage(case) == Stage.AWAITING_ENGAGEMENT


# --- Every kind of notification -------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("reply", "thanks, that helps a bit", Stage.ENGAGED),
        ("mention", "@northwind_care kind of you to ask", Stage.ENGAGED),
        ("private_message", "can we talk privately?", Stage.ENGAGED),
        ("follow", "", Stage.ENGAGED),
        ("favourite", "", Stage.AWAITING_ENGAGEMENT),
        ("boost", "", Stage.AWAITING_ENGAGEMENT),
        ("block", "", Stage.OPTED_OUT),
        ("mute", "", Stage.OPTED_OUT),
        ("reply", "stop replying to me, this is spam", Stage.OPTED_OUT),
        ("mention", "leave me alone", Stage.OPTED_OUT),
        ("reply", "not interested", Stage.OPTED_OUT),
    ],
)
def test_each_notification_kind_moves_the_case_as_the_rules_say(
    replied: Any, kind: str, text: str, expected: str
) -> None:
    case = replied("silent")
    notify(case, kind, text=text)
    result = read(case)
    assert result.recorded == 1
    assert kinds(case) == [kind]
    assert stage(case) == expected
    assert DoNotContact.objects.exists() == (expected == Stage.OPTED_OUT)


def test_notifications_from_people_we_never_replied_to_are_ignored(replied: Any) -> None:
    case = replied("silent")
    stranger = SandboxPersonaFactory(persona="friendly")
    notify(case, "reply", person=stranger, text="who are you?")
    notify(case, "follow", person=stranger)
    notify(case, "block", person=stranger)
    result = read(case)
    assert result.recorded == 0
    assert result.ignored == 3
    assert not EngagementEvent.objects.exists()
    assert not DoNotContact.objects.exists()
    assert stage(case) == Stage.AWAITING_ENGAGEMENT


def test_unknown_notification_kinds_are_ignored(replied: Any) -> None:
    case = replied("silent")
    notify(case, "poll_ended")
    assert read(case).ignored == 1
    assert not EngagementEvent.objects.exists()


def test_a_notification_is_recorded_once_however_often_we_read(replied: Any) -> None:
    case = replied("friendly")
    first = read(case)
    account = Account.objects.get(pk=OutboundAction.objects.get(case=case).account_id)
    assert account.notifications_cursor
    # Forget the cursor, as after restoring an old backup: nothing is stored twice.
    Account.objects.filter(pk=account.pk).update(notifications_cursor="")
    again = read(case)
    assert first.recorded == 2
    assert again.recorded == 0
    assert EngagementEvent.objects.count() == 2


# --- The cursor across pages and failures ---------------------------------------------


class FlakyNotifications(SandboxPlatform):
    fail_on_calls: set[int] = set()
    calls = 0

    def notifications(self, cursor: str) -> Any:
        type(self).calls += 1
        if type(self).calls in type(self).fail_on_calls:
            raise TransientError("502 Bad Gateway")
        return super().notifications(cursor)


def test_the_cursor_loses_nothing_across_pages_and_a_failure(
    replied: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = replied("silent")
    for minute in range(95):  # more than two pages of 40
        notify(case, "favourite", minutes=1 + minute % 5)
    FlakyNotifications.calls = 0
    FlakyNotifications.fail_on_calls = {2}  # the second page fails
    monkeypatch.setattr(
        dispatch, "platform_for", lambda a: FlakyNotifications(options={"handle": a.handle})
    )
    first = read(case)
    assert (first.pages, first.recorded) == (1, 40)
    assert "502" in first.error
    second = read(case)
    assert second.recorded == 55
    assert second.pages == 2
    assert EngagementEvent.objects.filter(case=case).count() == 95
    assert read(case).recorded == 0


@pytest.mark.django_db(transaction=True)
def test_two_readers_at_once_store_each_notification_once(replied: Any) -> None:
    case = replied("silent")
    for _ in range(30):
        notify(case, "favourite")
    account_id = OutboundAction.objects.get(case=case).account_id
    results: list[engagement.ReadResult] = []
    barrier = threading.Barrier(3)

    def reader() -> None:
        try:
            barrier.wait()
            with time_machine.travel(timezone.now() + LATER):
                results.append(engagement.read_notifications(account_id))
        finally:
            connection.close()

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.recorded for r in results) == 30
    assert EngagementEvent.objects.count() == 30


def test_only_accounts_that_replied_are_read(replied: Any) -> None:
    case = replied("silent")
    idle = Account.objects.create(platform="sandbox", handle="nobody_here")
    ids = engagement.account_ids_to_read()
    assert OutboundAction.objects.get(case=case).account_id in ids
    assert idle.pk not in ids


def test_a_disabled_account_is_not_read(replied: Any) -> None:
    case = replied("friendly")
    Account.objects.update(enabled=False)
    assert read(case).error == "account disabled"
    assert not EngagementEvent.objects.exists()
