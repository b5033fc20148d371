"""A PostgreSQL database of N posts with the proportions of issue #15, built with COPY.

``build(size, dbname)`` drops and creates ``dbname``, creates the tables with
``migrate`` (so the indexes, constraints and the workflow's triggers are the real
ones), adds the demo users, playbooks and account of ``outreach/demo.py``, then
loads the history with psycopg 3 ``cursor.copy``:

- people: one per three posts (everyone posts about three times);
- posts: ``size``, a thousand a day, the newest ending now, on three platforms;
- detections: 0.9 per post (every tenth post has none yet), with their brands;
- cases: 0.7 per post (the detections with a complaint); the open ones are those of the
  newest 300 posts at every size (``OPEN_WINDOW_POSTS``; at most one per person, rule 6),
  the rest closed in every closed stage;
- case events: 4 per case; outbox rows: 0.5 per case (a reply, with its approved
  draft), and a research note per such case; engagement events for the resolved ones;
- incidents of growing size in time order, the biggest (and newest) holding 0.75 % of
  the posts (7 / 750 / 7,500 detections at 1k / 100k / 1M);
- the incidents' hourly counts (``monitoring.IncidentHour``, the chart's rollup) and
  their 5-minute counts in each incident's first hours (``IncidentMinutes``);
- brands (our own and six competitors), the demo playbooks, accounts and sources.

The rows are written with ids of our own (the sequences are moved past them
afterwards), so foreign keys are known without reading anything back.

**Triggers.** The database guards stage changes and outbox inserts with triggers
(``outreach/workflow/dbrules.py``): an outbox row is refused unless the move that
queues it wrote its CaseEvent in the same transaction. A history cannot be replayed
through the workflow at this speed, so the loading session sets
``session_replication_role = replica``, which skips every trigger (and the foreign
key checks, which are triggers too) for that session only; the rows are made
consistent here instead. Other sessions, and the measurements afterwards, run with
all triggers in force. This needs a superuser (the local ``postgres`` role is one).

Run by hand: ``.venv/bin/python bench/scale_data.py 100000 nojackal_scale_100k``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")

POSTS_PER_DAY = 1000
PEOPLE_PER_POST = 1 / 3
PLATFORMS = ("sandbox", "mastodon", "bluesky")
COMPETITORS = ("Telvana", "Quickline", "Orbitel", "Fibrex", "Skylink", "Netwave")
TOPICS = ("outage", "billing", "speed", "support", "account", "app")
CLOSED = ("dismissed", "expired", "no_response", "resolved", "opted_out", "failed")
OPEN = (
    "new",
    "researching",
    "drafting",
    "awaiting_approval",
    "approved",
    "awaiting_engagement",
    "engaged",
    "followed",
)
# Open cases: the newest posts, this many at every size (a queue that is worked does not
# grow with history). The smallest database has 333 people, so no more than that can be
# open there (rule 6: one open case per person); the same window at every size keeps the
# 1M/1k ratios about history, not about a queue nine times longer (3,000 posts at 1M
# against 333 at 1k, as it was before, put 256 overdue cases in the expiry ticks at 1M
# and none at 1k).
OPEN_WINDOW_POSTS = 300
BIGGEST_INCIDENT_SHARE = 0.0075
INCIDENTS = 20
# Handles are made of syllables, as people's are, rather than ``user_0000123``: a
# numbered handle shares six of a search term's nine trigrams with every other handle,
# so a trigram search would read every person's posting lists, which real handles
# never make it do. ``handle(i)`` is one-to-one (a scramble of i written in base 40).
SYLLABLES = (
    "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "bri",
    "dan", "el", "fo", "gu", "ha", "jo", "ki", "lu", "ma", "no",
    "pe", "qui", "ro", "si", "ta", "un", "vi", "wa", "xe", "yo",
    "zu", "ar", "be", "co", "di", "es", "fa", "go", "hi", "io",
)  # fmt: skip
HANDLE_SPACE = len(SYLLABLES) ** 4  # 2,560,000 handles, more than any size's people


def handle(i: int) -> str:
    """Person i's handle: four syllables and two digits, different for every i."""
    n = (i * 1_000_003) % HANDLE_SPACE  # 1,000,003 is prime to 40**4: a bijection
    parts = []
    for _ in range(4):
        n, d = divmod(n, len(SYLLABLES))
        parts.append(SYLLABLES[d])
    return "".join(parts) + f"{i % 97:02d}"


