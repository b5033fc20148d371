"""Fault bench (#14): real workers and the dispatcher against a stub platform that records
every request, with the issue's faults injected. Prints figures; asserts nothing.

Run by hand: ``.venv/bin/python bench/faults.py [--broker redis://127.0.0.1:6379/0]
[--pause 20] [--tick 15]``. Needs PostgreSQL (a throwaway database, see bench/common.py)
and Redis; the default queue of the Redis database named is purged first.

Production timings unless the environment says otherwise: a 30 s outbox lease renewed
by a heartbeat, the back-off of ``NOJACKAL_BACKOFF_BASE_SECONDS`` (60 s), and a dispatch
tick every ``--tick`` seconds (15 s, beat's default; the bench sends the tick itself, as
beat would). Two Celery workers (threads, 2 each) reach Redis through a TCP proxy
(``tests/broker_proxy.py``) so the broker can be paused.

The stub (``tests/stub_platform.py``) speaks the sandbox's API to the real sandbox
adapter over HTTP and does not honour idempotency keys, so a second POST for one reply
would show as a duplicate. Eight replies, on seven accounts:

1-5. a 2xx body cut short, a timeout, a connection reset, a 500 (each after the stub
     created the reply), and a 503 before creating anything;
6.   a worker SIGKILLed while the stub holds the answer to a reply it created;
7.   another reply of that same account, due while the killed worker's row is stuck;
8.   a reply made due while the broker is silent for ``--pause`` seconds.

For each: the time from the fault (the faulted request, the kill, the row becoming due,
the pause) until the row was recorded sent: the longest a due row waited.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.common import setup_django  # noqa: E402
from tests.stub_platform import StubPlatform  # noqa: E402

SEND_FAULTS = ("truncated", "timeout", "reset", "5xx_after", "5xx_before")
ADAPTER_TIMEOUT = 5.0
GIVE_UP_SECONDS = 600


def _worker(stack: ExitStack, env: dict[str, str], name: str, log_dir: Path, threads: int) -> Any:
    from tests.processes import celery, running

    args = celery(
        "worker",
        "--pool",
        "threads",
        "-c",
        str(threads),
        "-l",
        "INFO",
        "-n",
        f"{name}@%h",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
    )
    log = log_dir / f"{name}.log"
    proc = stack.enter_context(running(args, env, log))
    deadline = time.monotonic() + 120
    while "ready" not in log.read_text(errors="replace"):
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit(f"worker {name} did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    return proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--broker", default=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--pause", type=float, default=20.0, help="seconds the broker is silent")
    parser.add_argument("--tick", type=float, default=15.0, help="seconds between dispatch ticks")
    opts = parser.parse_args()

    stub = StubPlatform(hang_seconds=ADAPTER_TIMEOUT + 2)
    upstream = urlparse(opts.broker)
    with ExitStack() as stack:
        stack.enter_context(stub.serve())
        from tests.broker_proxy import BrokerProxy

        proxy = stack.enter_context(
            BrokerProxy((upstream.hostname or "127.0.0.1", upstream.port or 6379))
        )
        broker_url = proxy.url(upstream.scheme, upstream.path)
        os.environ["CELERY_BROKER_URL"] = broker_url
        setup_django("nojackal_bench_faults")
        run(stack, stub, proxy, broker_url, opts)


def run(stack: ExitStack, stub: StubPlatform, proxy: Any, broker_url: str, opts: Any) -> None:
    from django.conf import settings
    from django.utils import timezone

    from bench.dispatch import _setup
    from config.celery import app
    from outreach.models import OutboundAction
    from tests.processes import clean_env

    app.control.purge()
    options = {"base_url": stub.url, "timeout": ADAPTER_TIMEOUT}
    ids = _setup(8, 7, stub.url, 0, platform="sandbox", options=options)
    later = timezone.now() + dt.timedelta(days=1)
    OutboundAction.objects.filter(pk__in=ids).update(not_before=later)
    rows = {pk: OutboundAction.objects.select_related("case__post").get(pk=pk) for pk in ids}
    # Rows 0-5 on accounts 0-5; row 6 shares account 5 with the killed worker's row; row 7 alone.
    labels = [*SEND_FAULTS, "killed worker", "same account as the killed one", "broker paused"]
    accounts = [rows[ids[i]].account_id for i in range(6)]
    OutboundAction.objects.filter(pk=ids[6]).update(account_id=accounts[5])
    OutboundAction.objects.filter(pk=ids[7]).update(account_id=rows[ids[6]].account_id)
    parent = {pk: rows[pk].case.post.external_id for pk in ids}
    for i, fault in enumerate(SEND_FAULTS):
        stub.faults_for[parent[ids[i]]] = [fault]
    stub.faults_for[parent[ids[5]]] = ["hold"]

    log_dir = Path(tempfile.mkdtemp(prefix="nojackal-faults-"))
    env = clean_env(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="1",
        NOJACKAL_DATA_DIR=str(log_dir),
        DATABASE_URL=os.environ["DATABASE_URL"],
        CELERY_BROKER_URL=broker_url,
        NOJACKAL_OUTBOUND_ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    started: dict[int, float] = {}  # row -> when its fault (or its wait) began
    done: dict[int, float] = {}
    tick_errors = 0

    def due(*pks: int) -> None:
        OutboundAction.objects.filter(pk__in=pks).update(not_before=timezone.now())

    # 6. A worker killed mid-send: the stub created the reply and holds the answer.
    first = _worker(stack, env, "faults-a", log_dir, threads=1)
    due(ids[5])
    app.send_task("outreach.tasks.send_action", args=[ids[5]])
    if not stub.held.wait(60):
        raise SystemExit(f"the held reply never reached the stub; see {log_dir}")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    killed_at = time.monotonic()
    stub.release.set()
    started[ids[5]] = killed_at
    # 7. Another reply of that account is due while the dead worker's row is stuck.
    due(ids[6])
    started[ids[6]] = time.monotonic()

    # 1-5. The send faults, on two fresh workers, with the ticks beat would send.
    for name in ("faults-b", "faults-c"):
        _worker(stack, env, name, log_dir, threads=2)
    due(*ids[:5])
    stop = threading.Event()

    publish_seconds: list[float] = []

    def ticks() -> None:
        nonlocal tick_errors
        while not stop.is_set():
            begun = time.monotonic()
            try:
                app.send_task("outreach.tasks.dispatch_due_actions")
            except Exception:  # a silent broker: beat would log it and tick again
                tick_errors += 1
            publish_seconds.append(time.monotonic() - begun)
            stop.wait(max(0.0, opts.tick - (time.monotonic() - begun)))

    ticker = threading.Thread(target=ticks, daemon=True)
    ticker.start()

    # 8. The broker goes silent with a reply due.
    time.sleep(3)
    proxy.silent = True
    paused_at = time.monotonic()
    due(ids[7])
    started[ids[7]] = paused_at
    resumed = False

    deadline = time.monotonic() + GIVE_UP_SECONDS
    while len(done) < len(ids) and time.monotonic() < deadline:
        if not resumed and time.monotonic() - paused_at >= opts.pause:
            proxy.silent = False
            resumed = True
        states = dict(OutboundAction.objects.filter(pk__in=ids).values_list("pk", "state"))
        for pk, state in states.items():
            if state == OutboundAction.State.SENT and pk not in done:
                done[pk] = time.monotonic()
        time.sleep(0.25)
    stop.set()
    proxy.silent = False

    for i in range(5):
        started[ids[i]] = stub.injected_at.get(parent[ids[i]], float("nan"))
    final = {pk: OutboundAction.objects.get(pk=pk) for pk in ids}
    wrong = 0
    for pk, row in final.items():
        created = stub.replies_to(parent[pk])
        if row.state != OutboundAction.State.SENT or [str(r.id) for r in created] != [
            row.external_id
        ]:
            wrong += 1

    print(
        f"settings: outbox lease {settings.NOJACKAL_OUTBOX_LEASE_SECONDS}s (heartbeat every "
        f"{settings.NOJACKAL_OUTBOX_LEASE_SECONDS / 3:.0f}s), dispatch tick {opts.tick:.0f}s, "
        f"back-off base {settings.NOJACKAL_BACKOFF_BASE_SECONDS}s, broker silent {opts.pause:.0f}s"
    )
    send_faults = [fault for fault in stub.injected if fault != "hold"]
    print(
        f"faults injected:            {len(send_faults) + 2} "
        f"({', '.join(send_faults)}, a worker SIGKILLed mid-send, the broker silent)"
    )
    print(f"requests received by stub:  {len(stub.requests)} ({stub.reply_posts()} reply POSTs)")
    print(f"replies created:            {len(stub.replies)} for {len(ids)} approved replies")
    print(f"duplicates:                 {stub.duplicates()}")
    print(f"replies recorded wrongly:   {wrong}")
    print(
        f"dispatch ticks sent: {len(publish_seconds)}, lost to the silent broker: {tick_errors}, "
        f"longest publish: {max(publish_seconds, default=0):.1f} s"
    )
    print("longest wait of a due row after each fault (fault -> recorded sent):")
    for label, pk in zip(labels, ids, strict=True):
        waited = done[pk] - started[pk] if pk in done else float("nan")
        outcome = final[pk].state
        print(f"  {label:32s} {waited:6.1f} s   ({outcome}, {final[pk].attempts} claim(s))")
    print(f"logs: {log_dir}")


if __name__ == "__main__":
    main()
