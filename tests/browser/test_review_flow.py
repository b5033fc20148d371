"""The review flow in a real browser, with a real worker and beat behind the live server.

A friendly sandbox person complains about Telvana; beat polls, the worker judges the post and
triage opens the case. In the browser the analyst takes it from the queue, researches it and
types a draft that the live tone guard blocks while it is typed (nothing saved), fixes it and
submits it; the reviewer (another demo user, signing in with a one-time code) follows the
header badge to "awaiting my approval" and approves it. The worker sends the reply, the person
answers, the case is engaged; the analyst follows the person and the worker sends the follow.
After each step the dashboard's funnel, read in the browser, counts the case one step further.
A screenshot of each step goes to the run's folder, and one of each dashboard panel to its
``dashboard/`` folder under stable names (printed at the end of the run).
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from monitoring.models import Account, SandboxNotification, SandboxPersona, SandboxPost
from outreach.models import Case, OutboundAction, Playbook, PlaybookKind, ReplyDraft, Stage
from tests.browser.output import dashboard_folder
from tests.processes import celery, clean_env, running, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.xdist_group("browser")]

# A Redis database of its own, so that beat's ticks reach only this test's worker.
BROKER = "redis://127.0.0.1:6379/12"
COMPLAINT = "@telvana my broadband has been down since yesterday and nobody answers the phone"
SUMMARY = "Broadband down since yesterday, support unreachable; one person, no outage seen."
PITCH = "So sorry! Switch to Northwind today, see https://northwind.example/offer"
REPLY = "That sounds really frustrating, a whole day without broadband. Hope it is back soon."
PERSON = "browser_maya"
# The funnel's steps, in the dashboard's order (outreach/dashboard.py FUNNEL).
STEPS = ("Detected", "Case", "Researched", "Replied", "Engaged", "Followed")
# The dashboard's panels (outreach/templates/admin/dashboard.html) and the stable names of
# their screenshots.
PANELS = {
    "panel-funnel": "funnel",
    "panel-complaints": "complaints-per-brand-per-day",
    "panel-service": "own-brand-service-sla",
    "panel-jackals": "are-we-being-jackals",
    "panel-workload": "workload",
}


def _world() -> None:
    """The demo, quieted to one friendly complaint, and paced for a test rather than an hour."""
    SandboxPost.objects.all().delete()  # the demo's scheduled corpus: not this test's story
    persona = SandboxPersona.objects.create(
        external_id="u-browser", handle=PERSON, persona="friendly"
    )
    SandboxPost.objects.create(
        author_id_text=persona.external_id,
        author_handle=persona.handle,
        text=COMPLAINT,
        published_at=timezone.now() - dt.timedelta(minutes=1),
    )
    # The highest a competitor playbook may set (outreach/limits.py): jitter <= 15 s a send.
    Playbook.objects.filter(kind=PlaybookKind.COMPETITOR).update(
        max_replies_per_account_per_hour=60
    )
    # The person answers an hour after our reply, unless the test brings it forward
    # (_person_answers): the dashboard is read between the reply and the answer.
    account = Account.objects.get(platform="sandbox")
    account.options = {**account.options, "reaction_delay": [3600, 3600]}
    account.max_sends_per_hour = 3600
    account.save()


def _person_answers() -> None:
    """The sandbox person's scheduled reaction to our reply (a like and an answer) happens now."""
    now = timezone.now()
    answered = SandboxNotification.objects.filter(person_handle=PERSON).update(visible_at=now)
    assert answered, "the sandbox scheduled no reaction to our reply"
    SandboxPost.objects.filter(author_handle=PERSON, reply_to__isnull=False).update(
        published_at=now
    )


