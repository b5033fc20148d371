"""The queue built for the work, the header's badge, the reviewers' digest and the live tone
guard (issue #16, items 2, 3, 4 and 6), through the Django test client."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from outreach import digest, workflow
from outreach.admin.display import grouped_findings, relative_due
from outreach.models import Case, CaseEvent, PlaybookKind, Stage
from tests.outreach.factories import COMPLAINT, SUMMARY, PostFactory, UserFactory

pytestmark = pytest.mark.django_db

QUEUE = "admin:outreach_case_changelist"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> gpj\u202eexe.txt'


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _queue(user: Any, query: str = "") -> Any:
    response = _client(user).get(reverse(QUEUE) + query)
    assert response.status_code == 200
    return response


def _row(html: str, case: Case) -> str:
    """The queue's table row of ``case``."""
    link = reverse("admin:outreach_case_change", args=[case.pk])
    rows = [r for r in re.findall(r"<tr>.*?</tr>", html, re.S) if link in r]
    assert len(rows) == 1, f"no single row for case {case.pk}"
    return rows[0]


# --- the queue ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "words", "state"),
    [
        (-15, "overdue by 15 min", "overdue"),
        (-(3 * 60 + 5), "overdue by 3 h 5 min", "overdue"),
        (40, "due in 40 min", "soon"),
        (80, "due in 1 h 20 min", "later"),
        (60 * 24 * 2 + 60, "due in 2 d 1 h", "later"),
    ],
)
def test_due_times_are_said_relative_to_now(minutes: int, words: str, state: str) -> None:
    now = timezone.now()
    assert relative_due(
        now + dt.timedelta(minutes=minutes, seconds=30 if minutes > 0 else -30), now
    ) == (
        words,
        state,
    )


def test_queue_shows_due_times_relative_and_coloured(advance: Any, analyst: Any) -> None:
    # given a case overdue, one due within the hour and one due later
    overdue, soon, later = advance(Stage.NEW), advance(Stage.NEW), advance(Stage.NEW)
    now = timezone.now()
    Case.objects.filter(pk=overdue.pk).update(due_at=now - dt.timedelta(minutes=15, seconds=20))
    Case.objects.filter(pk=soon.pk).update(due_at=now + dt.timedelta(minutes=40, seconds=20))
    Case.objects.filter(pk=later.pk).update(due_at=now + dt.timedelta(hours=5, seconds=20))
    # when the queue is shown
    html = _queue(analyst).content.decode()
    # then each due time is relative, with the class that colours it
    assert 'class="nj-due nj-due-overdue"' in _row(html, overdue)
    assert "overdue by 15 min" in _row(html, overdue)
    assert 'class="nj-due nj-due-soon"' in _row(html, soon)
    assert "due in 40 min" in _row(html, soon)
    assert 'class="nj-due nj-due-later"' in _row(html, later)
    assert "due in 5 h" in _row(html, later)


def test_queue_shows_the_post_wrapped_with_its_platform(advance: Any, analyst: Any) -> None:
    long_text = COMPLAINT + " " + " ".join(["and the router keeps blinking red"] * 6)
    case = advance(Stage.NEW, post=PostFactory(text=long_text))
    row = _row(_queue(analyst).content.decode(), case)
    # the whole post up to 400 characters, in a block the stylesheet wraps to three lines
    assert 'class="nj-post-text"' in row
    assert "router keeps blinking red" in row.split("nj-post-text")[1]
    assert 'class="nj-platform nj-platform-sandbox"' in row


def test_queue_shows_an_own_brand_case_sla(
    world: None, own_brand: Any, own_playbook: Any, analyst: Any
) -> None:
    post = PostFactory(text=COMPLAINT, posted_at=timezone.now() - dt.timedelta(minutes=5))
    case = workflow.open_case(post.pk, own_brand.pk, PlaybookKind.OWN_BRAND)
    row = _row(_queue(analyst).content.decode(), case)
    assert f"own brand · SLA {own_playbook.due_hours} h" in row


