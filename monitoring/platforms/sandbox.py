"""The sandbox: a small simulated social network living in nojackal's own database.

It is seeded from a bundled corpus of made-up posts about made-up brands
(``sandbox_corpus.json``), releases them over time, accepts replies and
follows, and makes its people react to our replies after a delay (some answer
kindly, some only like, some never answer, some tell us to go away or block
us), so the whole workflow can be tried and tested offline.

It is written like a real adapter: a "server" side that turns database rows
into API-style JSON items, and a client side that parses those items into
``PostData`` with the same validation a real network needs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import random
import re
from collections.abc import Collection, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .base import (
    Limits,
    Notification,
    NotificationKind,
    NotificationPage,
    Page,
    PermanentError,
    PersonData,
    Platform,
    PostData,
    SearchQuery,
    Sent,
)
from .options import AdapterOptions, OptionsError

log = logging.getLogger(__name__)

CORPUS_PATH = Path(__file__).with_name("sandbox_corpus.json")
SITE = "https://sandbox.nojackal.invalid"
PAGE_SIZE = 40
# How many stored rows one search call looks at; the cursor moves past rows that
# did not match, as a real search API would.
SCAN_SIZE = 400
REPLY_MAX_LENGTH = 500
DEFAULT_HANDLE = "northwind_care"


@cache
def load_corpus() -> dict[str, Any]:
    """The bundled corpus (brands, people with personas, posts, response texts)."""
    return json.loads(CORPUS_PATH.read_text(encoding="utf-8"))


def encode_cursor(when: dt.datetime, pk: int) -> str:
    return f"{when.isoformat()}|{pk}"


def decode_cursor(cursor: str) -> tuple[dt.datetime, int] | None:
    """Parse a cursor; "" means the start. A cursor we did not write is a config error."""
    if not cursor:
        return None
    try:
        when_text, _, pk_text = cursor.partition("|")
        when = dt.datetime.fromisoformat(when_text)
        if when.tzinfo is None:
            raise ValueError("naive timestamp")
        return when, int(pk_text)
    except ValueError:
        raise PermanentError(f"sandbox cursor {cursor[:80]!r} is not valid") from None


def _after(cursor: tuple[dt.datetime, int] | None, field: str) -> Q:
    if cursor is None:
        return Q()
    when, pk = cursor
    return Q(**{f"{field}__gt": when}) | Q(**{field: when, "pk__gt": pk})


def post_payload(row: Any) -> dict[str, Any]:
    """What the sandbox 'API' returns for one post."""
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


def parse_post(item: Mapping[str, Any]) -> PostData:
    """Map one API item to PostData; ValueError/KeyError/TypeError when malformed."""
    author = item["author"]
    if not isinstance(author, Mapping):
        raise TypeError("author must be an object")
    text = item["text"]
    if not isinstance(text, str):
        raise TypeError("text must be a string")
    posted_at = dt.datetime.fromisoformat(item["published_at"])
    if posted_at.tzinfo is None:
        raise ValueError("published_at has no time zone")
    return PostData(
        external_id=str(item["id"]),
        author=PersonData(
            external_id=str(author["id"]),
            handle=str(author["handle"]),
            display_name=str(author.get("name") or ""),
            profile_url=str(author.get("url") or ""),
        ),
        text=text,
        url=str(item.get("url") or ""),
        posted_at=posted_at,
        in_reply_to=str(item["reply_to"]) if item.get("reply_to") else "",
        lang=str(item.get("lang") or ""),
        raw=dict(item),
    )


def _term_pattern(terms: list[str]) -> re.Pattern[str] | None:
    terms = [t.strip().lstrip("@#") for t in terms if t and t.strip().lstrip("@#")]
    if not terms:
        return None
    alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    return re.compile(rf"(?<!\w)[@#]?(?:{alternatives})(?!\w)", re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class SandboxOptions(AdapterOptions):
    """``handle`` (our account) and ``reaction_delay`` (seconds, from-to) of its people."""

    handle: str = DEFAULT_HANDLE
    reaction_delay: tuple[float, float] = (20.0, 90.0)

    def check(self) -> None:
        super().check()
        low, high = self.reaction_delay
        if not 0 <= low <= high:
            raise OptionsError(
                f"reaction_delay {list(self.reaction_delay)} must be 0 <= from <= to"
            )


class SandboxPlatform(Platform):
    """The simulated network."""

    name = "sandbox"
    label = "Sandbox (simulated network)"
    Options = SandboxOptions
    opts: SandboxOptions

    @property
    def handle(self) -> str:
        """Our account on the sandbox, without the ``@``."""
        return self.opts.handle.lstrip("@")

    def limits(self) -> Limits:
        return Limits(
            reply_max_length=REPLY_MAX_LENGTH,
            notes="Simulated network: nothing leaves this server.",
        )

    # --- server side: rows to API items ---------------------------------------

    def _search_items(self, cursor: str, now: dt.datetime) -> tuple[list[dict[str, Any]], str]:
        from monitoring.models import SandboxPost

        rows = list(
            SandboxPost.objects.filter(published_at__lte=now)
            .filter(_after(decode_cursor(cursor), "published_at"))
            .order_by("published_at", "pk")[:SCAN_SIZE]
        )
        next_cursor = encode_cursor(rows[-1].published_at, rows[-1].pk) if rows else cursor
        return [post_payload(row) for row in rows], next_cursor

    # --- client side ------------------------------------------------------------

    def search(self, query: SearchQuery, cursor: str) -> Page:
        items, next_cursor = self._search_items(cursor, timezone.now())
        include = _term_pattern(list(query.terms))
        exclude = _term_pattern(list(query.exclusions))
        posts: list[PostData] = []
        skipped = 0
        for item in items:
            try:
                post = parse_post(item)
            except (KeyError, TypeError, ValueError) as exc:
                skipped += 1
                log.warning("sandbox: skipping malformed post %r: %s", item.get("id"), exc)
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
            posts=posts,
            cursor=next_cursor,
            has_more=len(items) == SCAN_SIZE,
            skipped=skipped,
        )

    def thread(self, external_id: str) -> list[PostData]:
        from monitoring.models import SandboxPost

        root = self._get(external_id)
        ancestors = {root.pk}
        while root.reply_to_id and root.reply_to_id not in ancestors:  # a cycle cannot loop
            root = root.reply_to
            ancestors.add(root.pk)
        now = timezone.now()
        thread = [root]
        visited = {root.pk}
        frontier = [root.pk]
        while frontier:
            children = [
                c
                for c in SandboxPost.objects.filter(reply_to_id__in=frontier, published_at__lte=now)
                if c.pk not in visited
            ]
            thread.extend(children)
            frontier = [c.pk for c in children]
            visited.update(frontier)
        thread.sort(key=lambda p: (p.published_at, p.pk))
        return [parse_post(post_payload(p)) for p in thread]

    def _get(self, external_id: str) -> Any:
        from monitoring.models import SandboxPost

        try:
            return SandboxPost.objects.get(pk=int(external_id))
        except (ValueError, SandboxPost.DoesNotExist):
            raise PermanentError(f"sandbox post {external_id!r} does not exist") from None

    def reply(self, *, in_reply_to: str, text: str, idempotency_key: str) -> Sent:
        from monitoring.models import SandboxPost

        if not text.strip():
            raise PermanentError("422: text can't be blank")
        if len(text) > REPLY_MAX_LENGTH:
            raise PermanentError(f"422: text is longer than {REPLY_MAX_LENGTH} characters")
        parent = self._get(in_reply_to)
        try:
            with transaction.atomic():
                row, created = SandboxPost.objects.get_or_create(
                    author_handle=self.handle,
                    idempotency_key=idempotency_key[:100],
                    defaults={
                        "author_id_text": f"acct-{self.handle}",
                        "author_name": self.handle,
                        "text": text,
                        "published_at": timezone.now(),
                        "reply_to": parent,
                    },
                )
        except IntegrityError:  # a concurrent call with the same key won
            row, created = (
                SandboxPost.objects.get(author_handle=self.handle, idempotency_key=idempotency_key),
                False,
            )
        if created:
            self._react(parent, row)
        return Sent(external_id=str(row.pk), url=post_payload(row)["url"])

    def find_reply(
        self, *, in_reply_to: str, idempotency_key: str, exclude: Collection[str] = ()
    ) -> Sent | None:
        from monitoring.models import SandboxPost

        row = (
            SandboxPost.objects.filter(author_handle=self.handle, reply_to_id=_int(in_reply_to))
            .exclude(pk__in=[int(x) for x in exclude if str(x).isdigit()])
            .order_by("pk")
            .first()
        )
        return Sent(external_id=str(row.pk), url=post_payload(row)["url"]) if row else None

    def follow(self, person_external_id: str) -> Sent:
        from monitoring.models import SandboxFollow

        follow, _ = SandboxFollow.objects.get_or_create(
            follower_handle=self.handle, followed_id=person_external_id
        )
        return Sent(external_id=f"follow-{follow.pk}")

    def notifications(self, cursor: str) -> NotificationPage:
        from monitoring.models import SandboxNotification

        rows = list(
            SandboxNotification.objects.filter(
                account_handle=self.handle, visible_at__lte=timezone.now()
            )
            .filter(_after(decode_cursor(cursor), "visible_at"))
            .select_related("post")
            .order_by("visible_at", "pk")[:PAGE_SIZE]
        )
        notes = [
            Notification(
                external_id=f"n{row.pk}",
                kind=row.kind,
                person=PersonData(
                    external_id=row.person_id_text,
                    handle=row.person_handle,
                    profile_url=f"{SITE}/@{row.person_handle}",
                ),
                created_at=row.visible_at,
                subject_id=str(row.subject_id or ""),
                post=parse_post(post_payload(row.post)) if row.post else None,
            )
            for row in rows
        ]
        next_cursor = encode_cursor(rows[-1].visible_at, rows[-1].pk) if rows else cursor
        return NotificationPage(notes, cursor=next_cursor, has_more=len(rows) == PAGE_SIZE)

    def check(self) -> str:
        from monitoring.models import SandboxPost

        now = timezone.now()
        total = SandboxPost.objects.count()
        released = SandboxPost.objects.filter(published_at__lte=now).count()
        return f"Sandbox network: {released} of {total} posts released; posting as @{self.handle}."

    # --- the simulated people -----------------------------------------------------

    def _react(self, parent: Any, our_reply: Any) -> None:
        """Schedule how the person we answered reacts, by their persona."""
        from monitoring.models import SandboxNotification, SandboxPersona, SandboxPost

        persona = SandboxPersona.objects.filter(handle=parent.author_handle).first()
        if persona is None:
            return
        low, high = self.opts.reaction_delay
        rng = random.Random(our_reply.idempotency_key or our_reply.pk)
        when = our_reply.published_at + dt.timedelta(seconds=rng.uniform(low, high))
        responses = load_corpus().get("responses", {})

        def notify(kind: str, post: Any = None, at: dt.datetime = when) -> None:
            SandboxNotification.objects.create(
                account_handle=self.handle,
                kind=kind,
                person_id_text=persona.external_id,
                person_handle=persona.handle,
                subject=our_reply,
                post=post,
                visible_at=at,
            )

        def answer(pool: str) -> Any:
            texts = responses.get(pool) or ["thanks"]
            return SandboxPost.objects.create(
                author_id_text=persona.external_id,
                author_handle=persona.handle,
                author_name=persona.name,
                text=f"@{self.handle} {rng.choice(texts)}",
                published_at=when,
                reply_to=our_reply,
            )

        kind = persona.persona
        if kind in {"friendly", "follower"}:
            notify(NotificationKind.FAVOURITE, at=when - dt.timedelta(seconds=5))
            notify(NotificationKind.REPLY, answer("friendly"))
            if kind == "follower":
                notify(NotificationKind.FOLLOW, at=when + dt.timedelta(seconds=5))
        elif kind == "liker":
            notify(NotificationKind.FAVOURITE)
        elif kind == "hostile":
            notify(NotificationKind.REPLY, answer("opt_out"))
        elif kind == "blocker":
            notify(NotificationKind.BLOCK)
        # "silent" and anything else: no answer, which is fine.


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise PermanentError(f"sandbox post {value!r} does not exist") from None


def seed(start: dt.datetime | None = None) -> int:
    """Load the corpus into the sandbox network, releasing posts from ``start``; idempotent.

    Returns the number of posts added. Posts already seeded keep their times.
    """
    from monitoring.models import SandboxPersona, SandboxPost

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
