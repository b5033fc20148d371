"""Polling: claim due sources, fetch from each platform, store what came back.

Posts and the cursor that points past them are written in one transaction, so
a failure half way leaves the cursor where it was (nothing skipped) and a
repeated poll stores nothing twice (unique platform + external id).

Failures: a transient error (a network fault, a 5xx, a rate limit, an answer
that does not parse) backs the source off and keeps what the platform sent for
the admin; only authentication and configuration errors (``PermanentError``)
disable it. A source disabled, or failing for longer than
``NOJACKAL_SOURCE_ALERT_AFTER_SECONDS``, tells the team once per episode; a
successful poll (or the admin's Enable) ends the episode.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Model, Q
from django.utils import timezone

from monitoring.models import Account, Person, Post, Source
from monitoring.platforms import (
    PermanentError,
    PersonData,
    PostData,
    SearchQuery,
    TransientError,
    get_platform,
)
from monitoring.platforms.base import Page, RateLimit

log = logging.getLogger(__name__)


def claim_due_sources(now: dt.datetime, *, limit: int = 100) -> list[int]:
    """Claim up to ``limit`` due sources by pushing their next poll a lease ahead; return their ids.

    On PostgreSQL, SKIP LOCKED lets two beat ticks (or two beat processes by
    mistake) claim disjoint sets without waiting on each other. SQLite has no
    row locks, but our SQLite settings open every transaction with BEGIN
    IMMEDIATE, which takes the database write lock up front: two claims run one
    after the other and the second no longer sees the first one's sources as due.
    """
    lease = dt.timedelta(seconds=settings.NOJACKAL_POLL_LEASE_SECONDS)
    with transaction.atomic():
        due = Source.objects.due(now).order_by("next_poll_at")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:limit])
        if ids:
            Source.objects.filter(pk__in=ids).update(next_poll_at=now + lease)
    return ids


def store_page(source: Source, page: Page) -> int:
    """Store a page's people and posts, ignoring ones we have, and advance the cursor.

    Returns the number of posts that were new. Runs in one transaction.
    """
    lease = dt.timedelta(seconds=settings.NOJACKAL_POLL_LEASE_SECONDS)
    if connection.vendor == "postgresql" and page.posts:
        created = _store_page_postgresql(source, page, lease)
    else:
        with transaction.atomic():
            created = _store_posts(source, page.posts)
            Source.objects.filter(pk=source.pk).update(
                cursor=page.cursor,
                posts_ingested=F("posts_ingested") + created,
                # The poll is alive: hold the source another lease (a heartbeat per page).
                next_poll_at=timezone.now() + lease,
            )
    source.cursor = page.cursor
    return created


# Longest external id the tables hold (Post.in_reply_to among them).
MAX_ID_CHARS = 255


def _store_posts(source: Source, posts: Iterable[PostData]) -> int:
    """The page's people and posts through the ORM (SQLite); the count of new posts."""
    posts = list({p.external_id: p for p in posts}.values())
    if not posts:
        return 0
    platform = source.platform
    authors = {p.author.external_id: p.author for p in posts}
    Person.objects.bulk_create(
        [
            Person(platform=platform, external_id=a.external_id, **_person_fields(a))
            for a in authors.values()
        ],
        ignore_conflicts=True,
    )
    person_ids = dict(
        Person.objects.filter(platform=platform, external_id__in=list(authors)).values_list(
            "external_id", "pk"
        )
    )
    known = set(
        Post.objects.filter(
            platform=platform, external_id__in=[p.external_id for p in posts]
        ).values_list("external_id", flat=True)
    )
    fresh = [p for p in posts if p.external_id not in known]
    Post.objects.bulk_create(
        [
            Post(
                platform=platform,
                external_id=p.external_id,
                author_id=person_ids[p.author.external_id],
                source=source,
                raw=dict(p.raw),
                **_post_fields(p),
            )
            for p in fresh
        ],
        # A concurrent poll of another source may store the same post first.
        ignore_conflicts=True,
    )
    return len(fresh)


def _person_fields(a: PersonData) -> dict[str, str]:
    """A person's columns as stored: each cut to its column's length."""
    return {
        "handle": a.handle[:255],
        "display_name": a.display_name[:255],
        "profile_url": a.profile_url[:500],
    }