def test_queue_escapes_a_hostile_post(advance: Any, analyst: Any) -> None:
    case = advance(Stage.NEW, post=PostFactory(text=COMPLAINT + " " + HOSTILE))
    row = _row(_queue(analyst).content.decode(), case)
    assert "<script>" not in row and "<img" not in row
    assert "&lt;script&gt;" in row
    assert "\u202e" not in row and "[U+202E]" in row


def test_queue_shows_stages_in_words_with_the_code_beside(advance: Any, analyst: Any) -> None:
    case = advance(Stage.AWAITING_APPROVAL)
    row = _row(_queue(analyst).content.decode(), case)
    assert 'Awaiting approval <code class="nj-code">awaiting_approval</code>' in row


def test_queue_counts_stages_in_one_bar_and_documents_its_keys(advance: Any, analyst: Any) -> None:
    advance(Stage.NEW)
    advance(Stage.NEW)
    advance(Stage.DRAFTING)
    response = _queue(analyst)
    html = response.content.decode()
    bar = {label: n for label, n, *_ in response.context["stage_bar"]}
    assert bar["New"] == 2 and bar["Drafting"] == 1 and bar["Awaiting approval"] == 0
    assert "Dismissed" not in bar  # closed stages are folded below the bar
    assert html.count('class="nj-bar-seg') == len(bar)
    assert "<kbd>j</kbd>" in html and "<kbd>k</kbd>" in html and "<kbd>Enter</kbd>" in html
    assert "outreach/queue.js" in html
    assert "<script>" not in html.split("</head>")[1]  # no inline script (CSP)


def test_my_cases_is_one_click_from_the_top(advance: Any, analyst: Any) -> None:
    mine = advance(Stage.NEW)
    workflow.claim(mine, actor=analyst)
    advance(Stage.NEW)
    html = _queue(analyst).content.decode()
    assert 'id="nj-my-cases"' in html and "?assignee=me" in html
    listed = _queue(analyst, "?assignee=me").context["cl"].result_list
    assert [c.pk for c in listed] == [mine.pk]


def test_awaiting_my_approval_lists_drafts_others_wrote(
    advance: Any, analyst: Any, reviewer: Any, reviewer2: Any
) -> None:
    # given a draft the reviewer wrote and submitted, and one the analyst submitted
    waiting = advance(Stage.AWAITING_APPROVAL)
    own = advance(Stage.RESEARCHING)
    workflow.save_research(
        own, actor=reviewer, summary=SUMMARY, thread_checked=True, scope="isolated"
    )
    own.refresh_from_db()
    workflow.save_draft(own, actor=reviewer, text=waiting.drafts.get().text)
    workflow.submit_draft(own, actor=reviewer)
    advance(Stage.DRAFTING)
    # then the reviewer's "awaiting my approval" lists only the one they may approve
    assert 'id="nj-my-approvals"' in _queue(reviewer).content.decode()
    listed = _queue(reviewer, "?approval=mine").context["cl"].result_list
    assert [c.pk for c in listed] == [waiting.pk]
    listed = _queue(reviewer2, "?approval=mine").context["cl"].result_list
    assert sorted(c.pk for c in listed) == sorted([waiting.pk, own.pk])
    # and an analyst, who may not approve, has no such list
    assert 'id="nj-my-approvals"' not in _queue(analyst).content.decode()
    assert list(_queue(analyst, "?approval=mine").context["cl"].result_list) == []


# --- the badge --------------------------------------------------------------------------------


def _badge(user: Any) -> Any:
    return _queue(user).context["work_badge"]


def test_the_badge_counts_each_users_work(
    advance: Any, analyst: Any, reviewer: Any, reviewer2: Any
) -> None:
    # given two cases the analyst claimed (one submitted), and one nobody has, overdue
    advance(Stage.AWAITING_APPROVAL)  # claimed and written by the analyst
    advance(Stage.RESEARCHING)
    overdue = advance(Stage.NEW)
    Case.objects.filter(pk=overdue.pk).update(due_at=timezone.now() - dt.timedelta(minutes=5))
    # then each user sees their own counts
    badge = _badge(analyst)
    assert (badge["counts"].assigned, badge["counts"].to_approve, badge["counts"].overdue) == (
        2,
        0,
        1,
    )
    assert not badge["may_approve"]
    badge = _badge(reviewer)
    assert (badge["counts"].assigned, badge["counts"].to_approve) == (0, 1)
    html = _queue(reviewer).content.decode()
    assert 'id="nj-badge"' in html and "?approval=mine" in html and "?due=overdue" in html


