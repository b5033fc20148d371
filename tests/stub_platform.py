"""A stub platform on loopback that records every request and fails on cue.

It speaks the sandbox's JSON API (``monitoring/sandbox_server.py``: replies,
``find_reply``'s listing, follows, limits), so the real sandbox adapter talks to
it over real HTTP, through ``HttpPlatform._request``. Unlike the sandbox it does
NOT honour ``Idempotency-Key``: a second POST for one reply shows up as a second
reply, so the duplicate count measures nojackal, not the platform's kindness.

Faults are queued per reply POST (``faults_for[parent]`` for the replies to one post,
else ``faults``; popped in order):

- ``truncated``: create the reply, answer 201 with the body cut in half;
- ``timeout``: create the reply, answer nothing until the client gave up;
- ``reset``: create the reply, then reset the connection;
- ``5xx_after``: create the reply, then answer 500;
- ``5xx_before``: answer 503 without creating anything;
- ``hold``: create the reply, set ``held``, and answer nothing until ``release``
  is set (the test kills the worker meanwhile).

Used by ``tests/e2e/test_fault_recovery.py`` and ``bench/faults.py``.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

FAULTS = ("truncated", "timeout", "reset", "5xx_after", "5xx_before", "hold")


@dataclass
class Reply:
    id: int
    parent: str
    text: str
    key: str
    at: float


@dataclass
class StubPlatform:
    """In-memory state of the stub; ``serve()`` runs it on a loopback port."""

    hang_seconds: float = 3.0  # how long "timeout" keeps the client waiting
    faults: list[str] = field(default_factory=list)
    faults_for: dict[str, list[str]] = field(default_factory=dict)
    injected_at: dict[str, float] = field(default_factory=dict)  # parent -> when its fault hit
    requests: list[tuple[float, str, str]] = field(default_factory=list)  # (time, method, path)
    replies: list[Reply] = field(default_factory=list)
    follows: list[str] = field(default_factory=list)
    injected: list[str] = field(default_factory=list)
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def reply_posts(self) -> int:
        """How many reply POSTs reached the stub (each may or may not have created a reply)."""
        return sum(
            1 for _, method, path in self.requests if method == "POST" and "/replies" in path
        )

    def duplicates(self) -> int:
        """Replies beyond the first under one parent with one idempotency key."""
        seen: dict[tuple[str, str], int] = {}
        for reply in self.replies:
            seen[(reply.parent, reply.key)] = seen.get((reply.parent, reply.key), 0) + 1
        return sum(n - 1 for n in seen.values())

    def replies_to(self, parent: str) -> list[Reply]:
        return [r for r in self.replies if r.parent == parent]

    def _create(self, parent: str, text: str, key: str) -> Reply:
        with self.lock:
            reply = Reply(
                id=9_000_000 + len(self.replies) + 1,
                parent=parent,
                text=text,
                key=key,
                at=time.monotonic(),
            )
            self.replies.append(reply)
        return reply

    def _next_fault(self, parent: str) -> str | None:
        with self.lock:
            queue = self.faults_for.get(parent) or self.faults
            fault = queue.pop(0) if queue else None
            if fault:
                self.injected.append(fault)
                self.injected_at.setdefault(parent, time.monotonic())
        return fault

    @contextlib.contextmanager
    def serve(self) -> Iterator[StubPlatform]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, doc: Any, *, cut: bool = False) -> None:
                data = json.dumps(doc).encode()
                if cut:
                    data = data[: len(data) // 2]
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _record(self) -> tuple[str, dict[str, list[str]]]:
                url = urlparse(self.path)
                with stub.lock:
                    stub.requests.append((time.monotonic(), self.command, url.path))
                return url.path, parse_qs(url.query)

            def _body(self) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    doc = json.loads(raw or b"{}")
                except ValueError:
                    return {}
                return doc if isinstance(doc, dict) else {}

            def do_GET(self) -> None:
                path, query = self._record()
                parts = [p for p in path.split("/") if p]
                if parts == ["limits"]:
                    self._send(200, {"reply_max_length": 500, "notes": "stub"})
                elif len(parts) == 3 and parts[0] == "posts" and parts[2] == "replies":
                    exclude = set((query.get("exclude") or [""])[0].split(","))
                    items = [
                        {"id": str(r.id), "url": f"{stub.url}/@us/{r.id}"}
                        for r in stub.replies_to(parts[1])
                        if str(r.id) not in exclude
                    ]
                    self._send(200, {"items": items})
                else:
                    self._send(404, {"error": "no such thing"})

            def do_POST(self) -> None:
                path, _ = self._record()
                body = self._body()
                parts = [p for p in path.split("/") if p]
                if parts == ["follows"]:
                    stub.follows.append(str(body.get("person_id")))
                    self._send(200, {"id": str(body.get("person_id"))})
                    return
                if not (len(parts) == 3 and parts[0] == "posts" and parts[2] == "replies"):
                    self._send(404, {"error": "no such thing"})
                    return
                fault = stub._next_fault(parts[1])
                if fault == "5xx_before":
                    self._send(503, {"error": "service unavailable"})
                    return
                reply = stub._create(
                    parts[1], str(body.get("text")), self.headers.get("Idempotency-Key", "")
                )
                doc = {"id": str(reply.id), "url": f"{stub.url}/@us/{reply.id}"}
                if fault is None:
                    self._send(201, doc)
                elif fault == "truncated":
                    self._send(201, doc, cut=True)
                elif fault == "5xx_after":
                    self._send(500, {"error": "internal error"})
                elif fault == "timeout":
                    time.sleep(stub.hang_seconds)
                    self.close_connection = True
                elif fault == "reset":
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.close_connection = True
                elif fault == "hold":
                    stub.held.set()
                    stub.release.wait(60)
                    self.close_connection = True

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.release.set()
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