def _post_fields(p: PostData) -> dict[str, Any]:
    """A post's own columns as stored (its id, author, source and raw payload aside)."""
    return {
        "text": p.text,
        "url": p.url[:1000],
        "lang": p.lang[:10],
        "posted_at": p.posted_at,
        # A parent id too long to be one of ours: no parent we could ever find.
        "in_reply_to": p.in_reply_to if len(p.in_reply_to) <= MAX_ID_CHARS else "",
    }


def _columns(model: type[Model], names: Iterable[str]) -> str:
    return ", ".join(connection.ops.quote_name(model._meta.get_field(n).column) for n in names)


def _people_sql() -> str:
    """INSERT of a page's people, known ones left as they are: platform and first seen,
    then one array per column (id, handle, name, profile), written in the arrays' order.
    Built from the models' names only, never from input (S608).

    It also turns off waiting for the disk at this transaction's commit (``quiet``; see
    ``_store_page_postgresql``), which saves the page a round trip of its own."""
    table = connection.ops.quote_name(Person._meta.db_table)
    own = ("external_id", "handle", "display_name", "profile_url")
    names = ("platform", "first_seen_at", *own)
    return (
        "WITH quiet AS (SELECT set_config('synchronous_commit', 'off', true))"  # noqa: S608
        f" INSERT INTO {table} ({_columns(Person, names)})"
        f" SELECT %b, %b, {', '.join(f'incoming.{n}' for n in own)}"
        f" FROM unnest({', '.join(['%b::text[]'] * len(own))}) WITH ORDINALITY"
        f" AS incoming ({', '.join(own)}, n) CROSS JOIN quiet ORDER BY incoming.n"
        " ON CONFLICT (platform, external_id) DO NOTHING"
    )


def _posts_sql() -> str:
    """INSERT of a page's posts: platform, source and fetched at, then one array per column
    (id, author's id, text, url, lang, time, parent, raw JSON); each author's row is joined
    in by the database, known posts are left as they are. The same statement moves the
    source's cursor (cursor, next poll, source id) and counts the posts it stored into it;
    it selects that count. From the models' names only (S608)."""
    post = connection.ops.quote_name(Post._meta.db_table)
    person = connection.ops.quote_name(Person._meta.db_table)
    source = connection.ops.quote_name(Source._meta.db_table)
    own = ("external_id", "text", "url", "lang", "posted_at", "in_reply_to")
    names = ("platform", "author", "source", "fetched_at", *own, "raw")
    arrays = ["%b::text[]"] * 5 + ["%b::timestamptz[]", "%b::text[]", "%b::text[]"]
    ingested = _columns(Source, ("posts_ingested",))
    return (
        "WITH incoming AS (SELECT * FROM unnest("  # noqa: S608
        f"{', '.join(arrays)}) AS incoming"
        " (external_id, author, text, url, lang, posted_at, in_reply_to, raw)),"
        f" stored AS (INSERT INTO {post} ({_columns(Post, names)})"
        f" SELECT platform.value, person.id, %b, %b,"
        f" {', '.join(f'incoming.{n}' for n in own)}, incoming.raw::jsonb"
        " FROM (SELECT %b::text AS value) platform CROSS JOIN incoming"
        f" JOIN {person} person"
        " ON person.platform = platform.value AND person.external_id = incoming.author"
        " ON CONFLICT (platform, external_id) DO NOTHING RETURNING 1),"
        f" moved AS (UPDATE {source} SET {_columns(Source, ('cursor',))} = %b,"
        f" {ingested} = {ingested} + (SELECT count(*) FROM stored),"
        f" {_columns(Source, ('next_poll_at',))} = %b WHERE id = %b)"
        " SELECT count(*) FROM stored"
    )