def test_the_badge_is_on_every_admin_page_and_counted_once(analyst: Any, world: None) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _client(analyst)
    # A page that counts no cases itself (the admin's home is the dashboard, which does).
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(reverse("admin:monitoring_brand_changelist")).content.decode()
    assert 'id="nj-badge"' in html
    counting = [
        q for q in ctx.captured_queries if "outreach_case" in q["sql"] and "COUNT" in q["sql"]
    ]
    assert len(counting) == 1


def test_the_badge_is_not_shown_to_someone_signed_out(client: Client, world: None) -> None:
    html = client.get(reverse("admin:login")).content.decode()
    assert 'id="nj-badge"' not in html


def test_the_overdue_filter_matches_the_badge(advance: Any, analyst: Any) -> None:
    overdue = advance(Stage.NEW)
    advance(Stage.NEW)
    Case.objects.filter(pk=overdue.pk).update(due_at=timezone.now() - dt.timedelta(minutes=5))
    listed = _queue(analyst, "?due=overdue").context["cl"].result_list
    assert [c.pk for c in listed] == [overdue.pk]


# --- the reviewers' digest ---------------------------------------------------------------------


@pytest.fixture
def reviewer_mail(reviewer: Any) -> str:
    reviewer.email = "lead@example.com"
    reviewer.save()
    return reviewer.email


def _later(**delta: float) -> Any:
    return time_machine.travel(timezone.now() + dt.timedelta(**delta))


def test_the_digest_tells_reviewers_once_per_case_past_the_setting(
    advance: Any, reviewer_mail: str, settings: Any
) -> None:
    settings.NOJACKAL_APPROVAL_DIGEST_MINUTES = 30
    case = advance(Stage.AWAITING_APPROVAL)
    # not yet: 20 minutes of 30
    with _later(minutes=20):
        assert digest.send_approval_digest() == 0
    assert mail.outbox == []
    # past the setting: one message to the reviewers, naming the case
    with _later(minutes=31):
        assert digest.send_approval_digest() == 1
        # the tick repeats: nothing more
        assert digest.send_approval_digest() == 0
    with _later(hours=5):
        assert digest.send_approval_digest() == 0
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [reviewer_mail]
    assert f"case {case.pk}" in mail.outbox[0].body
    assert CaseEvent.objects.filter(case=case, action=digest.DIGEST_ACTION).count() == 1


def test_the_digest_leaves_cases_no_longer_awaiting_approval(
    advance: Any, reviewer_mail: str, settings: Any
) -> None:
    settings.NOJACKAL_APPROVAL_DIGEST_MINUTES = 30
    advance(Stage.APPROVED)
    advance(Stage.DRAFTING)
    with _later(hours=2):
        assert digest.send_approval_digest() == 0
    assert mail.outbox == []


