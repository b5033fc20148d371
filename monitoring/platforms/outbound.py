"""The outbound-URL policy: where the adapters may send a request, and how much they read back.

Every URL an adapter fetches comes from a source's or account's options or from
a platform's answer (a redirect), so any of them may point inside our own
network. Before each request, and again on every redirect hop, the URL must be
http(s) and every address its host resolves to must be on the public internet
(not loopback, private, link-local, multicast, reserved or unspecified). Hosts
listed in ``NOJACKAL_OUTBOUND_ALLOWED_HOSTS`` (names, addresses or networks)
are exempt, for people who run an instance on their own network; the list is
empty by default. Answers are capped in size and in total read time.

The refusal never says whether anything listens at the address: the request is
refused before a connection is tried, with the same message for every forbidden
address. The policy is one requests transport (``PolicyAdapter``, used by our
own ``_request``, Mastodon.py and tweepy) and one httpx transport
(``PolicyTransport``, for the atproto SDK).

A name is looked up once per connection, and the connection goes to an address that
lookup checked (``checked_addresses``), under the name (Host header, TLS server name and
certificate): a name whose owner answers a public address to the check and an internal
one a moment later (DNS rebinding) reaches nothing. The check before each request stays,
for its plain refusals (scheme, host) before any connection is made.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .errors import PermanentError

_SCHEMES = ("http", "https")
_CHUNK = 64 * 1024
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class OutboundRefused(PermanentError):
    """A request the outbound policy will not send, or an answer it will not read."""


class Unresolvable(OutboundRefused):
    """A host name with no address: refused for a request, tolerated when a form is saved."""


def max_redirects() -> int:
    """Redirects followed per request (``NOJACKAL_OUTBOUND_MAX_REDIRECTS``)."""
    return int(settings.NOJACKAL_OUTBOUND_MAX_REDIRECTS)


def max_bytes() -> int:
    """The largest answer read (``NOJACKAL_OUTBOUND_MAX_BYTES``)."""
    return int(settings.NOJACKAL_OUTBOUND_MAX_BYTES)


def max_seconds() -> float:
    """Total seconds an answer's body may take to arrive (``NOJACKAL_OUTBOUND_MAX_SECONDS``)."""
    return float(settings.NOJACKAL_OUTBOUND_MAX_SECONDS)


def forbidden_address(address: Address) -> bool:
    """True for an address outside the public internet (loopback, private, link-local...)."""
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        return forbidden_address(mapped)
    return (
        not address.is_global
        or address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _allowed(host: str, addresses: Iterable[Address] = ()) -> bool:
    """The host, or every one of its addresses, is on the operator's allow-list."""
    names: set[str] = set()
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for entry in settings.NOJACKAL_OUTBOUND_ALLOWED_HOSTS:
        entry = str(entry).strip().lower().strip("[]")
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry.rstrip("."))
    if host.rstrip(".") in names:
        return True
    addresses = list(addresses)
    return (
        bool(addresses)
        and bool(networks)
        and all(any(address in network for network in networks) for address in addresses)
    )


def _resolve(host: str, port: int) -> list[Address]:
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Unresolvable(f"{host} does not resolve") from exc
    # Drop an IPv6 scope ("fe80::1%eth0") before parsing; it is link-local either way.
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def check_url(url: str) -> None:
    """OutboundRefused unless ``url`` is http(s) to a public address (or an allowed host)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise OutboundRefused(f"{scheme or 'a URL without a scheme'}: only http(s) is fetched")
    try:
        host = (parts.hostname or "").lower()
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise OutboundRefused("the URL's host or port is malformed") from exc
    if not host:
        raise OutboundRefused("the URL has no host")
    checked_addresses(host, port)


def checked_addresses(host: str, port: int) -> list[Address] | None:
    """The addresses a connection to ``host`` may go to, from one lookup: all public, or all
    on the allow-list; None for a host the allow-list names (it is reached by name).
    OutboundRefused (Unresolvable for a name without an address) otherwise."""
    host = host.lower().strip("[]")
    if _allowed(host):
        return None
    addresses = _resolve(host, port)
    if not addresses:
        raise Unresolvable(f"{host} does not resolve")
    if _allowed(host, addresses):
        return addresses
    if any(forbidden_address(address) for address in addresses):
        # One message for every forbidden address: nothing here says what listens there.
        raise OutboundRefused(f"{host} is not on the public internet; requests there are refused")
    return addresses


def url_problem(url: str) -> str:
    """Why the policy refuses ``url``, or "" when it may be fetched (for form validation).

    A name that does not resolve now is not a problem here: DNS may be down, or
    the instance not up yet; the request itself is refused if it still does not.
    """
    try:
        check_url(url)
    except Unresolvable:
        return ""
    except OutboundRefused as exc:
        return str(exc)
    return ""


def _connect_checked(host: str, port: int, connect: Any, errors: Any) -> Any:
    """``connect`` (to a target: the name, or an address as text) to an address of ``host``
    that ``checked_addresses`` checked in the same lookup, trying each in turn on ``errors``;
    by name for a host the allow-list names."""
    addresses = checked_addresses(host, port)
    if addresses is None:
        return connect(host)
    failure: Exception | None = None
    for address in addresses:
        try:
            return connect(str(address))
        except errors as exc:  # this address does not answer: try the next one
            failure = exc
    assert failure is not None  # a lookup gives at least one address
    raise failure


class _CheckedConnection(HTTPConnection):
    """urllib3's connection, made to an address the policy checked in the same lookup."""

    def _new_conn(self) -> socket.socket:
        name = self._dns_host

        def connect(target: str) -> socket.socket:
            # urllib3 resolves only ``_dns_host``; the Host header, the TLS server name and
            # the certificate check keep ``host``, the name.
            self._dns_host = target
            try:
                return super(_CheckedConnection, self)._new_conn()
            finally:
                self._dns_host = name

        sock: socket.socket = _connect_checked(name, self.port, connect, OSError)
        return sock