def _store_page_postgresql(source: Source, page: Page, lease: dt.timedelta) -> int:
    """The page in two statements whatever its size: its people (ON CONFLICT DO NOTHING),
    then its posts, their authors' ids joined in by the database, with the source's
    cursor moved in the same statement; it counts the posts it inserted, the new ones.

    Each column travels as one array parameter, apart from the SQL and in PostgreSQL's
    binary format (server-side binding): no escaping or quoting of any value, above all
    of the raw payloads, in Python, and the same short statement every page. Both were
    most of a page's time with the SQL built around the values (Django's client-side
    binding: its UNNEST arrays' escaping, then one placeholder per value, each parsed
    again for every page). The people go first in a statement of their own, so that the
    posts' statement sees every author, those a concurrent poll committed meanwhile
    too. People are written in id order, so two polls sharing authors lock them in the
    same order.

    The page and its cursor commit together or not at all, so a commit lost in a crash
    only takes the cursor back with its posts, which are fetched again: the commit does
    not wait for the disk (a later commit that depends on these posts, a detection,
    flushes them with it).
    """
    platform = source.platform
    now = timezone.now()
    posts = list({p.external_id: p for p in page.posts}.values())
    authors = sorted({p.author.external_id: p.author for p in posts}.items())
    people: list[list[str]] = [[], [], [], []]
    for external_id, a in authors:
        people[0].append(external_id)
        for column, value in zip(people[1:], _person_fields(a).values(), strict=True):
            column.append(value)
    columns: list[list[Any]] = [[], [], [], [], [], [], [], []]
    for p in posts:
        fields = _post_fields(p)
        for column, value in zip(
            columns,
            (
                p.external_id,
                p.author.external_id,
                fields["text"],
                fields["url"],
                fields["lang"],
                fields["posted_at"],
                fields["in_reply_to"],
                p.raw_json,
            ),
            strict=True,
        ):
            column.append(value)
    with transaction.atomic(), _bound_cursor() as cursor:
        cursor.execute(_people_sql(), [platform, now, *people])
        cursor.execute(
            _posts_sql(),
            [*columns, source.pk, now, platform, page.cursor, now + lease, source.pk],
        )
        return int(cursor.fetchone()[0])


def _bound_cursor() -> Any:
    """A Django cursor on the default connection that sends parameters apart from the SQL
    (psycopg's server-side binding; Django's own cursors bind on the client). Logged and
    counted like any other query."""
    import psycopg

    connection.ensure_connection()
    cursor = psycopg.Cursor(connection.connection)
    # The stubs take the wrapper for the cursor it wraps.
    if connection.queries_logged:
        return connection.make_debug_cursor(cursor)  # type: ignore[arg-type]
    return connection.make_cursor(cursor)  # type: ignore[arg-type]


def poll(source_id: int) -> int:
    """Fetch a source from its cursor and store the posts; return how many were new.

    Transient failures back the source off; permanent ones disable it with the
    platform's message. Pages stored before a failure stay stored.
    """
    try:
        source = Source.objects.select_related("account").get(pk=source_id)
    except Source.DoesNotExist:
        log.info("source %s no longer exists", source_id)
        return 0
    if not source.enabled:
        return 0
    account = source.account
    if (
        account is not None
        and account.rate_limited_until
        and account.rate_limited_until > timezone.now()
    ):
        # The account's budget is shared by every source and sender using it:
        # wait for its window instead of spending a request on a refusal.
        Source.objects.filter(pk=source.pk).update(next_poll_at=account.rate_limited_until)
        return 0
    query = SearchQuery(
        terms=tuple(source.terms),
        exclusions=tuple(source.exclusions),
        language=source.language,
        options=source.options,
    )
    created = 0
    rate_limit: RateLimit | None = None
    try:
        credentials, options = source.adapter_settings()
        adapter = get_platform(source.platform, credentials=credentials, options=options)
        for _ in range(settings.NOJACKAL_MAX_PAGES_PER_POLL):
            page = adapter.search(query, source.cursor)
            created += store_page(source, page)
            rate_limit = page.rate_limit or rate_limit
            if page.skipped:
                log.warning("source %s: %d malformed item(s) skipped", source.pk, page.skipped)
            if not page.has_more:
                break
    except TransientError as exc:
        _back_off(source, str(exc), retry_after=exc.retry_after, raw=exc.raw)
        if exc.retry_after is not None:
            _account_limited(source, timezone.now() + dt.timedelta(seconds=exc.retry_after))
    except PermanentError as exc:
        # Authentication and configuration: polling again will not help until a person acts.
        _disable(source, str(exc), raw=exc.raw)
    except Exception as exc:
        # A bug or an unexpected reply: keep the source, but do not hammer it.
        log.exception("source %s: unexpected error while polling", source.pk)
        _back_off(source, f"unexpected error: {exc!r}")
    else:
        _succeeded(source, rate_limit)
    return created


def _account_limited(source: Source, until: dt.datetime) -> None:
    """Record that the source's account may not call the platform before ``until``."""
    if source.account_id is None:
        return
    Account.objects.filter(pk=source.account_id).filter(
        Q(rate_limited_until__isnull=True) | Q(rate_limited_until__lt=until)
    ).update(rate_limited_until=until)


