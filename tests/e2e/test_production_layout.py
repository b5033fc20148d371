"""Production as the README documents it, on RabbitMQ and on Redis (issue #14).

The set-up steps of README "Production" (``migrate``, ``collectstatic``), then its
processes: gunicorn, two Celery workers and one beat, with ``DJANGO_DEBUG=0`` and
production settings (``config.settings``, not the test settings), behind what a
TLS proxy would send (``X-Forwarded-Proto: https``). The admin's pages and their
static files are served (with DEBUG off they answered 500 until ``collectstatic``
had run: issue #14, item 6), and the full cycle on the sandbox runs through
(tests/e2e/cycle.py).
"""

from __future__ import annotations

import re
import secrets
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any

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
from tests.processes import BIN, REPO, celery, clean_env, running, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

BROKERS = {
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672//",
    "redis": "redis://127.0.0.1:6379/12",
}
# A queue of its own on the shared brokers (NOJACKAL_TASK_QUEUE), purged before each run.
QUEUE = "nojackal-e2e-production"
# What the README's Production block runs; the test runs the same (the ports and counts aside).
DOCUMENTED = (
    "python manage.py migrate",
    "python manage.py collectstatic --noinput",
    "gunicorn config.wsgi",
    "celery -A config worker",
    "celery -A config beat",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(port: int, path: str) -> tuple[int, bytes]:
    """GET through gunicorn as the TLS proxy in front of it would send it."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"X-Forwarded-Proto": "https"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (http only)
            return answer.status, answer.read()
    except urllib.error.HTTPError as answer:
        return answer.code, answer.read()
    except OSError:
        return 0, b""


def manage(env: dict[str, str], *args: str) -> None:
    """One set-up step of the README, as an operator runs it."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def production_env(broker: str, static_root: Path) -> dict[str, str]:
    db = connection.settings_dict
    return clean_env(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        CELERY_BROKER_URL=broker,
        NOJACKAL_TASK_QUEUE=QUEUE,
        STATIC_ROOT=str(static_root),
        **FAST_TICKS,
    )


def test_the_readme_runs_what_this_test_runs() -> None:
    readme = (REPO / "README.md").read_text()
    production = readme.split("## Production", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    assert [step for step in DOCUMENTED if step not in production] == []


@pytest.mark.parametrize("broker", BROKERS)
def test_the_production_layout_serves_the_admin_and_runs_a_full_cycle(
    broker: str,
    tmp_path: Path,
    analyst: Any,  # noqa: F811 (the fixture imported above)
    reviewer: Any,  # noqa: F811
) -> None:
    # Given the README's set-up, run with production settings on a fresh STATIC_ROOT
    persona = a_complaint_on_the_sandbox()
    env = production_env(BROKERS[broker], tmp_path / "static")
    logs = {name: tmp_path / f"{name}.log" for name in ("web", "worker1", "worker2", "beat")}
    port = free_port()
    with ExitStack() as processes:
        # (what does not depend on each other runs side by side: the test is in `make test`)
        purge = subprocess.Popen(
            celery("purge", "-f"), cwd=REPO, env=env, stdout=subprocess.DEVNULL
        )
        manage(env, "migrate", "--noinput")
        assert purge.wait(timeout=60) == 0

        # When two workers and beat run as the README starts them, and gunicorn once
        # the static files are collected
        for name in ("worker1", "worker2"):
            processes.enter_context(
                running(
                    celery("worker", "--concurrency", "1", "-n", f"{name}@%h", "-l", "INFO"),
                    env,
                    logs[name],
                )
            )
        processes.enter_context(
            running(celery("beat", "-l", "INFO", "--max-interval", "1"), env, logs["beat"])
        )
        manage(env, "collectstatic", "--noinput")
        processes.enter_context(
            running(
                [str(BIN / "gunicorn"), "config.wsgi", "-w", "1", "-b", f"127.0.0.1:{port}"],
                env,
                logs["web"],
            )
        )

        # Then the admin's pages and their collected static files are served with DEBUG off
        wait_for(
            lambda: get(port, "/health/live")[0] == 200,
            timeout=60,
            what="gunicorn",
            log=logs["web"],
        )
        status, login = get(port, "/admin/login/")
        assert status == 200, login[-2000:]
        stylesheet = re.search(rb'href="(/static/admin/css/base\.[0-9a-f]+\.css)"', login)
        assert stylesheet, login[:2000]
        assert get(port, stylesheet.group(1).decode())[0] == 200
        assert get(port, "/health/ready")[0] == 200

        # and the full cycle runs: beat polls, a worker opens the case, the humans decide,
        # the reply is sent once, the person answers, the follow is sent
        wait_for(lambda: Case.objects.exists(), timeout=60, what="a case", log=logs["worker1"])
        case = Case.objects.get()
        assert case.stage == Stage.NEW
        work_the_case(case, analyst=analyst, reviewer=reviewer)
        wait_for(
            lambda: followed(case),
            timeout=90,
            what="the case to reach followed and the follow to be sent",
            log=logs["worker2"],
        )
    assert_replied_once_and_followed(case, persona)
    # Both workers took part in the work (the queue is shared; beat ticks every second).
    worked = [name for name in ("worker1", "worker2") if "succeeded in" in logs[name].read_text()]
    assert worked == ["worker1", "worker2"]