def test_a_digest_that_could_not_go_out_is_tried_again(
    advance: Any, reviewer_mail: str, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitoring import alerts

    settings.NOJACKAL_APPROVAL_DIGEST_MINUTES = 30
    case = advance(Stage.AWAITING_APPROVAL)

    def broken(*args: Any, **kwargs: Any) -> int:
        raise ConnectionError("smtp down")

    with monkeypatch.context() as patch:
        patch.setattr(alerts, "send", broken)
        with _later(minutes=40), pytest.raises(ConnectionError):
            digest.send_approval_digest()
    assert not CaseEvent.objects.filter(case=case, action=digest.DIGEST_ACTION).exists()
    with _later(minutes=45):
        assert digest.send_approval_digest() == 1
    assert len(mail.outbox) == 1


def test_the_digest_goes_to_the_team_when_no_reviewer_has_an_address(
    advance: Any, settings: Any
) -> None:
    settings.NOJACKAL_APPROVAL_DIGEST_MINUTES = 30
    settings.NOJACKAL_ALERT_EMAILS = ["team@example.com"]
    advance(Stage.AWAITING_APPROVAL)
    with _later(minutes=31):
        assert digest.send_approval_digest() == 1
    assert mail.outbox[0].to == ["team@example.com"]


def test_the_digest_tick_is_a_registered_beat_task(settings: Any) -> None:
    from outreach import tasks

    assert settings.CELERY_BEAT_SCHEDULE["approval-digest"]["task"] == tasks.approval_digest.name


# --- the live tone guard -------------------------------------------------------------------------


def _check(client: Client, case_pk: int, **data: str) -> Any:
    return client.post(reverse("admin:outreach_case_tone_check", args=[case_pk]), data)


def test_live_check_answers_the_guards_findings_once_each_with_their_spans(
    advance: Any, analyst: Any
) -> None:
    case = advance(Stage.DRAFTING)
    text = "Switch to Northwind! Really, switch to Northwind today."
    response = _check(_client(analyst), case.pk, text=text)
    assert response.status_code == 200
    findings = response.json()["findings"]
    codes = [f["code"] for f in findings]
    assert len(codes) == len(set(codes))  # each finding once
    cta = next(f for f in findings if f["code"] == "call_to_action")
    assert cta["blocking"] and len(cta["spans"]) == 2
    assert all(text[s:e].lower().startswith("switch") for s, e in cta["spans"])
    assert cta["words"].startswith("a call to action")
    assert response.json()["blocking"] >= 1
    # nothing was saved: the save stays the authority
    assert not case.drafts.exists() or case.drafts.get().text != text


def test_live_check_of_a_clean_reply_has_no_findings(advance: Any, analyst: Any) -> None:
    case = advance(Stage.DRAFTING)
    text = case.drafts.get().text
    response = _check(_client(analyst), case.pk, text=text)
    assert response.status_code == 200
    assert response.json() == {"findings": [], "blocking": 0}


def test_live_check_needs_the_change_permission(advance: Any, roles: None) -> None:
    case = advance(Stage.DRAFTING)
    onlooker = UserFactory(username="onlooker")
    from django.contrib.auth.models import Permission

    onlooker.user_permissions.add(Permission.objects.get(codename="view_case"))
    response = _check(_client(onlooker), case.pk, text="hello")
    assert response.status_code == 403
    assert "error" in response.json()


def test_live_check_signed_out_is_sent_to_sign_in(advance: Any, client: Client) -> None:
    case = advance(Stage.DRAFTING)
    response = _check(client, case.pk, text="hello")
    assert response.status_code == 302 and "login" in response["Location"]


def test_live_check_needs_the_csrf_token(advance: Any, analyst: Any) -> None:
    case = advance(Stage.DRAFTING)
    client = Client(enforce_csrf_checks=True)
    client.force_login(analyst)
    assert _check(client, case.pk, text="hello").status_code == 403
    # with the page's token it is answered
    client.get(reverse("admin:outreach_case_change", args=[case.pk]))
    token = client.cookies["csrftoken"].value
    response = client.post(
        reverse("admin:outreach_case_tone_check", args=[case.pk]),
        {"text": "hello"},
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"text": ""}, 400),
        ({"text": "   \n "}, 400),
        ({}, 400),
        ({"text": "x" * 10_001}, 413),
        ({"text": "hello", "reply": "neither"}, 400),
    ],
)
def test_live_check_refuses_bad_input_clearly(
    advance: Any, analyst: Any, data: dict[str, str], status: int
) -> None:
    case = advance(Stage.DRAFTING)
    response = _check(_client(analyst), case.pk, **data)
    assert response.status_code == status
    assert response.json()["error"]


def test_live_check_of_an_unknown_case_is_not_found(advance: Any, analyst: Any) -> None:
    response = _check(_client(analyst), 999_999, text="hello")
    assert response.status_code == 404
    assert "999999" in response.json()["error"]


