"""A TCP proxy on loopback in front of a real broker that can go silent, as a hung broker does.

Forwarding, it relays bytes both ways. Silent, it still accepts connections (and the kernel
still completes handshakes) but relays nothing either way: exactly the broker of issue #14
that "accepts connections but answers nothing". ``refused_address`` gives a port where
nothing listens, for the broker that refuses.
"""

from __future__ import annotations

import os
import select
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import TracebackType

from config.broker import network_broker_settings
from config.celery import app as nojackal_app

#: Broker timeout and publish retries the fault tests run with (short, to keep them quick).
TIMEOUT = 1.0
RETRIES = 1

_CHUNK = 65536
_POLL_SECONDS = 0.05


def refused_address() -> tuple[str, int]:
    """A loopback address where nothing listens, so every connection is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()
    # Closed on leaving: the port stays free for a while, and connecting to it is refused.


class BrokerProxy:
    """Relay 127.0.0.1:<port> to ``upstream`` until told to go silent (``silent = True``)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.silent = False
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(_POLL_SECONDS)
        self.port: int = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._closed = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def url(self, scheme: str, path: str = "") -> str:
        """The broker URL that goes through this proxy."""
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._sockets.append(client)
            thread = threading.Thread(target=self._relay, args=(client,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _relay(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        while not self._closed.is_set():
            if self.silent:
                # Read nothing and answer nothing: the client's requests sit in the buffers.
                self._closed.wait(_POLL_SECONDS)
                continue
            if upstream is None:
                try:
                    upstream = socket.create_connection(self.upstream, timeout=5)
                except OSError:
                    client.close()
                    return
                self._sockets.append(upstream)
            readable, _, _ = select.select([client, upstream], [], [], _POLL_SECONDS)
            for source in readable:
                target = upstream if source is client else client
                try:
                    data = source.recv(_CHUNK)
                    if not data:
                        raise ConnectionResetError
                    target.sendall(data)
                except OSError:
                    for end in (client, upstream):
                        with suppress(OSError):
                            end.close()
                    return

    def close(self) -> None:
        """Stop relaying and close every socket."""
        self._closed.set()
        for sock in [self._listener, *self._sockets]:
            with suppress(OSError):
                sock.close()
        for thread in self._threads:
            thread.join(timeout=2)

    def __enter__(self) -> BrokerProxy:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


@contextmanager
def nojackal_broker_at(url: str) -> Iterator[None]:
    """Point nojackal's own Celery app at ``url`` with the settings' timeouts, not eager."""
    conf = nojackal_app.conf
    names = [
        "broker_url",
        "task_always_eager",
        "broker_transport_options",
        "broker_connection_timeout",
        "task_publish_retry",
        "task_publish_retry_policy",
    ]
    saved = {name: conf[name] for name in names}

    def fresh_pools() -> None:
        # As Celery does after a fork: the next publish connects to the broker now configured.
        nojackal_app._pool = None
        nojackal_app.amqp._producer_pool = None

    # Celery reads CELERY_BROKER_URL from the environment before any app's broker_url.
    saved_env = os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = url
    conf.update(network_broker_settings(url, TIMEOUT, RETRIES), broker_url=url)
    conf.task_always_eager = False
    fresh_pools()
    try:
        yield
    finally:
        if saved_env is None:
            os.environ.pop("CELERY_BROKER_URL")
        else:
            os.environ["CELERY_BROKER_URL"] = saved_env
        conf.update(saved)
        fresh_pools()
