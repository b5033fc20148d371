"""The whole product on real processes: beat, a worker, PostgreSQL and Redis.

A person on the sandbox network complains about a competitor. Beat polls the
source, the worker stores and judges the post, triage opens a case; the analyst
and the reviewer do their part; the outbox sends the one reply; the person
answers; the notifications tick sees it, the case is engaged, the playbook's
automatic follow is queued and sent. Only the human moves are made by the test.
"""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from django.db import connection
from django.utils import timezone

from monitoring.models import Account, Brand, SandboxFollow, SandboxPersona, SandboxPost, Source
from outreach import workflow
from outreach.models import (
    Case,
    OutboundAction,
    PlaybookKind,
    ResearchNote,
    Stage,
    text_hash,
)
from tests.outreach.conftest import analyst, reviewer, roles  # noqa: F401
from tests.outreach.factories import PlaybookFactory
from tests.processes import celery, clean_env, running, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# A Redis database of its own, so that beat's ticks reach only this test's worker.
BROKER = "redis://127.0.0.1:6379/13"
REPLY = "That sounds really frustrating, a whole day without broadband. Hope it is back soon."


def test_a_complaint_goes_from_the_network_to_followed_with_beat_and_a_worker(
    tmp_path,
    analyst,  # noqa: F811 (the fixture imported above)
    reviewer,  # noqa: F811
):
    # Given a friendly person's complaint about a competitor on the sandbox network
    Brand.objects.create(name="Northwind", kind="own", handles={"sandbox": ["@northwind"]})
    Brand.objects.create(name="Telvana", kind="competitor", handles={"sandbox": ["@telvana"]})
    persona = SandboxPersona.objects.create(external_id="u-1", handle="maya_k", persona="friendly")
    SandboxPost.objects.create(
        author_id_text=persona.external_id,
        author_handle=persona.handle,
        text="@telvana my broadband has been down since yesterday and nobody answers the phone",
        published_at=timezone.now() - dt.timedelta(minutes=1),
    )
    Source.objects.create(name="telvana", platform="sandbox", terms=["telvana"], cadence_seconds=10)
    PlaybookFactory(
        kind=PlaybookKind.COMPETITOR,
        version=1,
        four_eyes=True,
        auto_follow=True,
        # The highest a competitor playbook may set (outreach/limits.py): jitter <= 15 s a send.
        max_replies_per_account_per_hour=60,
    )
    Account.objects.create(
        platform="sandbox",
        handle="northwind_care",
        options={"handle": "northwind_care", "reaction_delay": [1, 2]},
        max_sends_per_hour=3600,
    )
    db = connection.settings_dict
    env = clean_env(
        DJANGO_SETTINGS_MODULE="tests.settings",
        NOJACKAL_TEST_EAGER="0",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        CELERY_BROKER_URL=BROKER,
        NOJACKAL_POLL_TICK_SECONDS="1",
        NOJACKAL_DISPATCH_TICK_SECONDS="1",
        NOJACKAL_NOTIFICATIONS_TICK_SECONDS="1",
    )
    subprocess.run([*celery("purge", "-f")], env=env, check=True, capture_output=True, timeout=60)
    worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
    with (
        running(celery("worker", "--pool", "threads", "-c", "4", "-l", "INFO"), env, worker_log),
        running(celery("beat", "-l", "INFO", "--max-interval", "1"), env, beat_log),
    ):
        # When beat polls, the worker judges the post and triage opens the case
        wait_for(lambda: Case.objects.exists(), timeout=90, what="a case", log=worker_log)
        case = Case.objects.get()
        assert case.person.handle == "maya_k" and case.stage == Stage.NEW
        # and the analyst researches and drafts, the reviewer approves
        workflow.claim(case, actor=analyst)
        workflow.save_research(
            case,
            actor=analyst,
            summary="Broadband down since yesterday, support unreachable; others report it too.",
            thread_checked=True,
            scope=ResearchNote.Scope.ISOLATED,
        )
        workflow.save_draft(case, actor=analyst, text=REPLY)
        workflow.submit_draft(case, actor=analyst)
        workflow.approve_reply(case, actor=reviewer, text_hash_seen=text_hash(REPLY))

        # Then the reply goes out, the person answers, and the follow follows
        wait_for(
            lambda: (
                Case.objects.get(pk=case.pk).stage == Stage.FOLLOWED
                and OutboundAction.objects.filter(case=case, kind="follow", state="sent").exists()
            ),
            timeout=120,
            what="the case to reach followed and the follow to be sent",
            log=worker_log,
        )
    ours = SandboxPost.objects.filter(author_handle="northwind_care")
    assert [p.text for p in ours] == [REPLY]
    assert SandboxFollow.objects.filter(followed_id=persona.external_id).count() == 1
    moves = [
        target
        for origin, target in case.events.order_by("created_at", "pk").values_list(
            "origin", "target"
        )
        if origin != target
    ]
    assert moves[-4:] == [
        Stage.AWAITING_ENGAGEMENT,
        Stage.ENGAGED,
        Stage.FOLLOW_REQUESTED,
        Stage.FOLLOWED,
    ]
