"""Broker-less Celery transport for a laptop: kombu's filesystem transport, made safe.

kombu's stock filesystem transport creates a message file and only then writes it, and the
consumer never takes the lock the producer holds. A worker polling at that moment claims an
empty or half-written file and dies ("Unrecoverable error: JSONDecodeError"), and the message
is gone (kombu issue #1551; about 1 read in 2,000 under load, see bench/broker_transport.py).
Here the producer writes a hidden temporary file in the same folder and ``os.replace``s it
into place, so a ``*.msg`` name only ever points at a complete message.
Consumers claim a message by renaming it into a claim folder of their own under the processed
folder: on one filesystem a rename succeeds for exactly one caller, so no message runs twice.
The claimed file is kept until the message is acknowledged, and renamed back into the queue
when the consumer gives it back (a reject, a warm shutdown). Each consuming process holds an
``flock`` on its claim folder's lock file for as long as it lives; when a worker is killed the
kernel drops the lock, and the next consumer to look (every ``SWEEP_SECONDS``) puts the dead
one's claimed messages back in the queue, so a task acknowledged late (a poll) runs again
within seconds of a restart rather than being lost.

The exchange tables in the control folder (used for routing and for ``celery inspect`` /
``celery control`` broadcasts) get the same treatment for the moment they are first created.
"""

from __future__ import annotations

import fcntl
import logging
import os
import tempfile
import threading
import time
import uuid
from contextlib import suppress
from pathlib import Path
from queue import Empty
from typing import Any

from celery.worker import state as worker_state
from kombu.exceptions import ChannelError
from kombu.transport import filesystem, virtual
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads
from kombu.utils.objects import cached_property

logger = logging.getLogger(__name__)

#: Suffix of a message being written. Names start with "." and never end in ".msg", so neither
#: this transport nor kombu's own ``_size``/``_purge`` ever mistake one for a message.
TEMP_SUFFIX = ".tmp"

#: A claimed file that does not decode is put back for the next poll while it is this young
#: (a producer that does not rename, such as stock kombu, may still be writing it); older
#: than this it is corrupt and moved aside so that it cannot block the queue forever.
UNREADABLE_GRACE_SECONDS = 30.0

#: How often an idle worker looks for new message files. At 0.1 s the median wait from send
#: to start was about 75 ms on an idle laptop, for ten directory listings a second per queue.
POLLING_INTERVAL_SECONDS = 0.1


#: How often a consumer looks for claim folders whose owner died, to put their messages back.
SWEEP_SECONDS = 2.0

#: Claim folders are named ``claims-<pid>-<random>`` beside a ``.lock`` file of the same name.
CLAIMS_PREFIX = "claims-"
LOCK_SUFFIX = ".lock"


def _write_atomically(folder: str | os.PathLike[str], name: str, data: bytes) -> None:
    """Write ``data`` to ``folder/name`` so that no reader ever sees a partial file."""
    fd, temp_path = tempfile.mkstemp(prefix=".", suffix=TEMP_SUFFIX, dir=folder)
    try:
        with os.fdopen(fd, "wb") as temp_file:
            temp_file.write(data)
        # Same directory, so the same filesystem: the rename is atomic on POSIX.
        os.replace(temp_path, os.path.join(folder, name))
    except BaseException:
        with suppress(OSError):
            os.unlink(temp_path)
        raise


class ClaimFolder:
    """This process's folder of claimed, not yet acknowledged messages, locked while it lives."""

    def __init__(self, processed: str) -> None:
        name = f"{CLAIMS_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.path = os.path.join(processed, name)
        os.makedirs(self.path)
        # Lock a hidden file first and only then give it its visible name: a sweeper never
        # sees an unlocked lock file of a living owner and takes its folder for abandoned.
        fd, temp_path = tempfile.mkstemp(prefix=".", suffix=TEMP_SUFFIX, dir=processed)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.replace(temp_path, self.path + LOCK_SUFFIX)
        # Kept open (never closed) for the life of the process: closing would drop the lock.
        self._lock_fd = fd


_claim_folders: dict[tuple[int, str], ClaimFolder] = {}
_claim_folders_lock = threading.Lock()


def claim_folder_for(processed: str) -> ClaimFolder:
    """The claim folder of this process under ``processed`` (a forked child gets its own)."""
    key = (os.getpid(), os.path.abspath(processed))
    with _claim_folders_lock:
        if key not in _claim_folders:
            _claim_folders[key] = ClaimFolder(processed)
        return _claim_folders[key]


