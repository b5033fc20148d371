"""Post stored → case in the queue, with a real worker: the latency row of ``bench/scale.py``.

A Celery worker process (``celery -A config worker``, prefork, two children, the test
settings as the other e2e runs use) is started against the real broker on the
database built by ``bench/scale_data.py``, consuming a queue of its own. Posts about
our own brand (complaints, so that each opens a case; own-brand service has no daily
cap) are then stored one by one at ``RATE`` posts a second, each followed by the
``detect_posts`` message a poll sends after storing (``monitoring.tasks.poll_source``).
The bench watches the case table every 20 ms: a post's latency runs from the commit
of the post to the first look that finds its case (so it includes detection, the
incident grouping, triage and the commit, and up to 20 ms of looking). The row is
the median over ``BENCH_LATENCY_POSTS`` posts (default 40) after a warm-up (the
worker trains the shipped classifier at first use).

Measured at the smallest and the largest size only (``ENDS_ONLY``), as issue #15
asks. The broker is ``BENCH_BROKER_URL``, else ``CELERY_BROKER_URL`` (a memory
broker cannot reach another process: the row is then left out, with a warning).
Unlike the other providers this one cannot roll back what the worker commits: its
few dozen posts and cases stay in the history of the kept database.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.scale_data import PG_SERVER, Measured

ENDS_ONLY = True
# Issue #15: the median at 1M at most 1.2 times the median at 1k; no time target of its own.
MAX_RATIO = 1.2
MAX_MS_AT_1M = None
RATE = 4.0  # posts a second
WARM_UP = 3
LOOK_EVERY = 0.02
TIMEOUT = 90.0
NAME = f"post stored → case, real worker ({RATE:.0f} posts/s), median"


def broker_url() -> str | None:
    from django.conf import settings

    url = os.environ.get("BENCH_BROKER_URL") or settings.CELERY_BROKER_URL
    return None if not url or url.startswith("memory") else url


def posts_to_send() -> int:
    return int(os.environ.get("BENCH_LATENCY_POSTS", "40"))


class Complaints:
    """Complaints about our own brand from new people, stored as a poll stores them."""

    TEXTS = (
        "{brand} is down again, third time this week and nobody answers the phone",
        "{brand} outage again. Paying for nothing.",
        "@{brand} my bill doubled this month and support keeps hanging up on me",
    )

    def __init__(self) -> None:
        from monitoring.models import Brand, Source

        brand = Brand.objects.filter(kind=Brand.Kind.OWN).order_by("pk").first()
        assert brand is not None, "the scale data has our own brand"
        self.brand = brand.name
        # Stored by a poll of one of the sources, as a real post is.
        self.source = Source.objects.filter(platform="mastodon", brand=brand).first()
        self.stamp = uuid.uuid4().hex[:10]
        self.made = 0

    def store(self) -> tuple[int, float]:
        """Store one post (its author, then it, in one commit); its id and when it landed."""
        from django.db import transaction
        from django.utils import timezone

        from monitoring.models import Person, Post

        self.made += 1
        key = f"lat-{self.stamp}-{self.made}"
        with transaction.atomic():
            person = Person.objects.create(platform="mastodon", external_id=key, handle=key)
            post = Post.objects.create(
                platform="mastodon",
                external_id=key,
                author=person,
                source=self.source,
                text=self.TEXTS[self.made % len(self.TEXTS)].format(brand=self.brand),
                posted_at=timezone.now(),
            )
        return post.pk, time.perf_counter()


def _seen(waiting: dict[int, float], landed: dict[int, float]) -> None:
    """Look once for the cases of the waiting posts; move the found ones to ``landed``."""
    from outreach.models import Case

    if not waiting:
        return
    found = Case.objects.filter(post_id__in=list(waiting)).values_list("post_id", flat=True)
    now = time.perf_counter()
    for post_id in found:
        landed[post_id] = now - waiting.pop(post_id)


def run(send: int, queue: str) -> tuple[list[float], int]:
    """Store ``send`` posts at ``RATE`` a second, each with its detection message; the
    latencies (ms) of those that became cases, and how many did not within ``TIMEOUT``."""
    from monitoring.tasks import detect_posts

    complaints = Complaints()
    waiting: dict[int, float] = {}
    landed: dict[int, float] = {}
    started = time.perf_counter()
    for i in range(send):
        due = started + i / RATE
        while (now := time.perf_counter()) < due:
            _seen(waiting, landed)
            time.sleep(min(LOOK_EVERY, max(0.0, due - now)))
        post_id, at = complaints.store()
        waiting[post_id] = at
        detect_posts.apply_async(queue=queue)
    deadline = time.perf_counter() + TIMEOUT
    while waiting and time.perf_counter() < deadline:
        _seen(waiting, landed)
        time.sleep(LOOK_EVERY)
    return [s * 1000 for s in landed.values()], len(waiting)


def measure(size: int) -> list[Measured]:
    """The median latency at this size, with a worker of its own for the run."""
    from django.db import connection

    from config.celery import app
    from tests.processes import celery, clean_env, running

    broker = broker_url()
    if broker is None:
        print(
            "no broker a worker can reach (set BENCH_BROKER_URL): latency skipped",
            file=sys.stderr,
        )
        return []
    queue = f"bench-latency-{uuid.uuid4().hex[:8]}"
    env = clean_env(
        DJANGO_SETTINGS_MODULE="tests.settings",
        NOJACKAL_TEST_EAGER="0",
        DATABASE_URL=f"{PG_SERVER}/{connection.settings_dict['NAME']}",
        CELERY_BROKER_URL=broker,
        NOJACKAL_TASK_QUEUE=queue,
    )
    args = celery("worker", "-c", "2", "-Q", queue, "-l", "INFO")
    app.conf.broker_url = broker
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "worker.log"
        try:
            with running(
                [*args, "--without-heartbeat", "--without-gossip", "--without-mingle"], env, log
            ):
                # The worker starts, and each child trains the classifier at first use.
                _, missed = run(WARM_UP, queue)
                if missed:
                    tail = log.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"the worker opened no case for the warm-up:\n{tail}")
                latencies, missed = run(posts_to_send(), queue)
        finally:
            try:
                with app.connection_for_write() as conn:
                    conn.default_channel.queue_delete(queue)
            except Exception as exc:  # the figures stand without the clean-up
                print(f"  could not delete the queue {queue}: {exc}", file=sys.stderr)
    if missed or not latencies:
        print(f"  latency at {size:,}: {missed} post(s) without a case", file=sys.stderr)
    # No query count: the queries are the worker's (the triage rows count them).
    return [Measured(NAME, statistics.median(latencies), 0)] if latencies else []
