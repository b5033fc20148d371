"""Where the browser tests put their screenshots: one folder per run, under .pytest-output/.

The dashboard's panels have a folder of their own, ``dashboard/``, with one file per panel
under a stable name (``dashboard-funnel.png``...), so that a note can point at each.

The controlling pytest process names the folder once (``pytest_configure`` in tests/conftest.py)
and passes it on to xdist's workers through the environment; its terminal summary prints it.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
ENV = "NOJACKAL_BROWSER_OUTPUT"


def run_folder() -> Path:
    """The run's folder (created by the first screenshot); the same in every xdist worker."""
    if ENV not in os.environ:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        os.environ[ENV] = str(REPO / ".pytest-output" / "browser" / f"{stamp}-{os.getpid()}")
    return Path(os.environ[ENV])


def dashboard_folder() -> Path:
    """Where the screenshots of the dashboard's panels go, one file per panel."""
    return run_folder() / "dashboard"