REPLY_TEXT = "That sounds really frustrating. I hope it gets sorted out for you soon."
REPLY_HASH = hashlib.sha256(REPLY_TEXT.encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class Measured:
    """One row of the scale table: a page or a step at one size."""

    name: str
    ms: float
    queries: int


def biggest_incident() -> Any:
    """The history's biggest incident (the loaded ones have ids 1 to INCIDENTS: posts a
    latency run stores, ``bench/scale_latency.py``, may form an incident of their own)."""
    from monitoring.models import Incident

    biggest = Incident.objects.filter(pk__lte=INCIDENTS).order_by("-volume", "pk").first()
    assert biggest is not None, "the scale data has incidents"
    return biggest


def runs() -> int:
    """Timed runs per row (after one warm-up), from BENCH_SCALE_RUNS (default 7)."""
    return int(os.environ.get("BENCH_SCALE_RUNS", "7"))


def measured(name: str, fn: Callable[[], object], times: int | None = None) -> Measured:
    """Median milliseconds of ``fn()`` over ``times`` runs after a warm-up, and the
    number of SQL queries of the last run (on Django's default connection)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fn()
    elapsed = []
    queries = 0
    for _ in range(times or runs()):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            fn()
            elapsed.append((time.perf_counter() - started) * 1000)
        queries = len(ctx.captured_queries)
    return Measured(name, statistics.median(elapsed), queries)


def setup_django() -> None:
    """Configure Django (test settings: fast password hashing, no SSL redirect) once, with
    tasks sent to the broker as in production, never run in place (``NOJACKAL_TEST_EAGER``)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    os.environ["NOJACKAL_TEST_EAGER"] = "0"
    os.environ.setdefault("DATABASE_URL", f"{PG_SERVER}/postgres")
    # The latency row's worker listens on BENCH_BROKER_URL: this process must send there too.
    os.environ.setdefault("CELERY_BROKER_URL", os.environ.get("BENCH_BROKER_URL", "memory://"))
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def use_database(dbname: str) -> None:
    """Point Django's default connection at ``dbname`` (closing the current one)."""
    from django.db import connections

    connection = connections["default"]
    connection.close()
    connection.settings_dict["NAME"] = dbname


def recreate(dbname: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))


def drop(dbname: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
        )


@dataclasses.dataclass
class Plan:
    """Who and what exists before the history is loaded (made through the ORM)."""

    size: int
    now: dt.datetime
    brand_ids: list[int]  # [own, *competitors]
    playbook: dict[str, int]  # kind -> id
    account_ids: list[int]
    source_ids: list[int]
    analyst_id: int
    reviewer_id: int

    @property
    def people(self) -> int:
        return max(1, int(self.size * PEOPLE_PER_POST))

    def posted_at(self, j: int) -> dt.datetime:
        return self.now - dt.timedelta(days=(self.size - j) / POSTS_PER_DAY)

    def author(self, j: int) -> int:
        return 1 + j % self.people

    def has_detection(self, j: int) -> bool:
        return j % 10 != 9

    def has_case(self, j: int) -> bool:
        return j % 10 < 7

    def is_open(self, j: int) -> bool:
        # The newest posts, no more than one per person (authors repeat every `people` posts).
        window = min(self.people, OPEN_WINDOW_POSTS)
        return j >= self.size - window

    def brand(self, j: int) -> int:
        # One complaint in five is about our own brand.
        return (
            self.brand_ids[0] if j % 5 == 0 else self.brand_ids[1 + j % (len(self.brand_ids) - 1)]
        )


