"""A real Celery worker on the real Redis broker polls a source (no eager mode)."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from config.celery import app
from monitoring.models import Post, Source
from monitoring.tasks import poll_source
from tests.factories import SandboxPostFactory, SourceFactory
from tests.processes import celery, clean_env, running, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(tmp_path, settings):
    """A worker process on Redis, consuming a queue of its own, on the test database."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    env = clean_env(
        DJANGO_SETTINGS_MODULE="tests.settings",
        NOJACKAL_TEST_EAGER="0",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
    )
    log = tmp_path / "worker.log"
    args = celery("worker", "--pool", "threads", "-c", "2", "-Q", queue, "-l", "INFO")
    with running([*args, "--without-heartbeat", "--without-gossip", "--without-mingle"], env, log):
        app.conf.task_always_eager = False
        try:
            yield queue, log
        finally:
            app.conf.task_always_eager = True


def test_a_real_worker_on_redis_polls_a_source_and_stores_the_posts(worker):
    queue, log = worker
    SandboxPostFactory.create_batch(5)
    source = SourceFactory()
    poll_source.apply_async((source.pk,), queue=queue)
    wait_for(lambda: Post.objects.count() == 5, timeout=60, what="5 posts", log=log)
    source.refresh_from_db()
    assert source.cursor and source.last_success_at is not None
    # Delivered again (as after a worker crash with late ack): nothing stored twice.
    poll_source.apply_async((source.pk,), queue=queue)
    wait_for(
        lambda: Source.objects.get(pk=source.pk).last_success_at != source.last_success_at,
        timeout=60,
        what="the second poll",
        log=log,
    )
    assert Post.objects.count() == 5
