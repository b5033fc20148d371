"""Queueing work from a web request: a broker that is down or silent is a clear error.

An admin action that queues a task must answer within seconds whatever the broker does. The
timeouts and the publish retry policy in config/settings.py bound the wait (about
``(NOJACKAL_BROKER_PUBLISH_RETRIES + 1) * NOJACKAL_BROKER_TIMEOUT_SECONDS``); ``enqueue`` turns
what is left, a broker error, into ``QueueUnavailable`` with a sentence the admin can show,
instead of a 500 (refused) or a page that never loads (silent).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from kombu.exceptions import KombuError

log = logging.getLogger(__name__)


class QueueUnavailable(Exception):
    """The broker did not take the task: nothing was queued."""


def broker_address(task: Task) -> str:
    """The broker ``task`` is sent to, without its password, for messages and logs."""
    return task.app.connection_for_write().as_uri()


def enqueue(task: Task, *args: Any, **kwargs: Any) -> str:
    """Queue ``task(*args, **kwargs)`` and return its id, or raise ``QueueUnavailable``."""
    try:
        return task.apply_async(args, kwargs).id
    # kombu turns the transport's connection and channel errors into KombuError subclasses;
    # OSError covers a socket that failed outside of that wrapper (refused, timed out).
    except (KombuError, OSError) as exc:
        where = broker_address(task)
        log.error("Could not queue %s on %s: %s", task.name, where, exc)
        raise QueueUnavailable(
            f"The task queue at {where} is not answering ({type(exc).__name__}: {exc}), so "
            "nothing was queued. Check that the broker is running (python manage.py doctor, "
            "/health/), then try again."
        ) from exc