def prepare(size: int) -> Plan:
    """The small tables, through the ORM: demo users, playbooks, account, brands, sources."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from monitoring.models import Account, Brand, Source
    from outreach.demo import seed_demo
    from outreach.models import Playbook

    class Quiet:
        def write(self, text: str) -> int:
            return len(text)

    seed_demo(Quiet())  # type: ignore[arg-type]
    own = Brand.objects.create(name="Northwind", kind="own", aliases=["NW"])
    competitors = [
        Brand.objects.create(name=name, kind="competitor", products=[f"{name} Fiber"])
        for name in COMPETITORS
    ]
    accounts = list(Account.objects.all())
    for platform in PLATFORMS[1:]:
        accounts.append(Account.objects.create(platform=platform, handle=f"northwind_{platform}"))
    sources = [
        Source.objects.create(
            name=f"{brand.name} on {platform}", platform=platform, brand=brand, terms=[brand.name]
        )
        for brand in [own, *competitors]
        for platform in PLATFORMS
    ]
    User = get_user_model()
    return Plan(
        size=size,
        now=timezone.now(),
        brand_ids=[own.pk, *(b.pk for b in competitors)],
        playbook={p.kind: p.pk for p in Playbook.objects.filter(is_active=True)},
        account_ids=[a.pk for a in accounts],
        source_ids=[s.pk for s in sources],
        analyst_id=User.objects.get(username="analyst").pk,
        reviewer_id=User.objects.get(username="reviewer").pk,
    )


def incident_sizes(size: int) -> list[int]:
    """Incident sizes, oldest first, growing to the biggest (0.75 % of the posts). As many
    incidents at every size (their list shows as many rows), each bigger with the history."""
    count = INCIDENTS
    biggest = max(1, round(size * BIGGEST_INCIDENT_SHARE))
    return [max(1, round(biggest * (k + 1) / count)) for k in range(count)]


def incident_of_posts(plan: Plan) -> tuple[dict[int, int], list[tuple[int, int, int, int]]]:
    """post index -> incident id, and (incident id, first post, last post, volume) rows.

    Incident k lives in the k-th slice of the history; its detections are spread
    evenly over that slice (only posts with a detection count).
    """
    sizes = incident_sizes(plan.size)
    span = plan.size // len(sizes)
    member: dict[int, int] = {}
    rows = []
    for k, wanted in enumerate(sizes):
        start, stop = k * span, (k + 1) * span
        candidates = [j for j in range(start, stop) if plan.has_detection(j)]
        step = max(1, len(candidates) // wanted)
        chosen = candidates[::step][:wanted]
        for j in chosen:
            member[j] = k + 1
        rows.append((k + 1, chosen[0], chosen[-1], len(chosen)))
    return member, rows


def _mix(n: int) -> int:
    """A fixed scramble of n, so that stages do not line up with platforms or brands."""
    return (n * 2654435761 % 2**32) >> 8


def load(plan: Plan, cursor: object) -> dict[str, int]:
    """COPY the history; return the number of rows per table."""
    from monitoring.incidents import FINE_SPAN

    size = plan.size
    counts: dict[str, int] = {}
    member, incidents = incident_of_posts(plan)

    def copy(table: str, columns: str, rows: Iterator[tuple[object, ...]]) -> None:
        n = 0
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as out:  # type: ignore[attr-defined]
            for row in rows:
                out.write_row(row)
                n += 1
        counts[table] = n

    copy(
        "monitoring_person",
        "id, platform, external_id, handle, display_name, profile_url, first_seen_at",
        (
            (
                i,
                PLATFORMS[i % len(PLATFORMS)],
                f"u{i}",
                handle(i),
                f"User {i}",
                "",
                plan.posted_at(i - 1),
            )
            for i in range(1, plan.people + 1)
        ),
    )
    # The person's platform decides the post's (author i posts on PLATFORMS[i % 3]).
    copy(
        "monitoring_post",
        "id, platform, external_id, author_id, source_id, text, url, lang, posted_at,"
        " in_reply_to, raw, fetched_at, awaiting_detection",
        (
            (
                j + 1,
                PLATFORMS[plan.author(j) % len(PLATFORMS)],
                f"p{j}",
                plan.author(j),
                plan.source_ids[j % len(plan.source_ids)],
                f"{COMPETITORS[j % len(COMPETITORS)]} {TOPICS[j % len(TOPICS)]} again, "
                f"third time this week (post {j:07d}) #{TOPICS[(j // 7) % len(TOPICS)]}",
                "",
                "en",
                plan.posted_at(j),
                "",
                "{}",
                plan.posted_at(j),
                not plan.has_detection(j),
            )
            for j in range(size)
        ),
    )
    copy(
        "monitoring_incident",
        "id, brand_id, topic, state, first_seen_at, last_seen_at, volume, peak_per_hour,"
        " baseline_per_hour, spike, alerted_state, created_at",
        (
            (
                k,
                plan.brand(first),
                TOPICS[k % len(TOPICS)],
                "active" if k == len(incidents) else "closed",
                plan.posted_at(first),
                plan.posted_at(last),
                volume,
                max(1, volume // 10),
                1.0,
                volume > 50,
                "",
                plan.posted_at(first),
            )
            for k, first, last, volume in incidents
        ),
    )

    # The incidents' hourly rollup (monitoring.IncidentHour), as incidents.assign keeps it.
    hours: dict[tuple[int, dt.datetime], int] = {}
    for j, k in member.items():
        key = (k, plan.posted_at(j).replace(minute=0, second=0, microsecond=0))
        hours[key] = hours.get(key, 0) + 1
    copy(
        "monitoring_incidenthour",
        "id, incident_id, hour, count",
        ((n, k, hour, c) for n, ((k, hour), c) in enumerate(sorted(hours.items()), start=1)),
    )
    # And the 5-minute counts of each incident's first hours (monitoring.IncidentMinutes,
    # kept by incidents.assign while a complaint is within FINE_SPAN of the first): a
    # young incident's chart reads them, an incident without them falls back to its hours
    # (one query more).
    firsts = {k: plan.posted_at(first) for k, first, _, _ in incidents}
    slots: dict[tuple[int, dt.datetime], int] = {}
    for j, k in member.items():
        at = plan.posted_at(j)
        if at - firsts[k] < FINE_SPAN:
            key = (k, at.replace(minute=at.minute - at.minute % 5, second=0, microsecond=0))
            slots[key] = slots.get(key, 0) + 1
    copy(
        "monitoring_incidentminutes",
        "id, incident_id, start, count",
        ((n, k, start, c) for n, ((k, start), c) in enumerate(sorted(slots.items()), start=1)),
    )

    def detections() -> Iterator[tuple[object, ...]]:
        for j in range(size):
            if not plan.has_detection(j):
                continue
            case = plan.has_case(j)
            yield (
                j + 1,
                j + 1,
                plan.brand(j),
                plan.posted_at(j),
                case or j % 10 == 7,
                0.9 if case else 0.2,
                -0.6,
                TOPICS[j % len(TOPICS)],
                "bench-1",
                member.get(j),
                "opened" if case else "not_complaint",
                "",
                "",
                plan.posted_at(j),
            )

    copy(
        "monitoring_detection",
        "id, post_id, brand_id, posted_at, complaint, score, sentiment, topic, model_version,"
        " incident_id, triage, triage_note, correction, created_at",
        detections(),
    )
    copy(
        "monitoring_detection_brands",
        "detection_id, brand_id",
        ((j + 1, plan.brand(j)) for j in range(size) if plan.has_detection(j)),
    )

    # Cases: one per post with j % 10 < 7; case id = running number.
    case_posts = [j for j in range(size) if plan.has_case(j)]

    def stage(c: int, j: int) -> str:
        if plan.is_open(j):
            return OPEN[_mix(c) % len(OPEN)]
        return CLOSED[_mix(c) % len(CLOSED)]

    def cases() -> Iterator[tuple[object, ...]]:
        for c, j in enumerate(case_posts, start=1):
            s = stage(c, j)
            brand = plan.brand(j)
            kind = "own_brand" if brand == plan.brand_ids[0] else "competitor"
            opened = plan.posted_at(j) + dt.timedelta(minutes=5)
            yield (
                c,
                j + 1,
                plan.author(j),
                brand,
                PLATFORMS[plan.author(j) % len(PLATFORMS)],
                kind,
                s,
                plan.playbook[kind],
                plan.analyst_id if c % 3 == 0 else None,
                opened + dt.timedelta(hours=24),
                1 + c % 4,
                member.get(j),
                opened,
                None if s in OPEN else min(opened + dt.timedelta(days=2), plan.now),
                "bench: not for us" if s == "dismissed" else "",
                False,
            )

    copy(
        "outreach_case",
        "id, post_id, person_id, brand_id, platform, kind, stage, playbook_id, assignee_id,"
        " due_at, severity, incident_id, opened_at, closed_at, dismiss_reason, on_hold",
        cases(),
    )

    # Which cases sent (or queued) a reply: half of them, those in a stage that had one.
    replied_stages = {"no_response", "resolved", "opted_out", "approved"} | set(OPEN[5:])
    replied = [
        (c, j, stage(c, j))
        for c, j in enumerate(case_posts, start=1)
        if stage(c, j) in replied_stages
    ]

    def events() -> Iterator[tuple[object, ...]]:
        e = 0
        for c, j in enumerate(case_posts, start=1):
            s = stage(c, j)
            opened = plan.posted_at(j) + dt.timedelta(minutes=5)
            steps = (
                ("open", "new", "new", None),
                ("claim", "new", "researching", plan.analyst_id),
                ("save_draft", "researching", "drafting", plan.analyst_id),
                ("move", "drafting", s, plan.reviewer_id),
            )
            for minutes, (action, origin, target, actor) in enumerate(steps):
                e += 1
                yield (
                    e,
                    c,
                    action,
                    origin,
                    target,
                    actor,
                    "",
                    opened + dt.timedelta(minutes=minutes),
                )

    copy(
        "outreach_caseevent",
        "id, case_id, action, origin, target, actor_id, note, created_at",
        events(),
    )
    copy(
        "outreach_replydraft",
        "id, case_id, is_first_reply, text, author_id, editor_ids, tone_findings, updated_at,"
        " submitted_at, approved_by_id, approved_at, approved_text_hash, rejected_by_id,"
        " rejection_note, later",
        (
            (
                n,
                c,
                True,
                REPLY_TEXT,
                plan.analyst_id,
                "[]",
                "[]",
                plan.posted_at(j),
                plan.posted_at(j),
                plan.reviewer_id,
                plan.posted_at(j),
                REPLY_HASH,
                None,
                "",
                False,
            )
            for n, (c, j, _s) in enumerate(replied, start=1)
        ),
    )
    copy(
        "outreach_researchnote",
        "id, case_id, summary, thread_checked, scope, incident_id, chatter_volume, author_id,"
        " updated_at",
        (
            (
                n,
                c,
                "Read the thread; one person, one bad evening.",
                True,
                "incident" if j in member else "isolated",
                member.get(j),
                3,
                plan.analyst_id,
                plan.posted_at(j),
            )
            for n, (c, j, _s) in enumerate(replied, start=1)
        ),
    )

    def outbox() -> Iterator[tuple[object, ...]]:
        for n, (c, j, s) in enumerate(replied, start=1):
            state = {"approved": "pending", "failed": "failed"}.get(s, "sent")
            at = plan.posted_at(j) + dt.timedelta(hours=1)
            account = plan.account_ids[plan.author(j) % len(plan.account_ids)]
            yield (
                n,
                c,
                "reply",
                account,
                n,
                f"reply-{c}",
                state,
                REPLY_TEXT,
                REPLY_HASH,
                f"p{j}",
                f"r{c}" if state == "sent" else "",
                "",
                "boom" if state == "failed" else "",
                1,
                at,
                at,
                at if state == "sent" else None,
            )

    copy(
        "outreach_outboundaction",
        "id, case_id, kind, account_id, draft_id, idempotency_key, state, text, text_hash,"
        " in_reply_to, external_id, url, error, attempts, not_before, created_at, sent_at",
        outbox(),
    )
    copy(
        "outreach_engagementevent",
        "id, case_id, platform, kind, external_id, text, payload, occurred_at, recorded_at",
        (
            (
                n,
                c,
                PLATFORMS[plan.author(j) % len(PLATFORMS)],
                "reply",
                f"e{c}",
                "Thanks, that is kind of you",
                "{}",
                plan.posted_at(j) + dt.timedelta(hours=3),
                plan.posted_at(j) + dt.timedelta(hours=3),
            )
            for n, (c, j, s) in enumerate(replied, start=1)
            if s in ("resolved", "engaged", "followed")
        ),
    )
    return counts


SEQUENCES = (
    "monitoring_person",
    "monitoring_post",
    "monitoring_incident",
    "monitoring_incidenthour",
    "monitoring_incidentminutes",
    "monitoring_detection",
    "monitoring_detection_brands",
    "outreach_case",
    "outreach_caseevent",
    "outreach_replydraft",
    "outreach_researchnote",
    "outreach_outboundaction",
    "outreach_engagementevent",
)


def build(size: int, dbname: str) -> None:
    """Drop and create ``dbname`` and fill it with a history of ``size`` posts.

    Leaves Django's default connection pointed at ``dbname``.
    """
    setup_django()
    from django.core.management import call_command
    from django.db import connection
    from psycopg import sql

    started = time.perf_counter()
    recreate(dbname)
    use_database(dbname)
    call_command("migrate", verbosity=0)
    plan = prepare(size)
    connection.ensure_connection()
    raw = connection.connection  # in autocommit mode (Django's default): each COPY commits
    assert raw.autocommit
    with raw.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        counts = load(plan, cursor)
        cursor.execute("SET session_replication_role = DEFAULT")
        for table in SEQUENCES:
            cursor.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({}, 'id'),"
                    " coalesce((SELECT max(id) FROM {}), 0) + 1, false)"
                ).format(sql.Literal(table), sql.Identifier(table))
            )
        cursor.execute("VACUUM ANALYZE")
    connection.close()
    elapsed = time.perf_counter() - started
    summary = ", ".join(f"{table.split('_', 1)[1]} {n:,}" for table, n in counts.items())
    print(f"built {dbname}: {size:,} posts in {elapsed:.0f} s ({summary})", file=sys.stderr)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", type=int)
    parser.add_argument("dbname")
    args = parser.parse_args()
    build(args.size, args.dbname)


if __name__ == "__main__":
    main()
