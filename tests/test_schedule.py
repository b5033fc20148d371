"""The beat ticks declared in settings exist in the database and can be paused from the admin."""

import pytest
from django.conf import settings
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from config.celery import app

# The scheduler closes stale connections itself, which a test transaction does not survive.
pytestmark = pytest.mark.django_db(transaction=True)


def test_every_declared_tick_is_installed_with_an_expiry():
    DatabaseScheduler(app=app)
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        task = PeriodicTask.objects.get(name=name)
        assert task.task == entry["task"]
        assert task.enabled
        assert task.expire_seconds and task.expire_seconds > 0


def test_a_tick_paused_in_the_admin_stays_paused_after_beat_restarts():
    DatabaseScheduler(app=app)
    PeriodicTask.objects.filter(name="poll-due-sources").update(enabled=False)
    scheduler = DatabaseScheduler(app=app)
    assert not PeriodicTask.objects.get(name="poll-due-sources").enabled
    assert "poll-due-sources" not in scheduler.schedule


def test_every_tick_names_a_registered_task():
    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks
