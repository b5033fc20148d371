"""Outbox throughput and exactly-once: 1,000 due replies, 4 dispatcher processes.

Run by hand: ``.venv/bin/python bench/dispatch.py [--actions 1000] [--workers 4]
[--history 500000]`` (``--history``: that many replies already sent from the same
accounts over the last 30 days, so the per-account lookups face a big outbox).

A tiny Mastodon-compatible HTTP server (below) records every request. The real
Mastodon adapter (``monitoring/platforms/mastodon.py``) talks to it. The server
does NOT honour ``Idempotency-Key`` (as Bluesky, Reddit and X do not), so any
second POST for one reply would show up as a duplicate status: the count of
duplicates measures the dispatcher, not the platform's kindness.

Three runs in one process, on a throwaway PostgreSQL database:

1. direct: the same 1,000 replies posted straight through the adapter by
   4 processes (no database, no checks): the ceiling, taken (median of three)
   just before each of the runs below;
2. dispatcher: 1,000 approved cases, 20 accounts, 4 processes running
   ``dispatch.send_due`` as the Celery task does: the parent plays the beat, a tick
   every second (``--tick``; the app's is 15 s) that queues each account's first due
   row (``dispatch.due_action_ids``, as ``dispatch_due_actions`` does) to one process,
   which then sends that account's next due rows one after the other;
3. dispatcher with one process SIGKILLed in the middle: its claimed rows wait
   out the lease and are reconciled by the others with ``find_reply``.

Prints wall time, actions/s, the ratio to the direct run, and the duplicate count.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import signal
import statistics
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

OWN_ACCOUNT_ID = "9000"


# --- A Mastodon-compatible server that records everything ------------------------------------


class FakeMastodon:
    """Just enough of Mastodon's API for replies, find_reply and follows, in one process.

    ``fail_posts``: how many POST /api/v1/statuses to answer 503 first (an outage).
    ``fail_all``: answer 503 to everything while set (flip it from the test).
    ``hang_posts``: accept the status, then never answer (a response lost after
    the platform took the post) while set.
    ``honour_idempotency``: Mastodon's own behaviour; off by default, see above.
    """

    def __init__(
        self,
        *,
        fail_posts: int = 0,
        honour_idempotency: bool = False,
        delay: float = 0.0,
    ) -> None:
        self.lock = threading.Lock()
        self.statuses: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}
        self.requests: list[tuple[str, str]] = []
        self.created: list[dict[str, Any]] = []  # every status created by a POST
        self.follows: list[str] = []
        self.fail_posts = fail_posts
        self.fail_all = False
        self.hang_posts = False
        self.release = threading.Event()  # lets hanging requests finish at stop()
        self.honour_idempotency = honour_idempotency
        self.delay = delay
        self.next_id = 100_000
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeMastodon:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def posts_per_parent(self) -> Counter[str]:
        with self.lock:
            return Counter(str(s["in_reply_to_id"]) for s in self.created)

    def duplicates(self) -> int:
        """Statuses beyond the first one under the same parent: posted twice."""
        return sum(n - 1 for n in self.posts_per_parent().values() if n > 1)

    def _status(self, parent: str, text: str) -> dict[str, Any]:
        self.next_id += 1
        sid = str(self.next_id)
        return {
            "id": sid,
            "uri": f"{self.url}/users/us/statuses/{sid}",
            "url": f"{self.url}/@us/{sid}",
            "created_at": "2026-01-01T00:00:00.000Z",
            "content": f"<p>{text}</p>",
            "visibility": "public",
            "in_reply_to_id": parent or None,
            "account": {
                "id": OWN_ACCOUNT_ID,
                "acct": "us",
                "username": "us",
                "url": f"{self.url}/@us",
                "display_name": "Us",
            },
            "mentions": [],
            "tags": [],
            "media_attachments": [],
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without this, Nagle and delayed
            # ACKs add 40 ms to every request and the bench measures TCP, not us.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    return json.loads(raw or "{}")
                return {k: v[0] for k, v in parse_qs(raw).items()}

            def do_GET(self) -> None:
                self._route("GET")

            def do_POST(self) -> None:
                self._route("POST")

            def _route(self, method: str) -> None:
                path = urlparse(self.path).path
                body = self._body() if method == "POST" else {}
                with fake.lock:
                    fake.requests.append((method, path))
                if fake.delay:
                    time.sleep(fake.delay)
                if fake.fail_all:
                    return self._send(503, {"error": "Service Unavailable"})
                parts = path.strip("/").split("/")
                if method == "POST" and path == "/api/v1/statuses":
                    return self._post_status(body)
                if method == "GET" and path == "/api/v1/accounts/verify_credentials":
                    return self._send(200, fake._status("", "")["account"])
                if method == "GET" and parts[:3] == ["api", "v1", "statuses"] and len(parts) == 5:
                    parent = parts[3]
                    with fake.lock:
                        kids = [s for s in fake.statuses.values() if s["in_reply_to_id"] == parent]
                    return self._send(200, {"ancestors": [], "descendants": kids})
                if (
                    method == "GET"
                    and parts[:3] == ["api", "v1", "accounts"]
                    and parts[-1] == ("statuses")
                ):
                    with fake.lock:
                        mine = list(fake.statuses.values())[-40:][::-1]
                    return self._send(200, mine)
                if (
                    method == "POST"
                    and parts[:3] == ["api", "v1", "accounts"]
                    and parts[-1] == ("follow")
                ):
                    with fake.lock:
                        fake.follows.append(parts[3])
                    return self._send(200, {"id": parts[3], "following": True})
                if method == "GET" and path in ("/api/v2/instance", "/api/v1/instance"):
                    return self._send(200, {"configuration": {"statuses": {"max_characters": 500}}})
                return self._send(404, {"error": "Record not found"})

            def _post_status(self, body: dict[str, Any]) -> None:
                key = self.headers.get("Idempotency-Key", "")
                with fake.lock:
                    if fake.fail_posts > 0:
                        fake.fail_posts -= 1
                        failing = True
                    else:
                        failing = False
                if failing:
                    return self._send(503, {"error": "Service Unavailable"})
                parent = str(body.get("in_reply_to_id") or "")
                with fake.lock:
                    if fake.honour_idempotency and key in fake.by_key:
                        status = fake.statuses[fake.by_key[key]]
                    else:
                        status = fake._status(parent, str(body.get("status") or ""))
                        fake.statuses[status["id"]] = status
                        fake.by_key[key] = status["id"]
                        fake.created.append(status)
                    hang = fake.hang_posts
                if hang:
                    # The post exists; the answer never comes (the client times out).
                    fake.release.wait(120)
                return self._send(200, status)

        return Handler


# --- Data -----------------------------------------------------------------------------------


def _setup(
    n_actions: int,
    n_accounts: int,
    server_url: str,
    run: int,
    *,
    platform: str = "mastodon",
    options: dict[str, Any] | None = None,
) -> list[int]:
    """Approved cases with due reply actions, spread over ``n_accounts`` accounts of
    ``platform`` (Mastodon on ``server_url`` unless ``options`` say otherwise); also used
    by bench/faults.py with the sandbox adapter on a stub platform."""
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from monitoring.models import Account, Brand, Person, Post
    from outreach.models import (
        Case,
        CaseEvent,
        OutboundAction,
        Playbook,
        ReplyDraft,
        ResearchNote,
        Stage,
        text_hash,
    )

    user, _ = get_user_model().objects.get_or_create(username="bench")
    # The playbook's caps have ceilings the database enforces (50 replies per brand a
    # day): the cases are spread over enough competitors that no cap holds a send back.
    # Each run its own brands and accounts: the caps count a day (brands) and an hour
    # (accounts) of sends, so the second run would otherwise wait an hour for the first.
    brands = [
        Brand.objects.get_or_create(
            name=f"Telvana {run}-{b}", defaults={"kind": Brand.Kind.COMPETITOR}
        )[0]
        for b in range(max(1, -(-n_actions // 40)))
    ]
    playbook = Playbook.objects.filter(kind="competitor", is_active=True).first() or (
        Playbook.objects.create(kind="competitor", name="bench", guidance="bench")
    )
    Playbook.objects.filter(pk=playbook.pk).update(
        max_replies_per_brand_per_day=50,
        max_replies_per_incident=20,
        max_replies_per_account_per_hour=60,
    )
    options = options or {"api_base_url": server_url, "mention_author": False, "timeout": 5}
    accounts = [
        Account.objects.update_or_create(
            platform=platform,
            handle=f"us{i}" if run == 0 else f"us{i}-run{run}",
            defaults={"options": options, "max_sends_per_hour": 1_000_000},
        )[0]
        for i in range(n_accounts)
    ]
    base = run * n_actions  # each run its own people and posts
    now = timezone.now()
    people = Person.objects.bulk_create(
        Person(platform=platform, external_id=f"p{base + i}", handle=f"p{base + i}@example.org")
        for i in range(n_actions)
    )
    posts = Post.objects.bulk_create(
        Post(
            platform=platform,
            external_id=str(10_000 + base + i),
            author=people[i],
            text="Telvana dropped my connection again",
            url="",
            posted_at=now,
        )
        for i in range(n_actions)
    )
    cases = Case.objects.bulk_create(
        Case(
            post=posts[i],
            person=people[i],
            brand=brands[i % len(brands)],
            platform=platform,
            kind="competitor",
            stage=Stage.APPROVED,
            playbook=playbook,
            due_at=now + dt.timedelta(hours=24),
        )
        for i in range(n_actions)
    )
    ResearchNote.objects.bulk_create(
        ResearchNote(
            case=c,
            summary="A connection drop reported by one person this morning, isolated.",
            thread_checked=True,
            scope="isolated",
            author=user,
        )
        for c in cases
    )
    text = "That sounds really frustrating, I hope it gets fixed for you soon."
    drafts = ReplyDraft.objects.bulk_create(
        ReplyDraft(
            case=c,
            text=text,
            author=user,
            approved_by=user,
            approved_at=now,
            approved_text_hash=text_hash(text),
        )
        for c in cases
    )
    # The database queues a reply only for a case whose approval is recorded.
    CaseEvent.objects.bulk_create(
        CaseEvent(
            case=c,
            action="approve_reply",
            origin=Stage.AWAITING_APPROVAL,
            target=Stage.APPROVED,
            actor=user,
        )
        for c in cases
    )
    actions = OutboundAction.objects.bulk_create(
        OutboundAction(
            case=c,
            kind="reply",
            account=accounts[i % n_accounts],
            draft=drafts[i],
            idempotency_key=f"bench-{c.pk}",
            text=text,
            text_hash=text_hash(text),
            not_before=now,
        )
        for i, c in enumerate(cases)
    )
    return [a.pk for a in actions]


def _history(n: int, n_accounts: int) -> None:
    """``n`` replies sent over 30 days until two hours ago from the bench's accounts, their
    cases closed:
    the outbox the dispatcher's lookups (last send, caps) must not walk (issue #15).

    Written with the database's triggers off for this session only (as
    bench/scale_data.py does): a history cannot be replayed through the workflow
    at this speed, and the rows are made consistent here instead.
    """
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.db.models import F
    from django.utils import timezone

    from monitoring.models import Account, Brand, Person, Post
    from outreach.models import Case, OutboundAction, Playbook, ReplyDraft, Stage, text_hash

    if n <= 0:
        return
    user, _ = get_user_model().objects.get_or_create(username="bench")
    brand, _ = Brand.objects.get_or_create(
        name="Telvana history", defaults={"kind": Brand.Kind.COMPETITOR}
    )
    playbook = Playbook.objects.filter(kind="competitor", is_active=True).first() or (
        Playbook.objects.create(kind="competitor", name="bench", guidance="bench")
    )
    accounts = [
        Account.objects.get_or_create(platform="mastodon", handle=f"us{i}")[0]
        for i in range(n_accounts)
    ]
    now = timezone.now()
    text = "That sounds really frustrating, I hope it gets fixed for you soon."
    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
        for lo in range(0, n, 10_000):
            chunk = range(lo, min(n, lo + 10_000))
            people = Person.objects.bulk_create(
                Person(platform="mastodon", external_id=f"h{i}", handle=f"h{i}@example.org")
                for i in chunk
            )
            # Ending two hours ago: the history fills the lookups, not today's caps.
            when = [now - dt.timedelta(hours=2, days=30 * (n - i) / n) for i in chunk]
            posts = Post.objects.bulk_create(
                Post(
                    platform="mastodon",
                    external_id=f"h{i}",
                    author=person,
                    text="Telvana dropped my connection",
                    posted_at=at - dt.timedelta(hours=1),
                    awaiting_detection=False,
                )
                for i, person, at in zip(chunk, people, when, strict=True)
            )
            cases = Case.objects.bulk_create(
                Case(
                    post=post,
                    person=post.author,
                    brand=brand,
                    platform="mastodon",
                    kind="competitor",
                    stage=Stage.NO_RESPONSE,
                    playbook=playbook,
                    due_at=at,
                    closed_at=at + dt.timedelta(days=7),
                )
                for post, at in zip(posts, when, strict=True)
            )
            drafts = ReplyDraft.objects.bulk_create(
                ReplyDraft(
                    case=case,
                    text=text,
                    author=user,
                    approved_by=user,
                    approved_at=at,
                    approved_text_hash=text_hash(text),
                )
                for case, at in zip(cases, when, strict=True)
            )
            OutboundAction.objects.bulk_create(
                OutboundAction(
                    case=case,
                    kind="reply",
                    account=accounts[i % n_accounts],
                    draft=draft,
                    idempotency_key=f"history-{i}",
                    state="sent",
                    text=text,
                    text_hash=text_hash(text),
                    external_id=f"hs{i}",
                    not_before=at,
                    created_at=at,
                    sent_at=at,
                )
                for i, case, draft, at in zip(chunk, cases, drafts, when, strict=True)
            )
        # created_at is auto_now_add: put it back at the time of each send.
        OutboundAction.objects.filter(idempotency_key__startswith="history-").update(
            created_at=F("sent_at")
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"history: {n:,} sent replies in {time.perf_counter() - started:.0f} s")


# --- Workers --------------------------------------------------------------------------------


def _dispatcher(lease: float, inbox: Any) -> None:
    """One worker process: send each id it is handed and its account's next due rows, as a
    Celery worker runs the send_action task."""
    from django.conf import settings
    from django.db import connections

    connections.close_all()
    settings.NOJACKAL_OUTBOX_LEASE_SECONDS = lease
    from outreach import dispatch

    while (pk := inbox.get()) is not None:
        dispatch.send_due(pk)


def _tick(procs: list[Any], inboxes: list[Any], lease: float, every: float) -> None:
    """The beat's part: every ``every`` seconds, queue each due id (each account's first
    due row) to one live worker, round robin, as ``dispatch_due_actions`` does. An id goes
    again only once a lease has passed (a row claimed by a worker that died, or handed to
    a worker still busy with other accounts), as a later tick would queue it again.

    Whether every row is done is looked at every 50 ms, not only at each tick: the run
    ends when its last row is recorded, not up to a tick later."""
    from outreach import dispatch
    from outreach.models import OutboundAction

    handed: dict[int, float] = {}
    turn = 0
    ticked = -every
    while OutboundAction.objects.filter(state__in=["pending", "sending"]).exists():
        now = time.monotonic()
        if now - ticked >= every:
            ticked = now
            for pk in dispatch.due_action_ids(limit=200):
                if pk in handed and now - handed[pk] < lease:
                    continue
                live = [i for i, p in enumerate(procs) if p.is_alive()]
                inboxes[live[turn % len(live)]].put(pk)
                handed[pk] = now
                turn += 1
        time.sleep(max(0.0, min(0.05, every - (time.monotonic() - ticked))))
    for inbox, proc in zip(inboxes, procs, strict=True):
        if proc.is_alive():
            inbox.put(None)


def _direct(server_url: str, parents: list[str]) -> None:
    from monitoring.platforms.mastodon import MastodonPlatform

    adapter = MastodonPlatform(options={"api_base_url": server_url, "mention_author": False})
    for parent in parents:
        adapter.reply(in_reply_to=parent, text="direct", idempotency_key=f"direct-{parent}")


def _run_direct(n: int, workers: int) -> float:
    server = FakeMastodon().start()
    parents = [str(10_000 + i) for i in range(n)]
    ctx = mp.get_context("fork")
    start = time.perf_counter()
    procs = [
        ctx.Process(target=_direct, args=(server.url, parents[w::workers])) for w in range(workers)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    wall = time.perf_counter() - start
    assert len(server.created) == n, len(server.created)
    server.stop()
    return wall


def _run_dispatch(
    n: int, workers: int, accounts: int, *, kill: bool, run: int, tick: float = 1.0
) -> dict[str, Any]:
    from django.db import connections

    from outreach.models import Case, OutboundAction

    server = FakeMastodon().start()
    ids = _setup(n, accounts, server.url, run)
    connections.close_all()
    lease = 3.0
    ctx = mp.get_context("fork")
    start = time.perf_counter()
    # One inbox per worker: a worker killed while reading its own does not block the others.
    inboxes = [ctx.SimpleQueue() for _ in range(workers)]
    procs = [ctx.Process(target=_dispatcher, args=(lease, inbox)) for inbox in inboxes]
    for p in procs:
        p.start()
    killed_at: list[int] = []
    if kill:

        def _kill() -> None:
            while len(server.created) < n // 3:
                time.sleep(0.005)
            os.kill(procs[0].pid, signal.SIGKILL)
            killed_at.append(len(server.created))

        threading.Thread(target=_kill, daemon=True).start()
    _tick(procs, inboxes, lease, tick)
    for p in procs:
        p.join()
    wall = time.perf_counter() - start
    mine = OutboundAction.objects.filter(pk__in=ids)
    states = Counter(mine.values_list("state", flat=True))
    reconciled = mine.filter(state="sent", attempts__gt=1).count()
    stages = Counter(Case.objects.filter(actions__in=ids).values_list("stage", flat=True))
    posts = sum(1 for method, path in server.requests if method == "POST")
    result = {
        "wall_s": round(wall, 2),
        "actions_per_s": round(n / wall, 1),
        "states": dict(states),
        "case_stages": dict(stages),
        "statuses_created": len(server.created),
        "post_requests": posts,
        "duplicates": server.duplicates(),
        "reclaimed_after_crash": reconciled,
        "killed_after_posts": killed_at[0] if killed_at else None,
        "http_requests": len(server.requests),
    }
    server.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument(
        "--tick",
        type=float,
        default=1.0,
        help="seconds between two beat ticks (the app's default is 15: "
        "NOJACKAL_DISPATCH_TICK_SECONDS)",
    )
    parser.add_argument(
        "--history",
        type=int,
        default=0,
        help="sent replies already in the outbox (e.g. 500000), to show the sends do not slow",
    )
    args = parser.parse_args()

    from bench.common import setup_django

    setup_django("nojackal_bench_dispatch")
    import logging

    from django.conf import settings

    logging.disable(logging.WARNING)
    # setup_django runs with DEBUG on; its query logging (each statement kept and
    # formatted) would tax the dispatcher's ORM path only, never the direct run's.
    settings.DEBUG = False
    _history(args.history, args.accounts)
    for run, kill in enumerate((False, True)):
        # The ceiling is measured just before each dispatcher run, the median of three: on
        # a shared machine one few-second run swings with its neighbours' load, and a
        # ratio against a ceiling taken minutes earlier says more about them than about us.
        direct = statistics.median(_run_direct(args.actions, args.workers) for _ in range(3))
        print(
            f"direct: {args.actions} replies via the adapter, {args.workers} processes: "
            f"{direct:.2f} s, {args.actions / direct:.0f}/s (median of 3); "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        result = _run_dispatch(
            args.actions, args.workers, args.accounts, kill=kill, run=run, tick=args.tick
        )
        label = "dispatcher, one process SIGKILLed" if kill else "dispatcher"
        ratio = (args.actions / result["wall_s"]) / (args.actions / direct)
        print(f"{label}: {json.dumps(result)}")
        print(
            f"  ratio to direct (actions/s): {ratio:.2f}; duplicates: {result['duplicates']}; "
            f"load average {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()
