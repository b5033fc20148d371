"""The sandbox network's client: an adapter like any other, over HTTP.

The network itself (a small simulated social network in nojackal's database,
with people who react to our replies) is the server in
``monitoring/sandbox_server.py``. This adapter talks to its JSON API through
the shared HTTP base, so errors, statuses and cursors take the same path as a
real platform's. With the default ``base_url`` the requests never leave the
process: an in-process transport hands each one to the server's Django views
as a WSGI request (real statuses, headers and JSON bodies, no web server
needed by the demo's worker or the tests). Any other ``base_url`` (say
``http://localhost:8000/sandbox/api``) is reached over the network.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import logging
import re
import sys
from collections.abc import Collection, Mapping
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from . import base
from .base import Limits, Page, PostData, SearchQuery
from .http import HttpPlatform, is_write, unreadable_answer
from .options import AdapterOptions, ApiRoot, OptionsError

log = logging.getLogger(__name__)

CORPUS_PATH = Path(__file__).with_name("sandbox_corpus.json")
SITE = "https://sandbox.nojackal.invalid"
DEFAULT_HANDLE = "northwind_care"
# The default base URL: never resolvable (.invalid), served by the in-process transport.
DEFAULT_BASE_URL = ApiRoot("http://sandbox.invalid")
# Set in the WSGI environ of in-process requests; the server trusts only those without DEBUG.
IN_PROCESS = "nojackal.sandbox.in_process"
SERVER_URLCONF = "monitoring.sandbox_server"
# Rows asked for per search call; a full answer means more are waiting.
SCAN_SIZE = 400


class InProcessTransport(BaseAdapter):
    """A requests transport that hands the request to the sandbox server's Django views.

    It builds the WSGI request a web server would, resolves it against the
    server's own URLs and turns Django's response into a requests one. Site
    middleware (sessions, CSRF, host checks) is for browsers and is skipped,
    and no request signals are sent: those close the database connection,
    which the caller may be using inside a transaction.
    """

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        from django.core.handlers.wsgi import WSGIRequest
        from django.http import JsonResponse
        from django.urls import Resolver404, resolve

        url = urlsplit(request.url or "")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method or "GET",
            "PATH_INFO": unquote(url.path) or "/",
            "QUERY_STRING": url.query,
            "SERVER_NAME": url.hostname or "sandbox.invalid",
            "SERVER_PORT": str(url.port or 80),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_TYPE": request.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": url.scheme or "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            IN_PROCESS: True,
        }
        for name, value in request.headers.items():
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[f"HTTP_{key}"] = value
        django_request = WSGIRequest(environ)
        try:
            match = resolve(django_request.path_info, urlconf=SERVER_URLCONF)
        except Resolver404:
            answer = JsonResponse({"error": f"no such endpoint {url.path}"}, status=404)
        else:
            answer = match.func(django_request, *match.args, **match.kwargs)
        response = requests.Response()
        response.status_code = answer.status_code
        response.reason = HTTPStatus(answer.status_code).phrase
        response.headers = CaseInsensitiveDict(dict(answer.items()))
        response._content = answer.content
        response.encoding = "utf-8"
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        """Nothing to release: no sockets."""


def parse_post(item: Mapping[str, Any]) -> PostData:
    """Map one API item to PostData; ValueError/KeyError/TypeError when malformed."""
    text = item["text"]
    if not isinstance(text, str):
        raise TypeError("text must be a string")
    return PostData(
        external_id=str(item["id"]),
        author=_person(item["author"]),
        text=text,
        url=str(item.get("url") or ""),
        posted_at=_aware(item["published_at"], "published_at"),
        in_reply_to=str(item["reply_to"]) if item.get("reply_to") else "",
        lang=str(item.get("lang") or ""),
        raw=dict(item),
    )


def _person(account: Any) -> base.PersonData:
    if not isinstance(account, Mapping):
        raise TypeError("a person must be an object")
    return base.PersonData(
        external_id=str(account["id"]),
        handle=str(account["handle"]),
        display_name=str(account.get("name") or ""),
        profile_url=str(account.get("url") or ""),
    )


def _aware(stamp: Any, name: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(stamp)
    if when.tzinfo is None:
        raise ValueError(f"{name} has no time zone")
    return when


def _term_pattern(terms: list[str]) -> re.Pattern[str] | None:
    terms = [t.strip().lstrip("@#") for t in terms if t and t.strip().lstrip("@#")]
    if not terms:
        return None
    alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    return re.compile(rf"(?<!\w)[@#]?(?:{alternatives})(?!\w)", re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class SandboxOptions(AdapterOptions):
    """``handle`` (our account), ``reaction_delay`` (seconds, from-to) of its people and
    ``base_url`` (the server; the default one is reached in-process)."""

    handle: str = DEFAULT_HANDLE
    reaction_delay: tuple[float, float] = (20.0, 90.0)
    base_url: ApiRoot = DEFAULT_BASE_URL

    def check(self) -> None:
        super().check()
        low, high = self.reaction_delay
        if not 0 <= low <= high:
            raise OptionsError(
                f"reaction_delay {list(self.reaction_delay)} must be 0 <= from <= to"
            )


class SandboxPlatform(HttpPlatform[SandboxOptions], platform="sandbox"):
    """The simulated network, spoken to through its API."""

    _limits: Limits | None = None

    @property
    def handle(self) -> str:
        """Our account on the sandbox, without the ``@``."""
        return self.opts.handle.lstrip("@")

    @classmethod
    def outbound_urls(cls, urls: Mapping[str, str]) -> Mapping[str, str]:
        """The in-process base URL never reaches the network; any other one does."""
        return {name: url for name, url in urls.items() if url != DEFAULT_BASE_URL}

    def make_session(self) -> requests.Session:
        """A session that says who we are; in-process when the base URL is the default."""
        session = super().make_session()
        session.headers["Authorization"] = f"Bearer {self.handle}"
        if self.opts.base_url == DEFAULT_BASE_URL:
            session.mount(DEFAULT_BASE_URL + "/", InProcessTransport())
        return session

    def _api(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        response = self._request(
            method, self.opts.base_url + path, what=f"Sandbox {what}", **kwargs
        )
        body = self._json(response, f"Sandbox {what}")
        if not isinstance(body, dict):
            raise unreadable_answer(f"Sandbox {what}", response.content, write=is_write(method))
        return body

    def limits(self) -> Limits:
        """What the server allows, asked once."""
        if self._limits is None:
            body = self._api("GET", "/limits/", "limits")
            self._limits = Limits(
                reply_max_length=int(body["reply_max_length"]), notes=str(body.get("notes", ""))
            )
        return self._limits

    def _search_items(self, cursor: str, now: dt.datetime) -> tuple[list[Any], str]:
        """Released posts after ``cursor`` as of ``now``, and the cursor after them."""
        params = {"cursor": cursor, "until": now.isoformat(), "limit": SCAN_SIZE}
        body = self._api("GET", "/posts/", "timeline", params=params)
        return list(body.get("items") or []), str(body.get("cursor") or cursor)

    def search(self, query: SearchQuery, cursor: str) -> Page:
        """Posts matching the terms after ``cursor``, oldest first; our own replies left out."""
        items, next_cursor = self._search_items(cursor, dt.datetime.now(dt.UTC))
        include = _term_pattern(list(query.terms))
        exclude = _term_pattern(list(query.exclusions))
        posts: list[PostData] = []
        skipped = 0
        for item in items:
            try:
                post = parse_post(item)
            except (KeyError, TypeError, ValueError) as exc:
                skipped += 1
                item_id = item.get("id") if isinstance(item, Mapping) else None
                log.warning("sandbox: skipping malformed post %r: %s", item_id, exc)
                continue
            if post.author.handle == self.handle:
                continue  # our own replies are not complaints to answer
            if include is not None and not include.search(post.text):
                continue
            if exclude is not None and exclude.search(post.text):
                continue
            if query.language and post.lang and post.lang != query.language:
                continue
            posts.append(post)
        return Page(
            posts=posts, cursor=next_cursor, has_more=len(items) >= SCAN_SIZE, skipped=skipped
        )

    def thread(self, external_id: str) -> list[PostData]:
        """The conversation's root and every reply, oldest first."""
        body = self._api("GET", f"/posts/{_segment(external_id)}/thread/", "thread")
        return [parse_post(item) for item in body.get("items") or []]

    def reply(self, *, in_reply_to: str, text: str, idempotency_key: str) -> base.Sent:
        """Reply once per ``idempotency_key`` (the server answers the first reply again)."""
        low, high = self.opts.reaction_delay
        body = self._api(
            "POST",
            f"/posts/{_segment(in_reply_to)}/replies/",
            "reply",
            json={"text": text},
            headers={"Idempotency-Key": idempotency_key, "X-Reaction-Delay": f"{low},{high}"},
        )
        try:
            return base.Sent(external_id=str(body["id"]), url=str(body.get("url") or ""))
        except KeyError:
            raise unreadable_answer("Sandbox reply", repr(body), write=True) from None

    def find_reply(
        self, *, in_reply_to: str, idempotency_key: str, exclude: Collection[str] = ()
    ) -> base.Sent | None:
        """Our first reply under ``in_reply_to`` that is not in ``exclude``."""
        body = self._api(
            "GET",
            f"/posts/{_segment(in_reply_to)}/replies/",
            "own replies",
            params={"exclude": ",".join(str(x) for x in exclude)},
        )
        items = body.get("items") or []
        if not items:
            return None
        return base.Sent(external_id=str(items[0]["id"]), url=str(items[0].get("url") or ""))

    def follow(self, person_external_id: str) -> base.Sent:
        """Follow a person (once: following again answers the same follow)."""
        body = self._api("POST", "/follows/", "follow", json={"person_id": person_external_id})
        return base.Sent(external_id=str(body["id"]))

    def notifications(self, cursor: str) -> base.NotificationPage:
        """What the sandbox's people did to our account after ``cursor``, oldest first."""
        body = self._api("GET", "/notifications/", "notifications", params={"cursor": cursor})
        notes: list[base.Notification] = []
        skipped = 0
        for item in body.get("items") or []:
            try:
                notes.append(parse_notification(item))
            except (KeyError, TypeError, ValueError) as exc:
                skipped += 1
                log.warning("sandbox: skipping malformed notification: %s", exc)
        return base.NotificationPage(
            notes,
            cursor=str(body.get("cursor") or cursor),
            has_more=bool(body.get("has_more")),
            skipped=skipped,
        )

    def check(self) -> str:
        """Say how much of the corpus is released and who we post as."""
        body = self._api("GET", "/status/", "status")
        return (
            f"Sandbox network: {body['released']} of {body['total']} posts released; "
            f"posting as @{self.handle}."
        )


def _segment(external_id: str) -> str:
    return quote(str(external_id), safe="")


def parse_notification(item: Mapping[str, Any]) -> base.Notification:
    """Map one API notification; ValueError/KeyError/TypeError when malformed."""
    return base.Notification(
        external_id=str(item["id"]),
        kind=str(item["kind"]),
        person=_person(item["person"]),
        created_at=_aware(item["created_at"], "created_at"),
        subject_id=str(item.get("subject_id") or ""),
        post=parse_post(item["post"]) if item.get("post") else None,
        raw=dict(item),
    )