def _succeeded(source: Source, rate_limit: RateLimit | None) -> None:
    now = timezone.now()
    next_poll = now + dt.timedelta(seconds=source.cadence_seconds)
    # Slow down before the platform makes us: when the remaining budget is
    # nearly gone, wait for the window to reset.
    if (
        rate_limit
        and rate_limit.remaining is not None
        and rate_limit.reset_at is not None
        and rate_limit.remaining <= 1
    ):
        next_poll = max(next_poll, rate_limit.reset_at)
        _account_limited(source, rate_limit.reset_at)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Like the pages', this commit does not wait for the disk: lost in a crash,
            # the source is polled again when its lease ends, as after any crash. It was
            # a poll's one wait for the disk, behind every other writer's.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        Source.objects.filter(pk=source.pk).update(
            next_poll_at=next_poll,
            last_polled_at=now,
            last_success_at=now,
            failure_count=0,
            last_error="",
            failing_since=None,  # the episode is over; the next one gets its own alert
            alerted_at=None,
        )


def backoff_delay(failures: int, retry_after: float | None = None) -> float:
    """Seconds to wait after ``failures`` consecutive failures: exponential, capped, jittered."""
    base = settings.NOJACKAL_BACKOFF_BASE_SECONDS
    ceiling = settings.NOJACKAL_BACKOFF_MAX_SECONDS
    delay = min(ceiling, base * 2 ** max(0, failures - 1))
    # Full jitter on the upper half, so many sources that failed together do not
    # all come back at the same second.
    delay = delay / 2 + random.uniform(0, delay / 2)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def _back_off(
    source: Source, message: str, *, retry_after: float | None = None, raw: str = ""
) -> None:
    now = timezone.now()
    failures = source.failure_count + 1
    delay = backoff_delay(failures, retry_after)
    log.warning("source %s: transient error, retrying in %.0fs: %s", source.pk, delay, message)
    updates: dict[str, object] = {
        "failure_count": failures,
        "next_poll_at": now + dt.timedelta(seconds=delay),
        "last_polled_at": now,
        "last_error": message[:2000],
        "last_error_at": now,
    }
    if raw:
        updates["last_raw_answer"] = raw
    Source.objects.filter(pk=source.pk).update(**updates)
    Source.objects.filter(pk=source.pk, failing_since__isnull=True).update(failing_since=now)
    failing_since = Source.objects.filter(pk=source.pk).values_list("failing_since", flat=True)[0]
    alert_after = dt.timedelta(seconds=settings.NOJACKAL_SOURCE_ALERT_AFTER_SECONDS)
    if failing_since is not None and now - failing_since >= alert_after:
        _alert_once(source, f"failing since {failing_since:%Y-%m-%d %H:%M} UTC", message)


def _disable(source: Source, message: str, *, raw: str = "") -> None:
    now = timezone.now()
    log.error("source %s disabled: %s", source.pk, message)
    updates: dict[str, object] = {
        "enabled": False,
        "disabled_reason": message[:2000],
        "last_error": message[:2000],
        "last_error_at": now,
        "last_polled_at": now,
    }
    if raw:
        updates["last_raw_answer"] = raw
    Source.objects.filter(pk=source.pk).update(**updates)
    Source.objects.filter(pk=source.pk, failing_since__isnull=True).update(failing_since=now)
    _alert_once(source, "disabled", message)


def _alert_once(source: Source, state: str, message: str) -> None:
    """Tell the team about this source's episode, unless it was told already (compare-and-set)."""
    if not Source.objects.filter(pk=source.pk, alerted_at__isnull=True).update(
        alerted_at=timezone.now()
    ):
        return
    from monitoring import alerts

    subject = f"[nojackal] source {source.name} ({source.get_platform_display()}) is {state}"
    body = (
        f"Listening on {source.get_platform_display()} for source {source.name!r} has stopped "
        f"working: {state}.\n\nThe platform said: {message}\n\n"
        + (
            "Fix the source's credentials or settings, then press Enable in the admin."
            if state == "disabled"
            else "It is retried with back-off; nothing to do unless it keeps failing."
        )
        + f"\n\nSource #{source.pk} in the admin.\n"
    )
    try:
        alerts.send(subject, body)
    except Exception:  # the source's state is recorded; a broken channel is only logged
        log.exception("could not alert the team about source %s", source.pk)
