"""`make run` heals itself: a worker killed with SIGKILL is restarted and the app carries on.

Runs the app as `make run` does (migrate, demo, then supervisord with config/supervisord.conf)
on a fresh data folder with the broker-less transport, kills the worker, and checks that the
admin keeps serving and that tasks queued by beat are run by the restarted worker.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import BIN, REPO, clean_env, running, wait_for

pytestmark = pytest.mark.worker

CONFIG = REPO / "config" / "supervisord.conf"


def count_posts(db_path: Path) -> int:
    if not db_path.exists():
        return 0
    with sqlite3.connect(db_path, timeout=5) as db:
        return db.execute("select count(*) from monitoring_post").fetchone()[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def admin_serves(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=5) as page:
            return page.status == 200 and b"nojackal" in page.read()
    except OSError:
        return False


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Short: supervisord's control socket lives here, and socket paths are limited to 107 bytes.
    path = Path(tempfile.mkdtemp(prefix="nj-run-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def supervisorctl(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "supervisorctl"), "-c", str(CONFIG), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.stdout.strip()


def worker_pid(env: dict[str, str]) -> int:
    found = supervisorctl(env, "pid", "worker")
    return int(found) if found.isdigit() else 0


def test_a_killed_worker_is_restarted_and_the_app_carries_on(data_dir: Path, tmp_path: Path):
    port = free_port()
    env = clean_env(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="1",
        NOJACKAL_DATA_DIR=str(data_dir),
        NOJACKAL_PORT=str(port),
        NOJACKAL_POLL_TICK_SECONDS="2",
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
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
    db_path = data_dir / "nojackal.sqlite3"
    log = tmp_path / "supervisord.out"

    with running([str(BIN / "supervisord"), "-c", str(CONFIG)], env, log) as supervisord:
        # Given the app running under supervision and polling the sandbox
        wait_for(lambda: admin_serves(port), timeout=90, what="the admin", log=log)
        wait_for(lambda: count_posts(db_path) > 0, timeout=120, what="first posts", log=log)
        first_worker = worker_pid(env)
        assert first_worker

        # When the worker is killed outright
        os.kill(first_worker, signal.SIGKILL)

        # Then supervisord starts another, the admin never stopped serving, and the work
        # beat queues after the kill is done by the new worker
        wait_for(
            lambda: worker_pid(env) not in (0, first_worker),
            timeout=30,
            what="a restarted worker",
            log=log,
        )
        assert admin_serves(port)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=5) as live:
            assert live.status == 200
        after_restart = count_posts(db_path)
        wait_for(
            lambda: count_posts(db_path) > after_restart,
            timeout=120,
            what="posts polled by the restarted worker",
            log=log,
        )
        assert supervisord.poll() is None
        status = supervisorctl(env, "status")
        assert status.count("RUNNING") == 3, status

    # And stopping supervisord (Ctrl-C's SIGINT, or SIGTERM) stops all three
    output = log.read_text(errors="replace")
    assert "exited: worker (terminated by SIGKILL" in output
    assert "JSONDecodeError" not in output
    assert not admin_serves(port)
