"""The sandbox network's server: a small simulated social network in nojackal's database.

It is seeded from a bundled corpus of made-up posts about made-up brands
(``platforms/sandbox_corpus.json``), releases them over time, accepts replies
and follows, and makes its people react to our replies after a delay (some
answer kindly, some only like, some never answer, some tell us to go away or
block us), so the whole workflow can be tried and tested offline.

It answers a JSON API, mounted at ``sandbox/api/``, that the sandbox adapter
(``platforms/sandbox.py``) talks to like any other platform's:

    GET  posts/?cursor=&until=&limit=      released posts after the cursor, oldest first
    GET  posts/<id>/thread/                the conversation around a post
    POST posts/<id>/replies/               {"text"}; ``Idempotency-Key`` header: posted once
    GET  posts/<id>/replies/?exclude=1,2   our replies under a post (crash recovery)
    POST follows/                          {"person_id"}
    GET  notifications/?cursor=            what its people did to our account
    GET  limits/ · status/

The caller's account is ``Authorization: Bearer <handle>``: a simulation has
no secrets. Errors are ``{"error": "..."}`` with a 4xx status. Over the network
the API answers only with ``DEBUG`` on; the adapter's in-process transport
(the default, used by the demo's worker and the tests) always reaches it.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from functools import cache, wraps
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from monitoring.models import SandboxFollow, SandboxNotification, SandboxPersona, SandboxPost
from monitoring.platforms.base import NotificationKind
from monitoring.platforms.sandbox import CORPUS_PATH, DEFAULT_HANDLE, IN_PROCESS, SITE

PAGE_SIZE = 40
# The most stored rows one timeline call returns; the client filters them by its
# terms and the cursor moves past rows that did not match, as a real search would.
SCAN_SIZE = 400
REPLY_MAX_LENGTH = 500


class ApiError(Exception):
    """A refusal the API answers with ``{"error": message}`` and ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@cache
def load_corpus() -> dict[str, Any]:
    """The bundled corpus (brands, people with personas, posts, response texts)."""
    return json.loads(CORPUS_PATH.read_text(encoding="utf-8"))


def encode_cursor(when: dt.datetime, pk: int) -> str:
    """The resume point after the row at ``when`` with primary key ``pk``."""
    return f"{when.isoformat()}|{pk}"


def decode_cursor(cursor: str) -> tuple[dt.datetime, int] | None:
    """Parse a cursor; "" means the start. A cursor we did not write is refused (400)."""
    if not cursor:
        return None
    try:
        when_text, _, pk_text = cursor.partition("|")
        when = dt.datetime.fromisoformat(when_text)
        if when.tzinfo is None:
            raise ValueError("naive timestamp")
        return when, int(pk_text)
    except ValueError:
        raise ApiError(400, f"sandbox cursor {cursor[:80]!r} is not valid") from None


def _after(cursor: tuple[dt.datetime, int] | None, field: str) -> Q:
    if cursor is None:
        return Q()
    when, pk = cursor
    return Q(**{f"{field}__gt": when}) | Q(**{field: when, "pk__gt": pk})


def post_payload(row: SandboxPost) -> dict[str, Any]:
    """What the API returns for one post."""
    return {
        "id": str(row.pk),
        "text": row.text,
        "lang": row.lang,
        "published_at": row.published_at.isoformat(),
        "reply_to": str(row.reply_to_id) if row.reply_to_id else None,
        "url": f"{SITE}/@{row.author_handle}/{row.pk}",
        "author": {
            "id": row.author_id_text,
            "handle": row.author_handle,
            "name": row.author_name,
            "url": f"{SITE}/@{row.author_handle}",
        },
    }