class _CheckedHTTPSConnection(_CheckedConnection, HTTPSConnection):
    pass


# The pools make their connections checked, unless the connection class is not urllib3's
# own: a transport-level mock (vcrpy, for the recorded payloads) replaces it and connects
# nowhere.
class _CheckedPool(HTTPConnectionPool):
    @property
    def ConnectionCls(self) -> Any:  # type: ignore[override]
        made = HTTPConnectionPool.ConnectionCls
        return _CheckedConnection if made is HTTPConnection else made


class _CheckedHTTPSPool(HTTPSConnectionPool):
    @property
    def ConnectionCls(self) -> Any:  # type: ignore[override]
        made = HTTPSConnectionPool.ConnectionCls
        return _CheckedHTTPSConnection if made is HTTPSConnection else made


class PolicyAdapter(HTTPAdapter):
    """A requests transport that applies the policy to every hop and caps the answer.

    No retries: the poller backs off with jitter instead. ``timeout`` is the
    default for callers (client libraries) that pass none.
    """

    def __init__(self, timeout: float | None = None) -> None:
        super().__init__(max_retries=0)
        self.timeout = timeout

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        # Every connection goes to an address checked when it is made (DNS rebinding).
        self.poolmanager.pool_classes_by_scheme = {"http": _CheckedPool, "https": _CheckedHTTPSPool}

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        check_url(request.url or "")
        if kwargs.get("timeout") is None and self.timeout is not None:
            kwargs["timeout"] = self.timeout
        kwargs["stream"] = True
        response = super().send(request, **kwargs)
        _read_capped(response, request.url or "")
        return response


def _read_capped(response: requests.Response, url: str) -> None:
    """Read the body now, refusing one over the size or time cap; later reads reuse it."""
    limit, deadline = max_bytes(), time.monotonic() + max_seconds()
    body = bytearray()
    try:
        declared = int(response.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    try:
        if declared > limit:
            raise OutboundRefused(f"{_host(url)} answered with more than {limit} bytes")
        for chunk in response.iter_content(_CHUNK):
            body += chunk
            if len(body) > limit:
                raise OutboundRefused(f"{_host(url)} answered with more than {limit} bytes")
            if time.monotonic() > deadline:
                raise OutboundRefused(f"{_host(url)} took longer than {max_seconds():g}s to answer")
    except OutboundRefused:
        response.close()
        raise
    response._content = bytes(body)
    response._content_consumed = True


def _host(url: str) -> str:
    return urlsplit(url).hostname or "the host"


def policy_session(timeout: float | None = None) -> requests.Session:
    """A requests session whose every request and redirect goes through the policy."""
    session = requests.Session()
    adapter = PolicyAdapter(timeout)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.max_redirects = max_redirects()
    return session


class _CheckedBackend(httpcore.SyncBackend):
    """httpcore's network, connecting to an address the policy checked in the same lookup
    (the TLS server name stays the request's host)."""

    def connect_tcp(self, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        def connect(target: str) -> Any:
            return super(_CheckedBackend, self).connect_tcp(target, port, *args, **kwargs)

        return _connect_checked(host, port, connect, httpcore.ConnectError)


class PolicyTransport(httpx.HTTPTransport):
    """An httpx transport applying the policy to every hop and capping the answer."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Every connection goes to an address checked when it is made (DNS rebinding).
        self._pool._network_backend = _CheckedBackend()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Check the URL, send, and read the body under the caps."""
        url = str(request.url)
        check_url(url)
        response = super().handle_request(request)
        limit, deadline = max_bytes(), time.monotonic() + max_seconds()
        body = bytearray()
        try:
            for chunk in response.stream:  # type: ignore[union-attr]
                body += chunk
                if len(body) > limit:
                    raise OutboundRefused(f"{_host(url)} answered with more than {limit} bytes")
                if time.monotonic() > deadline:
                    raise OutboundRefused(
                        f"{_host(url)} took longer than {max_seconds():g}s to answer"
                    )
        finally:
            response.close()
        # The raw (still encoded) bytes, as the stream gave them; httpx decodes them later.
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            content=bytes(body),
            extensions=response.extensions,
            request=request,
        )


def refusal_in(exc: BaseException) -> OutboundRefused | None:
    """The policy's refusal a client library wrapped in its own network error, if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, OutboundRefused):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
