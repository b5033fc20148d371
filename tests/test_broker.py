"""The broker-less transport (config/broker.py): whole messages, each delivered exactly once.

The worker test starts a real ``celery worker`` process on a minimal app defined here (it
imports this module with ``-A tests.test_broker:app``); the data folder reaches it through
``NOJACKAL_BROKER_TEST_DIR``. No Django: the transport is plain kombu.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from queue import Empty

import pytest
from celery import Celery
from celery.worker import state as worker_state
from kombu import Connection, Exchange, Queue
from kombu.simple import SimpleQueue

from config.broker import (
    SWEEP_SECONDS,
    TEMP_SUFFIX,
    UNREADABLE_GRACE_SECONDS,
    broker_settings,
    restore_abandoned,
)

REPO = Path(__file__).resolve().parent.parent
DIR_ENV = "NOJACKAL_BROKER_TEST_DIR"
RECORD_TASK = "broker_test.record"
WORKER_DEADLINE_SECONDS = 20.0


def _executions_file(run_dir: Path) -> Path:
    return run_dir / "executed.log"


def _record(token: str) -> None:
    """Append ``token`` to the executions file: one line per run of the task."""
    # One short write to an O_APPEND file is atomic, so concurrent threads never interleave.
    with _executions_file(Path(os.environ[DIR_ENV])).open("a") as executions:
        executions.write(token + "\n")


def make_app(run_dir: Path) -> Celery:
    """Return a minimal Celery app on the broker-less transport under ``run_dir``."""
    # fixups=[]: no Django fixup, this app needs no settings or database.
    test_app = Celery("broker_test", fixups=[], set_as_current=False)
    test_app.conf.update(
        broker_settings(run_dir / "broker"),
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
    )
    test_app.task(name=RECORD_TASK)(_record)
    return test_app


# The worker and the second producer import this module with the run directory set.
app = make_app(Path(os.environ[DIR_ENV])) if os.environ.get(DIR_ENV) else None


def send_batch(prefix: str, count: int) -> None:
    """Queue ``count`` record tasks tagged ``prefix`` (run by the second producer process)."""
    assert app is not None, f"{DIR_ENV} must be set"
    # Tell the test this process is up, so that both producers really send at the same time.
    (Path(os.environ[DIR_ENV]) / f"{prefix}.ready").touch()
    for number in range(count):
        app.send_task(RECORD_TASK, args=[f"{prefix}-{number}"])


def claim_one_and_die() -> None:
    """Claim one message without acknowledging it, then die as SIGKILL kills a worker."""
    run_dir = Path(os.environ[DIR_ENV])
    with _connection(run_dir) as connection:
        message = connection.SimpleQueue("jobs").get(timeout=WORKER_DEADLINE_SECONDS)
        (run_dir / "claimed").write_text(json.dumps(message.payload))
        os.kill(os.getpid(), signal.SIGKILL)


def _subprocess_env(run_dir: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    env[DIR_ENV] = str(run_dir)
    # Celery lets this variable override any app's broker_url (tests/settings.py sets it).
    env.pop("CELERY_BROKER_URL", None)
    return env


class Worker:
    """A real ``celery worker`` process (threads pool, concurrency 2) logging to a file."""

    def __init__(self, run_dir: Path) -> None:
        self.log_path = run_dir / "worker.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tests.test_broker:app",
                "worker",
                "--pool",
                "threads",
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
                "--hostname",
                f"broker-test-{os.getpid()}@%h",
            ],
            cwd=REPO,
            env=_subprocess_env(run_dir),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> int:
        """Stop with SIGTERM (a warm shutdown) and return the exit code; kill if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[Worker]:
    running = Worker(tmp_path)
    try:
        yield running
    finally:
        running.stop()  # also when the test failed: never leave a worker behind


def _read_executions(run_dir: Path) -> list[str]:
    path = _executions_file(run_dir)
    return path.read_text().splitlines() if path.exists() else []


