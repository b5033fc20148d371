"""The one Celery app. Workers start it with ``celery -A config worker``."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("nojackal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _connect_metrics() -> None:
    # Imported late: config.metrics reads Django settings, which are not ready at import.
    from config import metrics

    task_prerun.connect(metrics.task_started, weak=False)
    task_postrun.connect(metrics.task_finished, weak=False)
    metrics.serve_worker_metrics()


worker_init.connect(lambda **_: _connect_metrics(), weak=False)
