"""Queue page benchmark: median server time of the case changelist with 1,000 cases and
then 100,000 cases, in the same run, with the number of SQL queries per page.

Run by hand against PostgreSQL (never by the test suite):

    .venv/bin/python bench/queue_page.py            # database nojackal_bench, recreated
    BENCH_DATABASE_URL=postgres://... .venv/bin/python bench/queue_page.py --runs 30

The database named in BENCH_DATABASE_URL is dropped and created again. Cases are
spread like a real backlog: about one in ten is open, the rest closed; due times
span two months; every case has its own person and post.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/nojackal_bench"
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")


def recreate_database(url: str) -> None:
    """Drop and create the benchmark database (connecting to the server's 'postgres' db)."""
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# Every case gets a person and a post; stages follow the sequence below (10% open).
SEED_SQL = """
WITH n AS (SELECT generate_series(%(start)s, %(stop)s - 1) AS i)
INSERT INTO monitoring_person (platform, external_id, handle, display_name, profile_url,
                               first_seen_at)
SELECT 'sandbox', 'bench-u-' || i, 'bench_user_' || i, 'Bench ' || i, '', now() FROM n;

WITH n AS (SELECT generate_series(%(start)s, %(stop)s - 1) AS i)
INSERT INTO monitoring_post (platform, external_id, author_id, text, url, lang, posted_at,
                             in_reply_to, raw, fetched_at)
SELECT 'sandbox', 'bench-p-' || n.i, p.id,
       'Telvana dropped my connection again, case ' || n.i, '', 'en',
       now() - ((n.i %% 48) || ' hours')::interval, '', '{}'::jsonb, now()
FROM n JOIN monitoring_person p ON p.external_id = 'bench-u-' || n.i;

WITH n AS (SELECT generate_series(%(start)s, %(stop)s - 1) AS i),
s AS (
  SELECT n.i,
         (ARRAY['new','researching','drafting','awaiting_approval','approved',
                'awaiting_engagement','engaged','followed'])[1 + (n.i / 10) %% 8] AS open_stage,
         (ARRAY['dismissed','expired','no_response','resolved','opted_out','failed'])[1 + n.i %% 6]
           AS closed_stage,
         (n.i %% 10 = 0) AS is_open
  FROM n
)
INSERT INTO outreach_case (post_id, person_id, brand_id, platform, kind, stage, playbook_id,
                           assignee_id, due_at, severity, incident_id, opened_at, closed_at,
                           dismiss_reason)
SELECT po.id, po.author_id, %(brand)s, 'sandbox', 'competitor',
       CASE WHEN s.is_open THEN s.open_stage ELSE s.closed_stage END,
       %(playbook)s, CASE WHEN s.i %% 3 = 0 THEN %(user)s ELSE NULL END,
       now() + (((s.i * 7919) %% 86400) - 43200 || ' minutes')::interval,
       1 + s.i %% 4, NULL,
       now(), CASE WHEN s.is_open THEN NULL ELSE now() END,
       CASE WHEN NOT s.is_open AND s.closed_stage = 'dismissed' THEN 'bench' ELSE '' END
FROM s JOIN monitoring_post po ON po.external_id = 'bench-p-' || s.i;
"""


def seed(start: int, stop: int, brand_id: int, playbook_id: int, user_id: int) -> None:
    from django.db import connection

    params = {
        "start": start,
        "stop": stop,
        "brand": brand_id,
        "playbook": playbook_id,
        "user": user_id,
    }
    with connection.cursor() as cursor:
        for statement in SEED_SQL.split(";\n"):
            if statement.strip():
                cursor.execute(statement, params)
        cursor.execute("ANALYZE")


def measure(client: object, url: str, runs: int) -> tuple[float, int, int]:
    """Median milliseconds per page, queries per page, rows shown."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # type: ignore[attr-defined]  # warm caches and connection
    times = []
    queries = 0
    rows = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)  # type: ignore[attr-defined]
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
        queries = len(ctx.captured_queries)
        rows = len(response.context["cl"].result_list)
    return statistics.median(times), queries, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=25)
    args = parser.parse_args()

    recreate_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    settings.ALLOWED_HOSTS = ["testserver"]
    setup_test_environment()  # lets the client see response.context
    call_command("migrate", verbosity=0)

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from monitoring.models import Brand
    from outreach.models import Playbook

    brand = Brand.objects.create(name="Telvana", kind="competitor")
    Brand.objects.create(name="Northwind", kind="own")
    playbook = Playbook.objects.create(kind="competitor", name="bench", guidance="be kind")
    user = get_user_model().objects.create_user("bench", password="bench", is_staff=True)
    user.groups.add(Group.objects.get(name="Analyst"))
    client = Client()
    client.force_login(user)

    pages = {
        "open queue": "/admin/outreach/case/",
        "all cases": "/admin/outreach/case/?queue=all",
        "stage=drafting": "/admin/outreach/case/?stage__exact=drafting",
    }
    results: dict[int, dict[str, tuple[float, int, int]]] = {}
    seed(0, args.small, brand.pk, playbook.pk, user.pk)
    results[args.small] = {name: measure(client, url, args.runs) for name, url in pages.items()}
    seed(args.small, args.large, brand.pk, playbook.pk, user.pk)
    results[args.large] = {name: measure(client, url, args.runs) for name, url in pages.items()}

    from django.db import connection

    print(f"PostgreSQL {connection.pg_version}, {args.runs} runs per page, median server time")
    print(f"{'page':<16}{'cases':>9}{'median ms':>11}{'queries':>9}{'rows':>6}")
    for size, by_page in results.items():
        for name, (ms, queries, rows) in by_page.items():
            print(f"{name:<16}{size:>9}{ms:>11.1f}{queries:>9}{rows:>6}")
    for name in pages:
        ratio = results[args.large][name][0] / results[args.small][name][0]
        print(f"ratio {args.large:,} / {args.small:,} cases, {name}: {ratio:.2f}x")


if __name__ == "__main__":
    main()
