"""The whole product on real processes: beat, a worker, PostgreSQL and Redis.

A person on the sandbox network complains about a competitor. Beat polls the
source, the worker stores and judges the post, triage opens a case; the analyst
and the reviewer do their part; the outbox sends the one reply; the person
answers; the notifications tick sees it, the case is engaged, the playbook's
automatic follow is queued and sent. Only the human moves are made by the test
(the scenario is in tests/e2e/cycle.py; test_production_layout.py runs it on
the production layout).
"""

from __future__ import annotations

import subprocess

import pytest
from django.db import connection

from outreach.models import Case, Stage
from tests.e2e.cycle import (
    FAST_TICKS,
    a_complaint_on_the_sandbox,
    assert_replied_once_and_followed,
    followed,
    work_the_case,
)
from tests.outreach.conftest import analyst, reviewer, roles  # noqa: F401
from tests.processes import celery, clean_env, running, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# A Redis database of its own, so that beat's ticks reach only this test's worker.
BROKER = "redis://127.0.0.1:6379/13"


def test_a_complaint_goes_from_the_network_to_followed_with_beat_and_a_worker(
    tmp_path,
    analyst,  # noqa: F811 (the fixture imported above)
    reviewer,  # noqa: F811
):
    # Given a friendly person's complaint about a competitor on the sandbox network
    persona = a_complaint_on_the_sandbox()
    db = connection.settings_dict
    env = clean_env(
        DJANGO_SETTINGS_MODULE="tests.settings",
        NOJACKAL_TEST_EAGER="0",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        CELERY_BROKER_URL=BROKER,
        **FAST_TICKS,
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
        work_the_case(case, analyst=analyst, reviewer=reviewer)

        # Then the reply goes out, the person answers, and the follow follows
        wait_for(
            lambda: followed(case),
            timeout=120,
            what="the case to reach followed and the follow to be sent",
            log=worker_log,
        )
    assert_replied_once_and_followed(case, persona)