def notification_payload(row: SandboxNotification) -> dict[str, Any]:
    """What the API returns for one notification."""
    return {
        "id": f"n{row.pk}",
        "kind": row.kind,
        "person": {
            "id": row.person_id_text,
            "handle": row.person_handle,
            "url": f"{SITE}/@{row.person_handle}",
        },
        "created_at": row.visible_at.isoformat(),
        "subject_id": str(row.subject_id or ""),
        "post": post_payload(row.post) if row.post else None,
    }


# --- the API ------------------------------------------------------------------------------

View = Callable[..., JsonResponse]


def endpoint(*methods: str) -> Callable[[Callable[..., Any]], View]:
    """A JSON endpoint: method check, network gate, the caller's handle, errors as JSON."""

    def decorate(fn: Callable[..., Any]) -> View:
        @csrf_exempt
        @wraps(fn)
        def view(request: HttpRequest, **kwargs: Any) -> JsonResponse:
            if not (request.META.get(IN_PROCESS) or settings.DEBUG):
                return JsonResponse({"error": "not found"}, status=404)
            if request.method not in methods:
                return JsonResponse({"error": "method not allowed"}, status=405)
            scheme, _, handle = request.headers.get("Authorization", "").partition(" ")
            handle = handle.strip().lstrip("@") if scheme.lower() == "bearer" else ""
            try:
                status, body = fn(request, handle or DEFAULT_HANDLE, **kwargs)
            except ApiError as exc:
                return JsonResponse({"error": str(exc)}, status=exc.status)
            return JsonResponse(body, status=status)

        return view

    return decorate


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise ApiError(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body


def _post(external_id: str) -> SandboxPost:
    try:
        return SandboxPost.objects.get(pk=int(external_id))
    except (ValueError, SandboxPost.DoesNotExist):
        raise ApiError(404, f"sandbox post {external_id!r} does not exist") from None


@endpoint("GET")
def timeline(request: HttpRequest, handle: str) -> tuple[int, dict[str, Any]]:
    """Released posts after the cursor, oldest first; ``until`` may only look earlier than now."""
    now = timezone.now()
    until = request.GET.get("until")
    if until:
        try:
            now = min(now, dt.datetime.fromisoformat(until))
        except (ValueError, TypeError):
            raise ApiError(400, f"until {until[:40]!r} is not an ISO time with a zone") from None
    try:
        limit = max(1, min(SCAN_SIZE, int(request.GET.get("limit") or SCAN_SIZE)))
    except ValueError:
        raise ApiError(400, "limit is not a number") from None
    cursor = request.GET.get("cursor", "")
    rows = list(
        SandboxPost.objects.filter(published_at__lte=now)
        .filter(_after(decode_cursor(cursor), "published_at"))
        .order_by("published_at", "pk")[:limit]
    )
    next_cursor = encode_cursor(rows[-1].published_at, rows[-1].pk) if rows else cursor
    return 200, {"items": [post_payload(row) for row in rows], "cursor": next_cursor}


@endpoint("GET")
def thread(request: HttpRequest, handle: str, post_id: str) -> tuple[int, dict[str, Any]]:
    """The root of the post's conversation and every released reply, oldest first."""
    root = _post(post_id)
    ancestors = {root.pk}
    while root.reply_to_id and root.reply_to_id not in ancestors:  # a cycle cannot loop
        root = root.reply_to
        ancestors.add(root.pk)
    now = timezone.now()
    rows = [root]
    visited = {root.pk}
    frontier = [root.pk]
    while frontier:
        children = [
            c
            for c in SandboxPost.objects.filter(reply_to_id__in=frontier, published_at__lte=now)
            if c.pk not in visited
        ]
        rows.extend(children)
        frontier = [c.pk for c in children]
        visited.update(frontier)
    rows.sort(key=lambda p: (p.published_at, p.pk))
    return 200, {"items": [post_payload(p) for p in rows]}


@endpoint("GET", "POST")
def replies(request: HttpRequest, handle: str, post_id: str) -> tuple[int, dict[str, Any]]:
    """POST: reply once per ``Idempotency-Key``. GET: our replies under the post."""
    if request.method == "GET":
        exclude = [int(x) for x in request.GET.get("exclude", "").split(",") if x.isdigit()]
        if not post_id.isdigit():
            raise ApiError(404, f"sandbox post {post_id!r} does not exist")
        rows = (
            SandboxPost.objects.filter(author_handle=handle, reply_to_id=int(post_id))
            .exclude(pk__in=exclude)
            .order_by("pk")
        )
        return 200, {"items": [post_payload(row) for row in rows[:PAGE_SIZE]]}
    text = _body(request).get("text")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(422, "text can't be blank")
    if len(text) > REPLY_MAX_LENGTH:
        raise ApiError(422, f"text is longer than {REPLY_MAX_LENGTH} characters")
    key = request.headers.get("Idempotency-Key", "")[:100]
    parent = _post(post_id)
    try:
        with transaction.atomic():
            row, created = SandboxPost.objects.get_or_create(
                author_handle=handle,
                idempotency_key=key,
                defaults={
                    "author_id_text": f"acct-{handle}",
                    "author_name": handle,
                    "text": text,
                    "published_at": timezone.now(),
                    "reply_to": parent,
                },
            )
    except IntegrityError:  # a concurrent call with the same key won
        row, created = SandboxPost.objects.get(author_handle=handle, idempotency_key=key), False
    if created:
        react(parent, row, handle, _reaction_delay(request))
    return (201 if created else 200), post_payload(row)


def _reaction_delay(request: HttpRequest) -> tuple[float, float]:
    # The simulation's own knob, sent by the client from its options.
    try:
        low, high = (float(x) for x in request.headers.get("X-Reaction-Delay", "").split(","))
    except ValueError:
        return (20.0, 90.0)
    return (low, high)


@endpoint("POST")
def follows(request: HttpRequest, handle: str) -> tuple[int, dict[str, Any]]:
    """Follow a person once; following again answers the same follow."""
    person_id = _body(request).get("person_id")
    if not isinstance(person_id, str) or not person_id:
        raise ApiError(422, "person_id can't be blank")
    follow, created = SandboxFollow.objects.get_or_create(
        follower_handle=handle, followed_id=person_id
    )
    return (201 if created else 200), {"id": f"follow-{follow.pk}"}


@endpoint("GET")
def notifications(request: HttpRequest, handle: str) -> tuple[int, dict[str, Any]]:
    """Visible notifications of the caller's account after the cursor, oldest first."""
    cursor = request.GET.get("cursor", "")
    rows = list(
        SandboxNotification.objects.filter(account_handle=handle, visible_at__lte=timezone.now())
        .filter(_after(decode_cursor(cursor), "visible_at"))
        .select_related("post")
        .order_by("visible_at", "pk")[:PAGE_SIZE]
    )
    next_cursor = encode_cursor(rows[-1].visible_at, rows[-1].pk) if rows else cursor
    return 200, {
        "items": [notification_payload(row) for row in rows],
        "cursor": next_cursor,
        "has_more": len(rows) == PAGE_SIZE,
    }


@endpoint("GET")
def limits(request: HttpRequest, handle: str) -> tuple[int, dict[str, Any]]:
    """What the network allows."""
    return 200, {
        "reply_max_length": REPLY_MAX_LENGTH,
        "notes": "Simulated network: nothing leaves this server.",
    }


@endpoint("GET")
def status(request: HttpRequest, handle: str) -> tuple[int, dict[str, Any]]:
    """How much of the corpus is released, and who is asking."""
    released = SandboxPost.objects.filter(published_at__lte=timezone.now()).count()
    return 200, {"released": released, "total": SandboxPost.objects.count(), "handle": handle}


urlpatterns = [
    path("posts/", timeline),
    path("posts/<str:post_id>/thread/", thread),
    path("posts/<str:post_id>/replies/", replies),
    path("follows/", follows),
    path("notifications/", notifications),
    path("limits/", limits),
    path("status/", status),
]


# --- the simulated people -----------------------------------------------------------------


def react(
    parent: SandboxPost, our_reply: SandboxPost, handle: str, delay: tuple[float, float]
) -> None:
    """Schedule how the person we answered reacts, by their persona."""
    persona = SandboxPersona.objects.filter(handle=parent.author_handle).first()
    if persona is None:
        return
    low, high = delay
    rng = random.Random(our_reply.idempotency_key or our_reply.pk)
    when = our_reply.published_at + dt.timedelta(seconds=rng.uniform(low, high))
    responses = load_corpus().get("responses", {})

    def notify(kind: str, post: SandboxPost | None = None, at: dt.datetime = when) -> None:
        SandboxNotification.objects.create(
            account_handle=handle,
            kind=kind,
            person_id_text=persona.external_id,
            person_handle=persona.handle,
            subject=our_reply,
            post=post,
            visible_at=at,
        )

    def answer(pool: str) -> SandboxPost:
        texts = responses.get(pool) or ["thanks"]
        return SandboxPost.objects.create(
            author_id_text=persona.external_id,
            author_handle=persona.handle,
            author_name=persona.name,
            text=f"@{handle} {rng.choice(texts)}",
            published_at=when,
            reply_to=our_reply,
        )

    kind = persona.persona
    if kind in {"friendly", "follower"}:
        notify(NotificationKind.FAVOURITE, at=when - dt.timedelta(seconds=5))
        notify(NotificationKind.REPLY, answer("friendly"))
        if kind == "follower":
            notify(NotificationKind.FOLLOW, at=when + dt.timedelta(seconds=5))
    elif kind == "customer":
        # Our own customer (own-brand): answers every reply of ours, and the conversation
        # goes from "here are my details" to "it works now" to "I updated my post".
        ours = SandboxPost.objects.filter(
            author_handle=handle, reply_to__author_handle=persona.handle
        ).count()
        pools = ("customer_help", "customer_fixed", "customer_amended")
        notify(NotificationKind.REPLY, answer(pools[min(max(ours, 1), len(pools)) - 1]))
    elif kind == "liker":
        notify(NotificationKind.FAVOURITE)
    elif kind == "hostile":
        notify(NotificationKind.REPLY, answer("opt_out"))
    elif kind == "blocker":
        notify(NotificationKind.BLOCK)
    # "silent" and anything else: no answer, which is fine.


def seed(start: dt.datetime | None = None) -> int:
    """Load the corpus into the sandbox network, releasing posts from ``start``; idempotent.

    Returns the number of posts added. Posts already seeded keep their times.
    """
    start = start or timezone.now()
    corpus = load_corpus()
    people = {p["id"]: p for p in corpus["people"]}
    for person in people.values():
        SandboxPersona.objects.get_or_create(
            external_id=person["id"],
            defaults={
                "handle": person["handle"],
                "name": person.get("name", ""),
                "persona": person.get("persona", "silent"),
            },
        )
    existing = dict(SandboxPost.objects.exclude(corpus_id="").values_list("corpus_id", "pk"))
    added = 0
    rng = random.Random(7)
    with transaction.atomic():
        for item in corpus["posts"]:
            if item["id"] in existing:
                continue
            author = people[item["author"]]
            reply_to = existing.get(item["reply_to"]) if item.get("reply_to") else None
            row = SandboxPost.objects.create(
                author_id_text=author["id"],
                author_handle=author["handle"],
                author_name=author.get("name", ""),
                text=item["text"],
                lang=item.get("lang", ""),
                published_at=start
                + dt.timedelta(minutes=item["minute"], seconds=rng.uniform(0, 59)),
                reply_to_id=reply_to,
                corpus_id=item["id"],
            )
            existing[item["id"]] = row.pk
            added += 1
    return added