def _wait_until(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` until it holds or the deadline passes (the asserts then tell)."""
    deadline = time.monotonic() + WORKER_DEADLINE_SECONDS
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.worker
def test_real_worker_runs_every_task_from_two_producers_exactly_once(
    tmp_path: Path, worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a worker and two producers (this process and another one) sending at once
    monkeypatch.setenv(DIR_ENV, str(tmp_path))
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    producer = make_app(tmp_path)
    other = subprocess.Popen(
        [sys.executable, "-c", "from tests.test_broker import send_batch; send_batch('b', 100)"],
        cwd=REPO,
        env=_subprocess_env(tmp_path),
    )
    try:
        _wait_until((tmp_path / "b.ready").exists)
        for number in range(200):
            producer.send_task(RECORD_TASK, args=[f"a-{number}"])
    finally:
        try:
            other.wait(timeout=WORKER_DEADLINE_SECONDS)
        except subprocess.TimeoutExpired:
            other.kill()
            other.wait()
    assert other.returncode == 0

    # When the worker has drained the queue
    _wait_until(lambda: len(_read_executions(tmp_path)) >= 300)
    time.sleep(1)  # a duplicate delivery would show up late: give it a chance to
    lines = _read_executions(tmp_path)
    exit_code = worker.stop()

    # Then every task ran exactly once and the worker neither crashed nor logged an error
    expected = {f"a-{number}" for number in range(200)} | {f"b-{number}" for number in range(100)}
    counts = Counter(lines)
    assert set(counts) == expected, f"missing: {sorted(expected - set(counts))[:10]}"
    assert [token for token, seen in counts.items() if seen > 1] == []
    log = worker.log()
    for sign_of_trouble in ("Traceback", "JSONDecodeError", "ERROR", "CRITICAL"):
        assert sign_of_trouble not in log, log[-3000:]
    assert exit_code == 0, log[-3000:]


def _connection(data_dir: Path) -> Connection:
    settings = broker_settings(data_dir)
    return Connection(
        settings["broker_url"],
        transport=settings["broker_transport"],
        transport_options=settings["broker_transport_options"],
    )


def _queue_folder(data_dir: Path) -> Path:
    return Path(broker_settings(data_dir)["broker_transport_options"]["data_folder_in"])


def _message_files(data_dir: Path) -> list[Path]:
    return sorted(_queue_folder(data_dir).glob("*.msg"))


def _get_or_none(queue: SimpleQueue) -> object:
    try:
        message = queue.get(block=False)
    except Empty:
        return None
    message.ack()
    return message.payload


def test_messages_come_out_in_the_order_they_were_put(tmp_path: Path) -> None:
    # Given fifty messages put as fast as possible (many within the same millisecond)
    with _connection(tmp_path) as connection:
        queue = connection.SimpleQueue("jobs")
        for number in range(50):
            queue.put({"n": number})

        # When a consumer takes them all
        taken = [_get_or_none(queue) for _ in range(51)]

    # Then they arrive first in, first out, and then the queue is empty
    assert taken == [{"n": number} for number in range(50)] + [None]


def test_temp_file_of_a_crashed_producer_is_never_consumed(tmp_path: Path) -> None:
    # Given a producer that died halfway through writing, leaving its temporary file
    with _connection(tmp_path) as connection:
        queue = connection.SimpleQueue("jobs")
        queue.put({"n": 1})
        (whole,) = _message_files(tmp_path)
        content = whole.read_bytes()
        whole.unlink()
        fd, leftover = tempfile.mkstemp(prefix=".", suffix=TEMP_SUFFIX, dir=_queue_folder(tmp_path))
        os.write(fd, content[: len(content) // 2])
        os.close(fd)

        # When a consumer polls, and a whole message arrives afterwards
        first = _get_or_none(queue)
        queue.put({"n": 2})
        second = _get_or_none(queue)
        third = _get_or_none(queue)

        # Then the temporary file was neither read nor counted, and was left where it was
        assert first is None
        assert second == {"n": 2}
        assert third is None
        assert Path(leftover).read_bytes() == content[: len(content) // 2]
        assert queue.qsize() == 0


def test_put_leaves_no_temporary_file_and_only_whole_json_messages(tmp_path: Path) -> None:
    # Given a connection on a fresh data folder
    with _connection(tmp_path) as connection:
        queue = connection.SimpleQueue("jobs")

        # When a few messages, one of them large, are put
        for payload in ({"n": 1}, {"text": "é" * 200_000}, {"n": 3}):
            queue.put(payload)

        # Then each is one parseable file and nothing temporary is left behind
        files = list(_queue_folder(tmp_path).iterdir())
        assert len(files) == 3
        assert all(path.suffix == ".msg" for path in files)
        for path in files:
            assert isinstance(json.loads(path.read_bytes()), dict)


def test_message_still_being_written_is_retried_not_lost_or_crashed_on(tmp_path: Path) -> None:
    # Given a message file that exists but is still empty, as kombu's own producer leaves it
    # between creating and writing it
    with _connection(tmp_path) as connection:
        queue = connection.SimpleQueue("jobs")
        queue.put({"n": 1})
        (message_file,) = _message_files(tmp_path)
        content = message_file.read_bytes()
        message_file.write_bytes(b"")

        # When a consumer polls before and after the producer finishes writing
        before = _get_or_none(queue)
        still_queued = _message_files(tmp_path)
        message_file.write_bytes(content)
        after = _get_or_none(queue)

        # Then the first poll skipped it without losing it and the second delivered it
        assert before is None
        assert still_queued == [message_file]
        assert after == {"n": 1}
        assert _message_files(tmp_path) == []


@pytest.mark.parametrize("garbage", [b"", b"{", b"not json", b"\xff\xfe\x00", b"[1, 2]", b"null"])
def test_old_unreadable_file_is_moved_aside_and_the_queue_keeps_flowing(
    tmp_path: Path, garbage: bytes
) -> None:
    # Given an unreadable message file older than the grace period, ahead of a good message
    with _connection(tmp_path) as connection:
        queue = connection.SimpleQueue("jobs")
        queue.put({"n": 1})
        (bad,) = _message_files(tmp_path)
        bad.write_bytes(garbage)
        old = time.time() - UNREADABLE_GRACE_SECONDS - 60
        os.utime(bad, (old, old))
        queue.put({"n": 2})

        # When a consumer polls until the queue looks empty
        delivered = _get_or_none(queue)
        after = _get_or_none(queue)

        # Then the good message arrives and the bad file is kept in the corrupt folder
        assert delivered == {"n": 2}
        assert after is None
        assert _message_files(tmp_path) == []
        corrupt = Path(broker_settings(tmp_path)["broker_transport_options"]["corrupt_folder"])
        assert (corrupt / bad.name).read_bytes() == garbage


def test_two_consumers_racing_each_get_a_message_once(tmp_path: Path) -> None:
    # Given 300 queued messages and two consumers on separate connections
    with _connection(tmp_path) as connection:
        producer_queue = connection.SimpleQueue("jobs")
        for number in range(300):
            producer_queue.put({"n": number})
    received: list[list[int]] = [[], []]

    def consume(into: list[int]) -> None:
        with _connection(tmp_path) as connection:
            queue = connection.SimpleQueue("jobs")
            while (payload := _get_or_none(queue)) is not None:
                assert isinstance(payload, dict)
                into.append(payload["n"])

    # When both drain the queue at once
    threads = [threading.Thread(target=consume, args=(into,)) for into in received]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WORKER_DEADLINE_SECONDS)

    # Then every message was delivered exactly once in total
    assert sorted(received[0] + received[1]) == list(range(300))


def test_first_binds_from_many_connections_are_all_kept(tmp_path: Path) -> None:
    # Given a fresh control folder and eight connections binding their own queue at once
    def bind(number: int) -> None:
        with _connection(tmp_path) as connection:
            Queue(f"q{number}", Exchange("fan", type="fanout"))(
                connection.default_channel
            ).declare()

    threads = [threading.Thread(target=bind, args=(number,)) for number in range(8)]

    # When they all declare and bind
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WORKER_DEADLINE_SECONDS)

    # Then the exchange table is whole and lists every queue
    control = Path(broker_settings(tmp_path)["broker_transport_options"]["control_folder"])
    table = json.loads((control / "fan.exchange").read_text())
    assert sorted(queue for _, _, queue in table) == [f"q{number}" for number in range(8)]


def test_waiting_for_messages_ends_once_the_worker_is_told_to_stop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a consumer waiting without a time limit on an empty queue
    outcome: list[BaseException | None] = []

    def wait_for_a_message() -> None:
        with _connection(tmp_path) as connection:
            queue = connection.SimpleQueue("jobs")
            queue.consumer.consume()
            try:
                connection.drain_events(timeout=None)
                outcome.append(None)
            except BaseException as exc:
                outcome.append(exc)

    # When the worker it belongs to is asked to stop (what Celery's SIGTERM handler sets)
    monkeypatch.setattr(worker_state, "should_stop", 0)
    waiter = threading.Thread(target=wait_for_a_message, daemon=True)
    waiter.start()
    waiter.join(timeout=WORKER_DEADLINE_SECONDS)

    # Then the wait ends with the timeout Celery's loop expects instead of blocking for good
    assert not waiter.is_alive()
    assert len(outcome) == 1
    assert isinstance(outcome[0], TimeoutError)


def _processed_folder(data_dir: Path) -> Path:
    return Path(broker_settings(data_dir)["broker_transport_options"]["processed_folder"])


def _claimed_files(data_dir: Path) -> list[Path]:
    return sorted(_processed_folder(data_dir).glob("claims-*/*.msg"))


def test_a_claimed_message_is_kept_until_it_is_acknowledged(tmp_path: Path) -> None:
    # Given a message taken by a consumer that has not acknowledged it yet
    with _connection(tmp_path) as connection:
        queue = connection.SimpleQueue("jobs")
        queue.put({"n": 1})
        message = queue.get(block=False)

        # Then it is out of the queue but kept in the consumer's claim folder
        assert _message_files(tmp_path) == []
        assert len(_claimed_files(tmp_path)) == 1

        # When it is acknowledged, Then it is gone for good
        message.ack()
        assert _claimed_files(tmp_path) == []
        assert _message_files(tmp_path) == []


def test_a_message_given_back_returns_to_its_place_in_the_queue(tmp_path: Path) -> None:
    # Given two messages, the first taken and then rejected with requeue
    with _connection(tmp_path) as connection:
        queue = connection.SimpleQueue("jobs")
        queue.put({"n": 1})
        queue.put({"n": 2})
        first = queue.get(block=False)
        first.requeue()

        # Then it is back in the queue, first again, and nothing is left claimed
        assert _claimed_files(tmp_path) == []
        assert [_get_or_none(queue) for _ in range(3)] == [{"n": 1}, {"n": 2}, None]


def test_unacknowledged_messages_return_to_the_queue_when_the_consumer_closes(
    tmp_path: Path,
) -> None:
    # Given a consumer that took a message and closed without acknowledging it (warm shutdown)
    with _connection(tmp_path) as connection:
        queue = connection.SimpleQueue("jobs")
        queue.put({"n": 1})
        queue.get(block=False)
    # Then the message is back in the queue for the next consumer
    assert _claimed_files(tmp_path) == []
    with _connection(tmp_path) as connection:
        assert _get_or_none(connection.SimpleQueue("jobs")) == {"n": 1}


def test_a_living_consumers_claims_are_not_taken_from_it(tmp_path: Path) -> None:
    # Given a consumer (alive, this process) holding a claimed, unacknowledged message
    with _connection(tmp_path) as connection:
        queue = connection.SimpleQueue("jobs")
        queue.put({"n": 1})
        held = queue.get(block=False)

        # When another consumer sweeps for abandoned claims and polls
        restored = restore_abandoned(str(_processed_folder(tmp_path)), str(_queue_folder(tmp_path)))
        with _connection(tmp_path) as other:
            stolen = _get_or_none(other.SimpleQueue("jobs"))

        # Then the message stays with its consumer
        assert restored == 0
        assert stolen is None
        held.ack()


def test_a_message_claimed_by_a_killed_consumer_is_delivered_again_within_seconds(
    tmp_path: Path,
) -> None:
    # Given a consumer process that claims a message and is killed before acknowledging it
    with _connection(tmp_path) as connection:
        connection.SimpleQueue("jobs").put({"n": 1})
    dying = subprocess.run(
        [sys.executable, "-c", "from tests.test_broker import claim_one_and_die as c; c()"],
        cwd=REPO,
        env=_subprocess_env(tmp_path),
        timeout=WORKER_DEADLINE_SECONDS * 2,
    )
    assert dying.returncode == -signal.SIGKILL
    assert json.loads((tmp_path / "claimed").read_text()) == {"n": 1}
    assert _message_files(tmp_path) == []

    # When another consumer polls
    started = time.monotonic()
    with _connection(tmp_path) as connection:
        message = connection.SimpleQueue("jobs").get(timeout=WORKER_DEADLINE_SECONDS)
        message.ack()
    took = time.monotonic() - started

    # Then it gets the message back at once (no 300 s claim to wait out), and the dead
    # consumer's claim folder is gone
    assert message.payload == {"n": 1}
    assert took < SWEEP_SECONDS + 2
    others = _processed_folder(tmp_path).glob("claims-*")
    assert [path for path in others if not path.name.startswith(f"claims-{os.getpid()}-")] == []