def restore_abandoned(processed: str, queue_folder: str) -> int:
    """Put back in the queue the messages claimed by consumers that died; return how many."""
    restored = 0
    for name in os.listdir(processed):
        if not (name.startswith(CLAIMS_PREFIX) and name.endswith(LOCK_SUFFIX)):
            continue
        lock_path = os.path.join(processed, name)
        try:
            lock_file = open(lock_path, "rb")  # noqa: SIM115 (held across the checks below)
        except FileNotFoundError:
            continue  # another sweeper got there first
        with lock_file:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its owner is alive
            folder = lock_path.removesuffix(LOCK_SUFFIX)
            try:
                claimed = os.listdir(folder)
            except FileNotFoundError:
                claimed = []  # restored by a sweeper that held the lock before us
            for message in claimed:
                with suppress(FileNotFoundError):
                    os.rename(os.path.join(folder, message), os.path.join(queue_folder, message))
                    restored += 1
            with suppress(OSError):
                os.rmdir(folder)
            with suppress(FileNotFoundError):
                os.unlink(lock_path)
    if restored:
        logger.warning("Put back %d message(s) claimed by a consumer that died", restored)
    return restored


class AtomicFilesystemChannel(filesystem.Channel):
    """Filesystem channel whose messages appear whole and are claimed by exactly one reader."""

    # kombu's own classes disagree on the name of the second argument; this follows the parent.
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        """Put ``payload`` on ``queue`` as one complete file."""
        # kombu's scheme (time, then a unique id) with nanoseconds zero-padded: with kombu's
        # milliseconds, messages sent in the same millisecond come out in random order, and
        # names sort wrongly once the clock gains a digit.
        name = f"{time.monotonic_ns():020d}_{uuid.uuid4()}.{queue}.msg"
        try:
            _write_atomically(self.data_folder_out, name, str_to_bytes(dumps(payload)))
        except OSError as exc:
            raise ChannelError(f"Cannot add message {name!r} to {self.data_folder_out!r}") from exc

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Claimed files by delivery tag, until the message is acknowledged or given back.
        self._claimed: dict[str, str] = {}
        # Queues consumed without acknowledgements (broadcasts): nothing will ack them.
        self._no_ack_queues: set[str] = set()
        self._next_sweep = 0.0

    def basic_consume(  # type: ignore[override]
        self, queue: str, no_ack: bool, *args: Any, **kwargs: Any
    ) -> Any:
        """Consume as kombu does, remembering queues whose messages are never acknowledged."""
        if no_ack:
            self._no_ack_queues.add(queue)
        return super().basic_consume(queue, no_ack, *args, **kwargs)

    def basic_get(self, queue: str, no_ack: bool = False, **kwargs: Any) -> Any:
        """Get one message as kombu does; a message taken without acknowledgement is done."""
        message = super().basic_get(queue, no_ack, **kwargs)
        if message is not None and no_ack:
            self._forget_claim(message.delivery_tag)
        return message

    def basic_ack(self, delivery_tag: str, multiple: bool = False) -> None:
        """Acknowledge: the message is done, so its claimed file goes."""
        super().basic_ack(delivery_tag, multiple)
        self._forget_claim(delivery_tag)

    def basic_reject(self, delivery_tag: str, requeue: bool = False) -> None:
        """Reject: put back (``requeue``, via ``_restore``) or drop the claimed file."""
        super().basic_reject(delivery_tag, requeue)
        self._forget_claim(delivery_tag)

    def _restore(self, message: Any) -> None:
        """Give a delivered message back by renaming its claimed file into the queue."""
        claimed = self._claimed.pop(message.delivery_tag, None)
        if claimed is not None:
            with suppress(FileNotFoundError):
                os.rename(claimed, os.path.join(self.data_folder_in, os.path.basename(claimed)))
                return
        super()._restore(message)

    def _restore_at_beginning(self, message: Any) -> None:
        # The file keeps its name, so it goes back to its place in the order.
        self._restore(message)

    def _forget_claim(self, delivery_tag: str) -> None:
        claimed = self._claimed.pop(delivery_tag, None)
        if claimed is None:
            return
        with suppress(FileNotFoundError):
            if self.store_processed:
                # Out of the claim folder, so a sweep never puts a finished message back.
                os.rename(claimed, os.path.join(self.processed_folder, os.path.basename(claimed)))
            else:
                os.remove(claimed)

    def _get(self, queue: str, timeout: float | None = None) -> dict[str, Any]:
        """Claim and read the oldest complete message of ``queue``; keep it until acked."""
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_SECONDS
            restore_abandoned(self.processed_folder, self.data_folder_in)
        wanted = f"{queue}.msg"
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.startswith(".") or name.partition(".")[2] != wanted:
                continue
            source = os.path.join(self.data_folder_in, name)
            claimed = os.path.join(self.claim_folder, name)
            try:
                os.rename(source, claimed)
            except FileNotFoundError:
                continue  # another consumer claimed it first
            except OSError as exc:
                raise ChannelError(
                    f"Cannot claim {source!r}: the processed folder must be on the same "
                    "filesystem as the data folder"
                ) from exc
            payload = self._read_claimed(claimed, source)
            if payload is None:
                continue
            tag = payload.get("properties", {}).get("delivery_tag")
            if queue in self._no_ack_queues or tag is None:
                with suppress(FileNotFoundError):
                    os.remove(claimed)
            else:
                self._claimed[tag] = claimed
            return payload
        raise Empty()

    def _read_claimed(self, claimed: str, source: str) -> dict[str, Any] | None:
        """Return the message in ``claimed``, or None after putting it back or aside."""
        try:
            with open(claimed, "rb") as message_file:
                payload = loads(bytes_to_str(message_file.read()))
            if isinstance(payload, dict):
                return payload
            problem = f"not a message object but {type(payload).__name__}"
        # JSONDecodeError and UnicodeDecodeError are both ValueErrors.
        except (OSError, ValueError) as exc:
            problem = repr(exc)
        try:
            age = time.time() - os.path.getmtime(claimed)
        except OSError:
            return None
        if age < UNREADABLE_GRACE_SECONDS:
            # Possibly still being written by a non-atomic producer: retry on a later poll.
            logger.warning("Message %s unreadable (%s); retrying later", source, problem)
            with suppress(OSError):
                os.rename(claimed, source)
            return None
        os.makedirs(self.corrupt_folder, exist_ok=True)
        target = os.path.join(self.corrupt_folder, os.path.basename(claimed))
        logger.error("Message %s unreadable (%s); moved to %s", source, problem, target)
        with suppress(OSError):
            os.rename(claimed, target)
        return None

    def _queue_bind(self, exchange: str, routing_key: str, pattern: str, queue: str) -> None:
        """Bind as kombu does, but create a missing exchange table atomically first."""
        # kombu creates the table with open("wb") before it takes the lock, so a concurrent
        # get_table() (a publish, a broadcast) can read an empty file and raise
        # JSONDecodeError, and two first binds can overwrite each other. Creating the file
        # whole with link() (fails if it exists) leaves kombu only its locked update path.
        table = self._exchange_file(exchange)
        self.control_folder.mkdir(parents=True, exist_ok=True)
        if not table.exists():
            fd, temp_path = tempfile.mkstemp(prefix=".", suffix=TEMP_SUFFIX, dir=table.parent)
            try:
                with os.fdopen(fd, "wb") as temp_file:
                    temp_file.write(b"[]")
                with suppress(FileExistsError):
                    os.link(temp_path, table)
            finally:
                os.unlink(temp_path)
        super()._queue_bind(exchange, routing_key, pattern, queue)

    @property
    def claim_folder(self) -> str:
        """This process's folder that claimed messages are renamed into, under processed."""
        os.makedirs(self.processed_folder, exist_ok=True)
        return claim_folder_for(self.processed_folder).path

    @cached_property
    def corrupt_folder(self) -> str:
        """Folder for message files that stayed unreadable past the grace period."""
        return self.transport_options.get("corrupt_folder", "corrupt")