def _worker_env() -> dict[str, str]:
    db = connection.settings_dict
    return clean_env(
        DJANGO_SETTINGS_MODULE="tests.settings",
        NOJACKAL_TEST_EAGER="0",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        CELERY_BROKER_URL=BROKER,
        NOJACKAL_POLL_TICK_SECONDS="1",
        NOJACKAL_DISPATCH_TICK_SECONDS="1",
        NOJACKAL_NOTIFICATIONS_TICK_SECONDS="1",
    )


def _click(session: Any, label: str) -> None:
    """Press a button or submit input by its label and wait for the page it leads to."""
    page = session.page
    with page.expect_navigation():
        page.get_by_role("button", name=label, exact=True).click()
    page.wait_for_load_state("load")
    session.watched.check(f"{session.username} pressing {label!r}")


def _funnel(session: Any, shot: str) -> dict[str, dict[str, int]]:
    """The dashboard's funnel as the browser shows it: per kind, the cases at each step."""
    session.open("/admin/dashboard/")
    session.shot(f"dashboard-{shot}")
    shown: dict[str, dict[str, int]] = {}
    for kind in (PlaybookKind.COMPETITOR, PlaybookKind.OWN_BRAND):
        rows = session.page.eval_on_selector_all(
            f"#funnel-{kind} tbody tr",
            "rows => rows.map(r => [r.cells[0].innerText.trim(), r.cells[1].innerText.trim()])",
        )
        shown[kind] = {step: int(count) for step, count in rows}
        assert tuple(shown[kind]) == STEPS, rows
    return shown


def _expect_funnel(
    session: Any, before: dict[str, dict[str, int]], reached: str, shot: str
) -> None:
    """The case counted in every step up to ``reached`` and in none after; nothing else moved."""
    shown = _funnel(session, shot)
    last = STEPS.index(reached)
    competitor = {
        step: before[PlaybookKind.COMPETITOR][step] + (1 if i <= last else 0)
        for i, step in enumerate(STEPS)
    }
    assert shown == {**before, PlaybookKind.COMPETITOR: competitor}, f"after {shot}"


def _panel_shots(session: Any) -> list[Path]:
    """An element screenshot of each dashboard panel, under the run's ``dashboard/`` folder."""
    session.open("/admin/dashboard/")
    folder = dashboard_folder()
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for element_id, name in PANELS.items():
        panel = session.page.locator(f"#{element_id}")
        expect(panel).to_be_visible()
        path = folder / f"dashboard-{name}.png"
        panel.screenshot(path=str(path))
        paths.append(path)
    return paths


