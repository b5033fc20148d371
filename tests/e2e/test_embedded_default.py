"""`make run`'s embedded default: SQLite, the broker-less transport, worker and beat.

This runs the app's own processes on a fresh data folder, as a laptop would, and
waits for the beat tick to queue a sandbox poll that the worker stores.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from tests.processes import REPO, celery, clean_env, running, wait_for

pytestmark = pytest.mark.worker


def count_posts(db_path) -> int:
    if not db_path.exists():
        return 0
    with sqlite3.connect(db_path, timeout=5) as db:
        return db.execute("select count(*) from monitoring_post").fetchone()[0]


def test_the_embedded_default_polls_the_sandbox_with_worker_and_beat(tmp_path):
    env = clean_env(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="1",
        NOJACKAL_DATA_DIR=str(tmp_path / "var"),
        NOJACKAL_POLL_TICK_SECONDS="2",
    )
    for step in (["migrate", "--noinput"], ["demo", "--cadence", "10"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *step],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr
    assert "Login: admin /" in done.stdout
    db_path = tmp_path / "var" / "nojackal.sqlite3"
    assert count_posts(db_path) == 0

    worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
    with (
        running(celery("worker", "--pool", "threads", "-c", "4", "-l", "INFO"), env, worker_log),
        running(celery("beat", "-l", "INFO", "-s", str(tmp_path / "beat-schedule")), env, beat_log),
    ):
        wait_for(
            lambda: count_posts(db_path) > 0,
            timeout=90,
            what="sandbox posts polled by the worker",
            log=worker_log,
        )
    worker_output = worker_log.read_text(errors="replace")
    assert "JSONDecodeError" not in worker_output
    assert "database is locked" not in worker_output