def test_live_check_is_post_only(advance: Any, analyst: Any) -> None:
    case = advance(Stage.DRAFTING)
    response = _client(analyst).get(reverse("admin:outreach_case_tone_check", args=[case.pk]))
    assert response.status_code == 405


def test_the_case_page_loads_the_live_guard_without_inline_script(
    advance: Any, analyst: Any
) -> None:
    case = advance(Stage.DRAFTING)
    html = _client(analyst).get(reverse("admin:outreach_case_change", args=[case.pk])).content
    html = html.decode()
    assert "outreach/tone_live.js" in html
    assert f'data-tone-url="{reverse("admin:outreach_case_tone_check", args=[case.pk])}"' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)


def test_findings_found_twice_are_listed_once_in_words_with_the_code(
    advance: Any, analyst: Any
) -> None:
    case = advance(Stage.DRAFTING)
    client = _client(analyst)
    client.post(
        reverse("admin:outreach_case_draft", args=[case.pk]),
        {"text": "Switch to Northwind. Switch to Northwind!"},
    )
    html = client.get(reverse("admin:outreach_case_change", args=[case.pk])).content.decode()
    findings = html.split('id="nj-findings"')[1].split("</ul>")[0]
    assert findings.count('<code class="nj-code">call_to_action</code>') == 1
    assert "Blocks: a call to action" in findings


def test_grouping_keeps_each_span_and_excerpt_once() -> None:
    text = "buy now, buy now"
    raw = [
        {"code": "call_to_action", "blocking": True, "message": "m", "start": 0, "end": 3},
        {"code": "call_to_action", "blocking": True, "message": "m", "start": 9, "end": 12},
        {"code": "call_to_action", "blocking": True, "message": "m", "start": 9, "end": 12},
        {"code": "shouting", "blocking": False, "message": "w", "start": 0, "end": 3},
    ]
    grouped = grouped_findings(text, raw)
    assert [g["code"] for g in grouped] == ["call_to_action", "shouting"]
    assert grouped[0]["spans"] == [[0, 3], [9, 12]]
    assert grouped[0]["excerpts"] == ["buy"]
    assert json.dumps(grouped)  # the view answers it as JSON


# --- words, not codes -----------------------------------------------------------------------------


def test_the_case_page_says_refusals_in_words_with_the_code_beside(
    advance: Any, reviewer: Any
) -> None:
    case = advance(Stage.AWAITING_APPROVAL)
    html = _client(reviewer).get(reverse("admin:outreach_case_change", args=[case.pk]))
    assert "(case is awaiting approval · awaiting_approval)" in html.content.decode()


def test_a_blocked_submit_names_the_findings_in_words_with_their_codes(
    advance: Any, analyst: Any
) -> None:
    case = advance(Stage.DRAFTING)
    client = _client(analyst)
    response = client.post(
        reverse("admin:outreach_case_draft", args=[case.pk]),
        {"text": "Switch to Northwind today", "submit": "1"},
        follow=True,
    )
    said = " | ".join(str(m) for m in response.context["messages"])
    assert (
        "a call to action (switch, try, buy, sign up, DM us, check out...) (call_to_action)" in said
    )


def test_the_queue_shows_a_severity_other_than_normal_in_words(advance: Any, analyst: Any) -> None:
    urgent = advance(Stage.NEW)
    Case.objects.filter(pk=urgent.pk).update(severity=4)
    row = _row(_queue(analyst).content.decode(), urgent)
    assert '<span class="nj-severity nj-severity-4">Urgent</span>' in row


def test_one_digest_names_every_draft_waiting(
    advance: Any, reviewer_mail: str, settings: Any
) -> None:
    settings.NOJACKAL_APPROVAL_DIGEST_MINUTES = 30
    first, second = advance(Stage.AWAITING_APPROVAL), advance(Stage.AWAITING_APPROVAL)
    with _later(minutes=31):
        assert digest.send_approval_digest() == 2
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert f"case {first.pk} " in body and f"case {second.pk} " in body
    assert "2 drafts awaiting approval" in mail.outbox[0].subject