def _worker_stopping() -> bool:
    """Whether this process is a Celery worker that has been asked to stop."""
    return worker_state.should_stop is not None or worker_state.should_terminate is not None


_states: dict[str, virtual.BrokerState] = {}
_states_lock = threading.Lock()


class AtomicFilesystemTransport(filesystem.Transport):
    """kombu filesystem transport with atomic writes and rename-claimed reads."""

    Channel = AtomicFilesystemChannel

    def __init__(self, client: Any, **kwargs: Any) -> None:
        super().__init__(client, **kwargs)
        # kombu keeps the declared exchanges and bindings of every filesystem connection in one
        # process-wide state and skips binding what it has seen. Two data folders in one
        # process (tests, the bench) would then route to a binding that exists only in the
        # other folder's control files, so the state is kept per control folder instead.
        control = str(client.transport_options.get("control_folder", "control"))
        with _states_lock:
            self.state = _states.setdefault(os.path.abspath(control), virtual.BrokerState())

    def drain_events(self, connection: Any, timeout: float | None = None, **kwargs: Any) -> None:
        """Wait for and deliver one message, as kombu does, but stop waiting once told to."""
        # Celery's loop for pollers waits 2 s per cycle and runs one more cycle after a stop
        # request, so a warm shutdown took about 4.4 s: close to honcho's SIGKILL at 5 s.
        # Ending the wait as soon as the worker is stopping brings it to about 1 s.
        cycle = self.cycle
        assert cycle is not None  # built by kombu's Transport.__init__
        started = time.monotonic()
        interval = self.polling_interval
        if timeout and interval and interval > timeout:
            interval = timeout
        while True:
            try:
                cycle.get(self._deliver, timeout=timeout)
                return
            except Empty:
                # TimeoutError is socket.timeout, which Celery's loop expects.
                if timeout is not None and time.monotonic() - started >= timeout:
                    raise TimeoutError() from None
                if _worker_stopping():
                    raise TimeoutError() from None
                if interval is not None:
                    time.sleep(interval)


