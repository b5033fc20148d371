"""The review flow in a real browser, with a real worker and beat behind the live server.

A friendly sandbox person complains about Telvana; beat polls, the worker judges the post and
triage opens the case. In the browser the analyst takes it from the queue, researches it,
writes a draft that the tone guard blocks, fixes it and submits it; the reviewer (another demo
user, signing in with a one-time code) approves it from the "awaiting approval" list. The
worker sends the reply, the person answers, the case is engaged; the analyst follows the
person and the worker sends the follow. A screenshot of each step goes to the run's folder.

To extend (issue #16): add the dashboard's funnel check after each step, the live tone guard
(findings while typing) and "awaiting my approval" once they exist.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from monitoring.models import Account, SandboxPersona, SandboxPost
from outreach.models import Case, OutboundAction, Playbook, PlaybookKind, Stage
from tests.processes import celery, clean_env, running, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.xdist_group("browser")]

# A Redis database of its own, so that beat's ticks reach only this test's worker.
BROKER = "redis://127.0.0.1:6379/12"
COMPLAINT = "@telvana my broadband has been down since yesterday and nobody answers the phone"
SUMMARY = "Broadband down since yesterday, support unreachable; one person, no outage seen."
PITCH = "So sorry! Switch to Northwind today, see https://northwind.example/offer"
REPLY = "That sounds really frustrating, a whole day without broadband. Hope it is back soon."


def _world() -> None:
    """The demo, quieted to one friendly complaint, and paced for a test rather than an hour."""
    SandboxPost.objects.all().delete()  # the demo's scheduled corpus: not this test's story
    persona = SandboxPersona.objects.create(
        external_id="u-browser", handle="browser_maya", persona="friendly"
    )
    SandboxPost.objects.create(
        author_id_text=persona.external_id,
        author_handle=persona.handle,
        text=COMPLAINT,
        published_at=timezone.now() - dt.timedelta(minutes=1),
    )
    # The highest a competitor playbook may set (outreach/limits.py): jitter <= 15 s a send;
    # the person answers within 1-2 s.
    Playbook.objects.filter(kind=PlaybookKind.COMPETITOR).update(
        max_replies_per_account_per_hour=60
    )
    account = Account.objects.get(platform="sandbox")
    account.options = {**account.options, "reaction_delay": [1, 2]}
    account.max_sends_per_hour = 3600
    account.save()


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


def test_an_analyst_and_a_reviewer_take_a_complaint_to_followed_in_the_browser(
    sign_in: Any, tmp_path: Path
) -> None:
    # Given the demo, one friendly complaint on the sandbox network, and a worker and beat
    _world()
    env = _worker_env()
    subprocess.run([*celery("purge", "-f")], env=env, check=True, capture_output=True, timeout=60)
    log = tmp_path / "worker.log"
    with (
        running(celery("worker", "--pool", "threads", "-c", "4", "-l", "INFO"), env, log),
        running(celery("beat", "-l", "INFO", "--max-interval", "1"), env, tmp_path / "beat.log"),
    ):
        analyst = sign_in("analyst")
        wait_for(lambda: Case.objects.exists(), timeout=90, what="triage to open a case", log=log)
        case = Case.objects.get()

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
        # writes a draft that the tone guard blocks
        analyst.page.fill("#id_text", PITCH)
        _click(analyst, "Save draft (checks tone)")
        analyst.shot("draft-blocked")
        assert "blocking findings" in analyst.page.inner_text(".messagelist")
        assert analyst.page.locator("#nj-findings li.blocking").count() >= 1
        submit = analyst.page.get_by_role("button", name="Submit draft for approval")
        assert submit.is_disabled()
        # fixes it and submits it
        analyst.page.fill("#id_text", REPLY)
        _click(analyst, "Save and submit for approval")
        analyst.shot("submitted")
        assert Case.objects.get(pk=case.pk).stage == Stage.AWAITING_APPROVAL

        # and the reviewer finds it awaiting approval and approves it
        reviewer = sign_in("reviewer")
        reviewer.open(f"/admin/outreach/case/?stage__exact={Stage.AWAITING_APPROVAL}")
        reviewer.shot("awaiting-approval")
        with reviewer.page.expect_navigation():
            reviewer.page.get_by_role("link", name=COMPLAINT[:40]).first.click()
        _click(reviewer, "Approve this exact reply")
        reviewer.shot("approved")

        # Then the worker sends the reply, the person answers and the case is engaged
        wait_for(
            lambda: Case.objects.get(pk=case.pk).stage == Stage.ENGAGED,
            timeout=90,
            what="the reply to go out and the person's answer to engage the case",
            log=log,
        )
        analyst.open(f"/admin/outreach/case/{case.pk}/change/")
        analyst.shot("engaged")
        assert "What the person did" in analyst.page.inner_text("#content")
        # and once the analyst follows the person, the worker sends the follow
        _click(analyst, "Follow the person")
        wait_for(
            lambda: OutboundAction.objects.filter(case=case, kind="follow", state="sent").exists(),
            timeout=60,
            what="the follow to be sent",
            log=log,
        )
        analyst.open(f"/admin/outreach/case/{case.pk}/change/")
        analyst.shot("followed")

    assert Case.objects.get(pk=case.pk).stage == Stage.FOLLOWED
    assert [p.text for p in SandboxPost.objects.filter(author_handle="northwind_care")] == [REPLY]
