"""Broker-less Celery transports under load, and how fast a worker stops under honcho.

Run by hand from the repository root (about four minutes; prints two tables)::

    .venv/bin/python bench/broker_transport.py [--tasks 2000] [--rate 40] [--shutdown-runs 5]

Part 1, for kombu's stock filesystem transport and config.broker's atomic one, each with
``polling_interval`` 0.1 s: two web-like producer processes send ``--tasks`` tasks in random
bursts while a real worker (threads pool, concurrency 4, as in the Procfile) runs them and
one CPU-burning process per core keeps the machine busy. A worker that dies is restarted,
as a supervisor would, and counted. Reported: failed reads (a message file read before it was
whole), worker crashes, tasks lost or run twice, and send-to-start latency.

Part 2: a worker on the atomic transport under ``honcho start``, next to a process that stops
at once (as web and beat do). honcho sends SIGTERM to each process group and, once any process
has exited, SIGKILL to the rest after 5 s. Reported: seconds from SIGTERM to honcho exiting,
for the threads and prefork pools, and whether the worker stopped cleanly, was force-killed,
or hung (given up after 30 s).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from celery import Celery

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: make config.broker importable
    sys.path.insert(0, str(REPO))

from config.broker import broker_settings  # noqa: E402

DIR_ENV = "NOJACKAL_BENCH_DIR"
TRANSPORT_ENV = "NOJACKAL_BENCH_TRANSPORT"
TRANSPORTS = {
    "kombu stock filesystem": "kombu.transport.filesystem:Transport",
    "config.broker atomic": "config.broker:AtomicFilesystemTransport",
}
RECORD_TASK = "bench.record"
PRODUCERS = 2
WORKER_CONCURRENCY = 4
IDLE_GIVE_UP_SECONDS = 15.0
HONCHO_GIVE_UP_SECONDS = 30.0


def _record(token: str, sent_at: float) -> None:
    """Append when this task started, against when it was sent."""
    started = time.time()
    with (Path(os.environ[DIR_ENV]) / "executed.log").open("a") as executed:
        executed.write(f"{token} {sent_at!r} {started!r}\n")


def make_app(run_dir: Path, transport: str) -> Celery:
    """Return a minimal app on ``transport`` with the settings nojackal uses."""
    bench_app = Celery("bench", fixups=[], set_as_current=False)
    settings = broker_settings(run_dir / "broker")
    settings["broker_transport"] = transport
    bench_app.conf.update(
        settings, task_ignore_result=True, worker_prefetch_multiplier=1, task_serializer="json"
    )
    bench_app.task(name=RECORD_TASK)(_record)
    return bench_app


# The worker (``-A bench.broker_transport:app``) and producers import this module with these set.
app = (
    make_app(Path(os.environ[DIR_ENV]), os.environ[TRANSPORT_ENV])
    if os.environ.get(DIR_ENV)
    else None
)


def produce(name: str, count: int, rate: float) -> None:
    """Send ``count`` tasks in bursts averaging ``rate`` per second, like web requests."""
    assert app is not None
    run_dir = Path(os.environ[DIR_ENV])
    sent: list[str] = []
    errors = 0
    rng = random.Random(name)
    number = 0
    while number < count:
        burst = min(rng.choice((1, 1, 1, 2, 3, 5)), count - number)
        for _ in range(burst):
            token = f"{name}-{number}"
            try:
                app.send_task(RECORD_TASK, args=[token, time.time()])
                sent.append(token)
            except Exception as exc:  # a crashed request: count it, keep serving
                errors += 1
                print(f"producer {name}: {exc!r}", file=sys.stderr)
            number += 1
        time.sleep(rng.expovariate(rate / burst))
    (run_dir / f"sent-{name}.log").write_text("\n".join(sent) + "\n")
    (run_dir / f"errors-{name}.log").write_text(f"{errors}\n")


def burn() -> None:
    """Keep one core busy until killed."""
    while True:
        sum(range(10_000))


@dataclass
class LoadResult:
    transport: str
    sent: int
    producer_errors: int
    executed: int
    lost: int
    duplicated: int
    failed_reads: int
    worker_crashes: int
    p50_ms: float
    p95_ms: float
    seconds: float


def _python(*args: str) -> list[str]:
    return [sys.executable, *args]


def _env(run_dir: Path, transport: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    env.update({DIR_ENV: str(run_dir), TRANSPORT_ENV: transport})
    env.pop("CELERY_BROKER_URL", None)  # Celery lets it override any app's broker_url
    return env


def _start_worker(run_dir: Path, transport: str, log: Any, pool: str = "threads") -> Any:
    return subprocess.Popen(
        _python(
            "-m",
            "celery",
            "-A",
            "bench.broker_transport:app",
            "worker",
            "--pool",
            pool,
            "--concurrency",
            str(WORKER_CONCURRENCY),
            "--loglevel",
            "INFO",
        ),
        cwd=REPO,
        env=_env(run_dir, transport),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _stop(process: subprocess.Popen[Any], timeout: float = 15) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _executed_lines(run_dir: Path) -> list[str]:
    path = run_dir / "executed.log"
    return path.read_text().splitlines() if path.exists() else []


def run_load(
    label: str, transport: str, tasks: int, rate: float, burners: int, keep: bool
) -> LoadResult:
    """Run producers, a supervised worker and CPU load on ``transport``; return the figures."""
    run_dir = Path(tempfile.mkdtemp(prefix="nojackal-broker-bench-"))
    env = _env(run_dir, transport)
    log_path = run_dir / "worker.log"
    burning = [
        subprocess.Popen(_python("-c", "from bench.broker_transport import burn; burn()"), env=env)
        for _ in range(burners)
    ]
    crashes = 0
    started = time.monotonic()
    with log_path.open("ab") as log:
        worker = _start_worker(run_dir, transport, log)
        try:
            per_producer = tasks // PRODUCERS
            producers = [
                subprocess.Popen(
                    _python(
                        "-c",
                        "from bench.broker_transport import produce; "
                        f"produce('p{index}', {per_producer}, {rate / PRODUCERS})",
                    ),
                    env=env,
                )
                for index in range(PRODUCERS)
            ]
            last_count, last_change = -1, time.monotonic()
            while True:
                if worker.poll() is not None:  # crashed: restart it, as a supervisor would
                    crashes += 1
                    worker = _start_worker(run_dir, transport, log)
                count = len(_executed_lines(run_dir))
                if count != last_count:
                    last_count, last_change = count, time.monotonic()
                producers_done = all(p.poll() is not None for p in producers)
                if producers_done and count >= per_producer * PRODUCERS:
                    time.sleep(2)  # late duplicates would land now
                    break
                if producers_done and time.monotonic() - last_change > IDLE_GIVE_UP_SECONDS:
                    break
                time.sleep(0.2)
        finally:
            for burner in burning:
                burner.kill()
                burner.wait()
            _stop(worker)
    seconds = time.monotonic() - started

    sent: set[str] = set()
    producer_errors = 0
    for index in range(PRODUCERS):
        sent_log = run_dir / f"sent-p{index}.log"
        sent.update(sent_log.read_text().split() if sent_log.exists() else [])
        errors_log = run_dir / f"errors-p{index}.log"
        producer_errors += int(errors_log.read_text()) if errors_log.exists() else 0
    executions = [line.split() for line in _executed_lines(run_dir)]
    runs = Counter(token for token, _, _ in executions)
    latencies = sorted(
        (float(started_at) - float(sent_at)) * 1000 for _, sent_at, started_at in executions
    )
    worker_log = log_path.read_text(errors="replace")
    # One per event: the stock transport's traceback ends in this line; the atomic one logs
    # "unreadable (...); retrying later" and puts the file back.
    failed_reads = worker_log.count("\njson.decoder.JSONDecodeError") + worker_log.count(
        "unreadable ("
    )
    if keep:
        print(f"  (kept {run_dir})")
    else:
        shutil.rmtree(run_dir, ignore_errors=True)
    return LoadResult(
        transport=label,
        sent=len(sent),
        producer_errors=producer_errors,
        executed=len(runs),
        lost=len(sent - set(runs)),
        duplicated=sum(seen - 1 for seen in runs.values()),
        failed_reads=failed_reads,
        worker_crashes=crashes,
        p50_ms=statistics.median(latencies) if latencies else float("nan"),
        p95_ms=latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan"),
        seconds=seconds,
    )


def time_honcho_stop(pool: str) -> tuple[float, str]:
    """Start a worker under honcho, SIGTERM honcho once ready; return (seconds, how it ended)."""
    run_dir = Path(tempfile.mkdtemp(prefix="nojackal-honcho-bench-"))
    transport = TRANSPORTS["config.broker atomic"]
    procfile = run_dir / "Procfile"
    # A companion that stops at once stands in for web and beat: honcho only starts its
    # 5 s SIGKILL countdown once some process has exited.
    procfile.write_text(
        f"worker: {sys.executable} -m celery -A bench.broker_transport:app worker "
        f"--pool {pool} --concurrency {WORKER_CONCURRENCY} --loglevel INFO\n"
        f"companion: {sys.executable} -c 'import time; time.sleep(3600)'\n"
    )
    log_path = run_dir / "honcho.log"
    honcho = str(Path(sys.executable).with_name("honcho"))
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [honcho, "-f", str(procfile), "-d", str(REPO), "start"],
            cwd=REPO,
            env=_env(run_dir, transport),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while " ready." not in log_path.read_text(errors="replace"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker never got ready:\n{log_path.read_text()}")
            time.sleep(0.1)
        time.sleep(1)  # let the pool settle, as after a Ctrl-C on a running app
        stop_sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=HONCHO_GIVE_UP_SECONDS)
            seconds = time.monotonic() - stop_sent
            ended = "SIGKILL" if "sending SIGKILL" in log_path.read_text() else "clean"
        except subprocess.TimeoutExpired:
            seconds, ended = HONCHO_GIVE_UP_SECONDS, "hung"
            # honcho puts each process in a session of its own: end those groups ourselves.
            for pid in re.findall(r"started \(pid=(\d+)\)", log_path.read_text()):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(int(pid), signal.SIGKILL)
            process.kill()
            process.wait()
    shutil.rmtree(run_dir, ignore_errors=True)
    return seconds, ended


def main() -> None:
    """Run both parts and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=40.0, help="tasks per second, all producers")
    parser.add_argument("--shutdown-runs", type=int, default=5)
    parser.add_argument("--burners", type=int, default=os.cpu_count() or 1, help="CPU burners")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep each run's folder and logs")
    args = parser.parse_args()

    if not args.skip_load:
        print(
            f"Load: {args.tasks} tasks from {PRODUCERS} producers at ~{args.rate:g}/s, worker "
            f"threads x{WORKER_CONCURRENCY}, {args.burners} CPU burners on {os.cpu_count()} cores, "
            "polling 0.1 s"
        )
        header = (
            f"{'transport':<24} {'sent':>5} {'prod.err':>8} {'ran':>5} {'lost':>5} {'dup':>4} "
            f"{'bad reads':>9} {'crashes':>7} {'p50 ms':>7} {'p95 ms':>7} {'secs':>5}"
        )
        print(header)
        print("-" * len(header))
        for label, transport in TRANSPORTS.items():
            r = run_load(label, transport, args.tasks, args.rate, args.burners, args.keep)
            print(
                f"{r.transport:<24} {r.sent:>5} {r.producer_errors:>8} {r.executed:>5} "
                f"{r.lost:>5} {r.duplicated:>4} {r.failed_reads:>9} {r.worker_crashes:>7} "
                f"{r.p50_ms:>7.0f} {r.p95_ms:>7.0f} {r.seconds:>5.0f}",
                flush=True,
            )

    if args.shutdown_runs:
        print(f"\nStop under honcho (SIGTERM, SIGKILL after 5 s), {args.shutdown_runs} runs each")
        print(f"{'pool':<8} {'seconds to stop, each run':<32} how it ended")
        for pool in ("threads", "prefork"):
            runs = [time_honcho_stop(pool) for _ in range(args.shutdown_runs)]
            times = " ".join(f"{seconds:.1f}" for seconds, _ in runs)
            ends = Counter(ended for _, ended in runs)
            print(f"{pool:<8} {times:<32} {', '.join(f'{n} {e}' for e, n in ends.items())}")


if __name__ == "__main__":
    main()