def test_an_analyst_and_a_reviewer_take_a_complaint_to_followed_in_the_browser(
    sign_in: Any, tmp_path: Path
) -> None:
    # Given the demo, one friendly complaint on the sandbox network, and the dashboard's
    # funnel before the worker and beat start
    _world()
    analyst = sign_in("analyst")
    before = _funnel(analyst, "before")
    env = _worker_env()
    subprocess.run([*celery("purge", "-f")], env=env, check=True, capture_output=True, timeout=60)
    log = tmp_path / "worker.log"
    with (
        running(celery("worker", "--pool", "threads", "-c", "4", "-l", "INFO"), env, log),
        running(celery("beat", "-l", "INFO", "--max-interval", "1"), env, tmp_path / "beat.log"),
    ):
        wait_for(lambda: Case.objects.exists(), timeout=90, what="triage to open a case", log=log)
        case = Case.objects.get()
        _expect_funnel(analyst, before, "Case", "case-opened")

        # When the analyst takes it from the queue
        analyst.open("/admin/outreach/case/")
        analyst.shot("queue")
        with analyst.page.expect_navigation():
            analyst.page.get_by_role("link", name=COMPLAINT[:40]).first.click()
        analyst.watched.check("analyst opening the case from the queue")
        _click(analyst, "Claim and start research")
        analyst.shot("claimed")
        # researches it
        analyst.page.fill("#id_summary", SUMMARY)
        analyst.page.check("#id_thread_checked")
        analyst.page.select_option("#id_scope", "isolated")
        _click(analyst, "Save research")
        assert "Research saved." in analyst.page.inner_text(".messagelist")
        analyst.shot("researched")
        _expect_funnel(analyst, before, "Researched", "researched")
        analyst.open(f"/admin/outreach/case/{case.pk}/change/")
        draft_page = analyst.page.url
        # types a draft that the live tone guard blocks while it is typed, nothing saved
        page = analyst.page
        page.locator("#id_text").fill(PITCH)
        blocking = page.locator("#nj-findings li.blocking")
        expect(blocking.first).to_be_visible()
        expect(page.locator(".nj-tone-preview mark.nj-mark-blocking").first).to_be_visible()
        analyst.watched.check("analyst typing a draft the tone guard blocks")
        analyst.shot("draft-blocked-live")
        assert page.url == draft_page
        assert not ReplyDraft.objects.filter(case=case).exists()
        # fixes it, sees the blocking findings go, and submits it
        page.locator("#id_text").fill(REPLY)
        expect(blocking).to_have_count(0)
        expect(page.locator("#nj-findings li").first).to_be_visible()
        analyst.watched.check("analyst fixing the draft")
        analyst.shot("draft-fixed-live")
        _click(analyst, "Save and submit for approval")
        analyst.shot("submitted")
        assert Case.objects.get(pk=case.pk).stage == Stage.AWAITING_APPROVAL

        # and the reviewer follows the header badge to "awaiting my approval" and approves it
        reviewer = sign_in("reviewer")
        badge = reviewer.page.locator("#nj-badge a.nj-badge-approve")
        expect(badge).to_contain_text("to approve 1")
        with reviewer.page.expect_navigation():
            badge.click()
        reviewer.watched.check("reviewer following the badge")
        reviewer.shot("awaiting-my-approval")
        quick = reviewer.page.locator("#nj-my-approvals")
        assert reviewer.page.url.endswith(quick.get_attribute("href")), reviewer.page.url
        with reviewer.page.expect_navigation():
            reviewer.page.get_by_role("link", name=COMPLAINT[:40]).first.click()
        _click(reviewer, "Approve this exact reply")
        reviewer.shot("approved")

        # Then the worker sends the reply, and the funnel counts it replied
        wait_for(
            lambda: Case.objects.get(pk=case.pk).stage == Stage.AWAITING_ENGAGEMENT,
            timeout=90,
            what="the worker to send the reply",
            log=log,
        )
        _expect_funnel(analyst, before, "Replied", "replied")
        # the person answers and the case is engaged
        _person_answers()
        wait_for(
            lambda: Case.objects.get(pk=case.pk).stage == Stage.ENGAGED,
            timeout=90,
            what="the person's answer to engage the case",
            log=log,
        )
        analyst.open(f"/admin/outreach/case/{case.pk}/change/")
        analyst.shot("engaged")
        assert "What the person did" in analyst.page.inner_text("#content")
        _expect_funnel(analyst, before, "Engaged", "engaged")
        # and once the analyst follows the person, the worker sends the follow
        analyst.open(f"/admin/outreach/case/{case.pk}/change/")
        _click(analyst, "Follow the person")
        wait_for(
            lambda: OutboundAction.objects.filter(case=case, kind="follow", state="sent").exists(),
            timeout=60,
            what="the follow to be sent",
            log=log,
        )
        analyst.open(f"/admin/outreach/case/{case.pk}/change/")
        analyst.shot("followed")
        _expect_funnel(analyst, before, "Followed", "followed")

    assert Case.objects.get(pk=case.pk).stage == Stage.FOLLOWED
    assert [p.text for p in SandboxPost.objects.filter(author_handle="northwind_care")] == [REPLY]
    # The dashboard's panels once the case went all the way, one screenshot each
    shots = _panel_shots(analyst)
    assert [p.name for p in shots] == [f"dashboard-{name}.png" for name in PANELS.values()]
