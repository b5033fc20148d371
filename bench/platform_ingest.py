"""Mastodon ingest throughput: recorded search pages parsed and stored per second.

Serves N statuses from a local HTTP server in another process (so it does not
share this process's GIL), as Mastodon's /api/v2/search answers: newest first,
``min_id``/``max_id`` bounds, 40 a page. The statuses are the recorded ones in
``shared/data/platform_payloads/mastodon`` (every distinct Status there), cycled,
with ids (and the ids in their URLs) rewritten to be unique, timestamps spread
one second apart and authors spread over ``--authors`` accounts. A Mastodon
source starting below the oldest id is polled with ``ingest.poll`` (our HTTP
requests under the outbound policy, our mapping, our store) until a poll brings nothing new.
The same PostData are then written again, straight into the same empty tables,
with COPY and with bulk_create, in the same run.

On a shared machine wall time swings with the load, so the CPU time each side used
(this process, its database backend and, for the poll, the HTTP server) is printed too.

The poll path's time is split by timing wrappers around: requests' HTTP round
trip; the JSON decode of the answer (``MastodonPlatform._get_json``: listening
maps the instance's JSON itself, without Mastodon.py, since issue #15); our
adapter's own work (mapping to PostData, cursor); ``ingest.store_page`` (the DB
writes); and the rest of ``ingest.poll`` (loading the source, recording success).

    python bench/platform_ingest.py [--posts 20000] [--authors 5000]
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import functools
import json
import multiprocessing
import os
import time
from collections import defaultdict
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from common import REPO, copy_posts, setup_django, timed

SHARED_DIR = Path(os.environ.get("NOJACKAL_SHARED_DIR", REPO.parent / "shared"))
RECORDINGS = SHARED_DIR / "data" / "platform_payloads" / "mastodon"
FIRST_ID = 110_000_000_000_000_000  # Mastodon-sized snowflakes
FIRST_ACCOUNT_ID = 109_000_000_000_000_000
TERM = "mastodonpy"
DB_NAME = "nojackal_bench_platform"


def recorded_statuses() -> list[dict[str, Any]]:
    """Every distinct Status in the Mastodon recordings (search answers, timelines, threads)."""

    def body(name: str) -> Any:
        with (RECORDINGS / f"{name}.json").open(encoding="utf-8") as handle:
            return json.load(handle)["response"]["body"]

    context = body("status_context")
    found: dict[str, dict[str, Any]] = {}
    for status in [
        *body("account_statuses_page"),
        *body("hashtag_timeline"),
        body("status_post"),
        body("status_reply"),
        *context["ancestors"],
        *context["descendants"],
    ]:
        found[status["id"]] = status
    return list(found.values())


def make_statuses(count: int, authors: int) -> list[dict[str, Any]]:
    """``count`` statuses, oldest first: recorded ones cycled, ids, times and authors rewritten."""
    base = recorded_statuses()
    start = dt.datetime(2026, 8, 1, tzinfo=dt.UTC)
    statuses = []
    for i in range(count):
        status = copy.deepcopy(base[i % len(base)])
        old_id, new_id = status["id"], str(FIRST_ID + i)
        status["id"] = new_id
        for key in ("uri", "url"):
            if isinstance(status.get(key), str):
                status[key] = status[key].replace(old_id, new_id)
        when = start + dt.timedelta(seconds=i)
        status["created_at"] = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        account = status["account"]
        n = i % authors
        account["id"] = str(FIRST_ACCOUNT_ID + n)
        account["username"] = account["acct"] = f"user{n}"
        account["url"] = f"http://localhost:3000/@user{n}"
        statuses.append(status)
    return statuses


def serve(count: int, authors: int, ready: Any) -> None:
    """Answer /api/v2/search like Mastodon over ``count`` statuses; runs in its own process."""
    encoded = [json.dumps(s).encode() for s in make_statuses(count, authors)]
    with (RECORDINGS / "search_v2_type_statuses_empty.json").open(encoding="utf-8") as handle:
        headers = {
            k: v
            for k, v in json.load(handle)["response"]["headers"].items()
            if k.lower() not in ("link", "content-type")
        }

    def position(value: str) -> int:
        return max(0, min(count, int(value) - FIRST_ID))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real instance behind nginx

        def do_GET(self) -> None:
            url = urlparse(self.path)
            args = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path != "/api/v2/search":
                self.send_error(404)
                return
            # Ids are FIRST_ID + position: min_id/max_id are exclusive bounds.
            low = position(str(int(args["min_id"]) + 1)) if "min_id" in args else 0
            high = position(args["max_id"]) if "max_id" in args else count
            limit = int(args.get("limit", 20))
            page = encoded[max(low, high - limit) : high][::-1]
            body = b'{"accounts":[],"statuses":[' + b",".join(page) + b'],"hashtags":[]}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ready.send(server.server_address[1])
    server.serve_forever()


class Clock:
    """Seconds and calls accumulated per label by wrapped functions."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, owner: Any, name: str, label: str) -> None:
        original: Callable[..., Any] = getattr(owner, name)

        @functools.wraps(original)
        def timed_call(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start
                self.calls[label] += 1

        setattr(owner, name, timed_call)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--authors", type=int, default=5_000)
    args = parser.parse_args()

    # The server process is spawned before Django opens any connection.
    spawn = multiprocessing.get_context("spawn")
    ours, theirs = spawn.Pipe()
    server = spawn.Process(target=serve, args=(args.posts, args.authors, theirs), daemon=True)
    server.start()
    port = ours.recv()
    assert server.pid is not None
    try:
        run(args.posts, args.authors, f"http://127.0.0.1:{port}", server.pid)
    finally:
        server.terminate()
        server.join()


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds a process (ours, the database's backend, the server)
    has used so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(count: int, authors: int, base_url: str, server_pid: int) -> None:
    setup_django(DB_NAME)

    import mastodon.internals
    import requests
    from django.conf import settings
    from django.db import connection, transaction

    from monitoring import ingest
    from monitoring.models import Person, Post, Source
    from monitoring.platforms.mastodon import MastodonPlatform

    # setup_django runs with DEBUG on; query logging would tax the ORM path only.
    settings.DEBUG = False

    source = Source.objects.create(
        name="bench",
        platform="mastodon",
        terms=[TERM],
        options={"api_base_url": base_url, "mode": "search", "timeout": 30},
        # Below the oldest id: the first poll walks the whole backlog down, page by page.
        cursor=json.dumps({"terms": {TERM: {"min": "0"}}}),
    )

    clock = Clock()
    clock.wrap(requests.Session, "request", "http")
    # Not the private method that calls it: that one finds the type to cast to by
    # looking two frames up, which a wrapper would shift. Listening no longer goes
    # through Mastodon.py (issue #15): this stays at zero unless it comes back.
    clock.wrap(mastodon.internals, "try_cast_recurse", "mastodonpy_cast")
    clock.wrap(MastodonPlatform, "_get_json", "fetch")
    clock.wrap(MastodonPlatform, "search", "search")
    clock.wrap(MastodonPlatform, "_posts", "mapping")
    stored_posts: list[Any] = []
    store_page = ingest.store_page

    def keep_and_store(source: Source, page: Any) -> int:
        stored_posts.extend(page.posts)
        return store_page(source, page)

    ingest.store_page = keep_and_store  # type: ignore[assignment]
    clock.wrap(ingest, "store_page", "store")

    def poll_until_exhausted() -> tuple[int, int]:
        total = polls = 0
        while True:
            polls += 1
            created = ingest.poll(source.pk)
            total += created
            if not created:
                return total, polls

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]

    def cpu() -> tuple[float, float, float]:
        return cpu_seconds(os.getpid()), cpu_seconds(backend), cpu_seconds(server_pid)

    before = cpu()
    (stored, polls), poll_seconds = timed(poll_until_exhausted)
    poll_cpu = [b - a for a, b in zip(before, cpu(), strict=True)]
    ingest.store_page = store_page
    source.refresh_from_db()
    assert not source.last_error, source.last_error
    assert stored == count == Post.objects.count(), (stored, count)
    assert len(stored_posts) == count, len(stored_posts)
    authors_seen = Person.objects.count()

    def empty() -> None:
        # TRUNCATE, not DELETE: the writes below start from empty tables and indexes, as
        # the poll did, not from ones full of dead rows (which slowed them and flattered
        # the ratio). The tables that refer to these are empty in this database.
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {Post._meta.db_table}, {Person._meta.db_table} CASCADE")

    def copy_all() -> int:
        return copy_posts("mastodon", source.pk, stored_posts)

    def bulk_create_all() -> int:
        people = {p.author.external_id: p.author for p in stored_posts}
        with transaction.atomic():
            made = Person.objects.bulk_create(
                [
                    Person(
                        platform="mastodon",
                        external_id=a.external_id,
                        handle=a.handle,
                        display_name=a.display_name,
                        profile_url=a.profile_url,
                    )
                    for a in people.values()
                ],
                batch_size=2000,
            )
            ids = {p.external_id: p.pk for p in made}
            Post.objects.bulk_create(
                [
                    Post(
                        platform="mastodon",
                        external_id=p.external_id,
                        author_id=ids[p.author.external_id],
                        source=source,
                        text=p.text,
                        url=p.url,
                        lang=p.lang,
                        posted_at=p.posted_at,
                        in_reply_to=p.in_reply_to,
                        raw=dict(p.raw),
                    )
                    for p in stored_posts
                ],
                batch_size=2000,
            )
        return len(stored_posts)

    empty()
    before = cpu()
    copied, copy_seconds = timed(copy_all)
    copy_cpu = [b - a for a, b in zip(before, cpu(), strict=True)]
    assert copied == Post.objects.count() == count
    empty()
    created, bulk_seconds = timed(bulk_create_all)
    assert created == Post.objects.count() == count

    s = clock.seconds
    http = s["http"]
    decode = s["fetch"] - http
    ours = s["search"] - s["fetch"]
    store = s["store"]
    rest = poll_seconds - s["search"] - store
    poll_rate, copy_rate, bulk_rate = (
        count / poll_seconds,
        count / copy_seconds,
        count / bulk_seconds,
    )
    requests_made = clock.calls["http"]

    def rate(seconds: float) -> str:
        return f"{seconds:6.2f} s {count / seconds:8,.0f} posts/s"

    def share(seconds: float) -> str:
        return f"{seconds:6.2f} s {100 * seconds / poll_seconds:5.1f} %"

    print(
        f"posts: {count}, authors: {authors_seen}, polls: {polls},"
        f" search requests: {requests_made} (40 statuses a page)"
    )
    print(f"poll path (HTTP, JSON, map, store)        {rate(poll_seconds)}")
    print(f"  HTTP round trips (requests)            {share(http)}")
    print(f"  JSON decode of the answer              {share(decode)}")
    print(f"  Mastodon.py type casting (not used)    {share(s['mastodonpy_cast'])}")
    print(f"  our adapter (map, cursor)              {share(ours)}")
    print(f"    of which mapping to PostData         {share(s['mapping'])}")
    print(f"  DB writes (ingest.store_page)          {share(store)}")
    print(f"  rest of ingest.poll                    {share(rest)}")
    print(f"COPY of the same rows                     {rate(copy_seconds)}")
    print(f"bulk_create of the same rows              {rate(bulk_seconds)}")
    print(f"ratio poll/COPY: {poll_rate / copy_rate:.3f}")
    print(
        "CPU seconds (ours + database backend + HTTP server), less sensitive to the"
        " machine's load than wall time:"
    )
    print(
        f"  poll path {sum(poll_cpu):6.2f} ({poll_cpu[0]:.2f} + {poll_cpu[1]:.2f}"
        f" + {poll_cpu[2]:.2f}), COPY {sum(copy_cpu):6.2f} ({copy_cpu[0]:.2f}"
        f" + {copy_cpu[1]:.2f}); ratio poll/COPY by CPU: {sum(copy_cpu) / sum(poll_cpu):.3f}"
    )
    print(f"ratio poll/bulk_create: {poll_rate / bulk_rate:.3f}")


if __name__ == "__main__":
    main()
