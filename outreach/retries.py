"""The retry policy of outreach's tasks: a database that went away for a moment is the only
transient error; refusals (``WorkflowError``) are business answers, never retried."""

from __future__ import annotations

from typing import Any

from django.db import OperationalError

ON_LOST_DATABASE: dict[str, Any] = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": 5,
    "retry_backoff_max": 60,  # settings.TASK_RETRY_MAX_SECONDS
    "retry_jitter": True,
    "max_retries": 5,
}
