"""Run a test file once more on SQLite, in a subprocess of its own.

The database's rules (triggers, constraints) must hold on both vendors: files that test
them run on the test settings' PostgreSQL and, through their own ``..._on_sqlite_too``
test, again on an SQLite file. That test is deselected in the SQLite run (it would
start itself again), so the run passes every other test of the file or fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ON_SQLITE = "NOJACKAL_TESTS_ON_SQLITE"
ROOT = Path(__file__).resolve().parents[1]


def on_sqlite() -> bool:
    """True inside the SQLite run."""
    return bool(os.environ.get(ON_SQLITE))


def rerun_on_sqlite(test_file: str, rerun_test: str, tmp_path: Path) -> None:
    """Run ``test_file`` on a fresh SQLite database, without ``rerun_test``; fail unless
    all of its other tests pass."""
    if on_sqlite():
        raise AssertionError(f"{rerun_test} must not run inside the SQLite run")
    path = Path(test_file).resolve().relative_to(ROOT).as_posix()
    env = {
        **os.environ,
        ON_SQLITE: "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'rerun.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:xdist",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            path,
            "--deselect",
            f"{path}::{rerun_test}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "failed" not in run.stdout and " passed" in run.stdout
    assert "1 deselected" in run.stdout and "skipped" not in run.stdout