def broker_settings(data_dir: Path) -> dict[str, Any]:
    """Return Celery settings for the broker-less transport under ``data_dir``, creating it."""
    folders = {
        "queue": data_dir / "queue",
        "processed": data_dir / "processed",
        "control": data_dir / "control",
        "corrupt": data_dir / "corrupt",
    }
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    return {
        # A host name only to keep kombu from warning "No hostname was supplied" on every connect.
        "broker_url": "filesystem://localhost/",
        # Passed to kombu as Connection(transport=...), which imports "module:Class" paths.
        "broker_transport": f"{__name__}:AtomicFilesystemTransport",
        "broker_transport_options": {
            # One folder both ways: every process on this machine produces and consumes.
            "data_folder_in": str(folders["queue"]),
            "data_folder_out": str(folders["queue"]),
            # Claims are renames into this folder, so it must share the queue's filesystem.
            "processed_folder": str(folders["processed"]),
            "store_processed": False,
            "control_folder": str(folders["control"]),
            "corrupt_folder": str(folders["corrupt"]),
            "polling_interval": POLLING_INTERVAL_SECONDS,
        },
    }


#: URL schemes of the network brokers and the transport options that bound every wait on them.
_REDIS_SCHEMES = {"redis", "rediss", "sentinel", "redis+socket"}
_AMQP_SCHEMES = {"amqp", "amqps", "pyamqp"}


def network_broker_settings(
    url: str, timeout: float, publish_retries: int, *, visibility_timeout: float | None = None
) -> dict[str, Any]:
    """Return Celery settings that make a silent or refusing broker an error within seconds.

    Without them a broker that accepts connections but answers nothing blocks a publish for
    good: beat stopped ticking and the admin's "Poll now" hung for minutes (issue #14). Every
    socket operation is bounded by ``timeout``, and a failed publish is retried
    ``publish_retries`` times on a fresh connection before it raises. ``visibility_timeout``
    (Redis only) is how long an unacknowledged message waits before it is delivered again.
    """
    scheme = url.partition("://")[0].lower()
    options: dict[str, Any] = {}
    if scheme in _REDIS_SCHEMES:
        # redis-py's own names: a command (LPUSH of a publish, a PING) waits at most
        # socket_timeout for its reply; kombu keeps its BRPOP wait (1 s) below it.
        options = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
        if visibility_timeout is not None:
            # A message taken by a worker that died unacknowledged goes back to the queue
            # after this (Redis has no connection to notice the death; RabbitMQ does).
            options["visibility_timeout"] = visibility_timeout
    elif scheme in _AMQP_SCHEMES:
        # py-amqp's own names; with publisher confirms a publish returns only once the broker
        # has taken the message, so a silent broker is a read timeout, not a lost message.
        options = {"read_timeout": timeout, "write_timeout": timeout, "confirm_publish": True}
    return {
        "broker_transport_options": options,
        # Connect timeout for AMQP (redis takes socket_connect_timeout above).
        "broker_connection_timeout": timeout,
        "task_publish_retry": True,
        "task_publish_retry_policy": {
            "max_retries": publish_retries,
            "interval_start": 0,
            "interval_step": 0.5,
            "interval_max": 1,
        },
    }
