"""Shared fixtures. The suite needs the real PostgreSQL and Redis on this machine:
if one is down it stops at once and says how to start it (it never skips)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from tests.browser.output import dashboard_folder, run_folder

REPO = Path(__file__).resolve().parent.parent
SHARED_DIR = Path(os.environ.get("NOJACKAL_SHARED_DIR", REPO.parent / "shared"))

_SERVICES = {
    "PostgreSQL": (
        "127.0.0.1",
        5432,
        "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    ),
    "Redis": (
        "127.0.0.1",
        6379,
        "redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' --appendonly no",
    ),
}


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def pytest_configure(config: pytest.Config) -> None:
    down = [
        f"{name} is not answering on {host}:{port}; start it with: {start}"
        for name, (host, port, start) in _SERVICES.items()
        if not _reachable(host, port)
    ]
    if down:
        pytest.exit("The test suite needs real services.\n" + "\n".join(down), returncode=3)
    if not (SHARED_DIR / "data").is_dir():
        # The recorded payloads and evaluation data are read in place from shared/,
        # which lies beside the checkout (CI puts it there): say so once, not 170 times.
        pytest.exit(
            f"The test suite reads recorded payloads from {SHARED_DIR}/data, which does not "
            "exist: clone the project beside shared/ or set NOJACKAL_SHARED_DIR.",
            returncode=4,
        )
    # Named before xdist starts its workers, so that they all save into one folder.
    run_folder()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    folder = run_folder()
    if folder.is_dir():
        shots = len(list(folder.glob("**/*.png")))
        terminalreporter.write_sep("-", "browser tests")
        terminalreporter.write_line(f"{shots} screenshot(s) in {folder}")
        panels = sorted(dashboard_folder().glob("*.png"))
        if panels:
            terminalreporter.write_line("dashboard panels:")
            for panel in panels:
                terminalreporter.write_line(f"  {panel}")


@pytest.fixture
def secrets_key(settings: pytest.FixtureRequest) -> str:
    """A fresh credentials key (monitoring/credentials.py) for tests that store secrets."""
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    settings.NOJACKAL_SECRETS_KEY = key  # type: ignore[attr-defined]
    return key
