"""Shared set-up for benchmarks: a throwaway PostgreSQL database and Django on it.

Benchmarks are run by hand (`python bench/<name>.py`); they print figures and
assert nothing about time.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

REPO = Path(__file__).resolve().parent.parent
T = TypeVar("T")


def setup_django(db_name: str = "nojackal_bench") -> None:
    """Recreate ``db_name`` on the local PostgreSQL, point Django at it and migrate.

    ``BENCH_DB_SUFFIX`` is appended to the name, so that two people benchmarking on one
    server do not drop each other's database."""
    import psycopg

    db_name += os.environ.get("BENCH_DB_SUFFIX", "")

    host = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
    with psycopg.connect(f"{host}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db_name}"')
    os.environ["DATABASE_URL"] = f"{host}/{db_name}"
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    # The benchmarks' stand-in platforms listen on loopback, which the outbound-URL
    # policy refuses unless it is listed.
    os.environ.setdefault("NOJACKAL_OUTBOUND_ALLOWED_HOSTS", "127.0.0.1,localhost")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def copy_posts(platform: str, source_id: int, posts: list) -> int:  # type: ignore[type-arg]
    """The baseline: write PostData and their authors with plain COPY; return the count."""
    import json

    from django.db import connection
    from django.utils import timezone

    authors = {p.author.external_id: p.author for p in posts}
    now = timezone.now()
    connection.ensure_connection()
    with connection.connection.cursor() as c:
        with c.copy(
            "COPY monitoring_person (platform, external_id, handle, display_name,"
            " profile_url, first_seen_at) FROM STDIN"
        ) as copy:
            for a in authors.values():
                copy.write_row(
                    (platform, a.external_id, a.handle, a.display_name, a.profile_url, now)
                )
        c.execute("SELECT external_id, id FROM monitoring_person WHERE platform = %s", [platform])
        ids = dict(c.fetchall())
        with c.copy(
            "COPY monitoring_post (platform, external_id, author_id, source_id, text, url,"
            " lang, posted_at, in_reply_to, raw, fetched_at) FROM STDIN"
        ) as copy:
            for p in posts:
                copy.write_row(
                    (
                        platform,
                        p.external_id,
                        ids[p.author.external_id],
                        source_id,
                        p.text,
                        p.url,
                        p.lang,
                        p.posted_at,
                        p.in_reply_to,
                        json.dumps(dict(p.raw)),
                        now,
                    )
                )
    connection.connection.commit()
    return len(posts)
