"""The ways a write can end without a readable answer, for the adapters' tests.

``answer(fault, payload)`` is a pytest-httpserver handler that answers a request
with a recorded payload cut short, a 500, or too late; ``raw_server(mode)`` is a
socket server for what an HTTP server library will not do: reset the connection
after reading the request, or close it half way through a body it announced.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from typing import Any

from werkzeug import Request, Response

# The adapters' timeout in these tests; a late answer comes well after it.
TIMEOUT = 0.5
# Faults after the platform may have acted on a write: each must be an UnknownOutcome.
AFTER_POSTING = ("cut_short", "server_error", "too_late")


def cut(payload: Any) -> bytes:
    """The recorded payload's JSON, cut in half (a body that ends mid-object)."""
    data = json.dumps(payload).encode()
    return data[: len(data) // 2]


class answer:
    """A handler that answers with ``payload`` spoiled by ``fault`` (one of AFTER_POSTING).

    The test server answers one request at a time: a test that sent a late answer
    calls ``settle()`` so the next test does not find the server still asleep.
    """

    def __init__(self, fault: str, payload: Any, *, status: int = 200) -> None:
        if fault not in AFTER_POSTING:
            raise AssertionError(f"unknown fault {fault!r}")
        self.fault, self.payload, self.status = fault, payload, status
        self.done = threading.Event()

    def __call__(self, request: Request) -> Response:
        try:
            if self.fault == "cut_short":
                return Response(cut(self.payload), status=self.status, content_type=JSON)
            if self.fault == "server_error":
                return Response('{"error": "internal"}', status=500, content_type=JSON)
            time.sleep(TIMEOUT * 3)
            return Response(json.dumps(self.payload), status=self.status, content_type=JSON)
        finally:
            self.done.set()

    def settle(self) -> None:
        """Wait until the server has answered (a late answer comes after the client gave up)."""
        self.done.wait(TIMEOUT * 10)


JSON = "application/json"


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head + b"\r\n\r\n" + rest


@contextlib.contextmanager
def raw_server(mode: str) -> Iterator[tuple[str, list[bytes]]]:
    """A loopback server that reads each request whole, then ``reset``s the connection or
    sends a 200 whose body is ``cut_on_the_wire``; yields its URL and the requests read."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    received: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                received.append(_read_request(conn))
                if mode == "reset":
                    # SO_LINGER 0: close sends RST, as a crashed proxy or a dropped NAT does.
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                elif mode == "cut_on_the_wire":
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Content-Length: 400\r\nConnection: close\r\n\r\n"
                        b'{"id": "1", "url": "http://127.0.0.1/'
                    )
                else:
                    raise AssertionError(f"unknown mode {mode!r}")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", received
    finally:
        stop.set()
        listener.close()
        thread.join(timeout=2)


def closed_port() -> str:
    """A loopback URL nothing listens on: connecting is refused, nothing is sent."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
