"""The background steps of ``bench/scale.py``: detection, triage, incidents, caps, one send,
one notification match and the expiry ticks, on a database built by ``bench/scale_data.py``.

``measure(size)`` is called with Django connected to that database. Every run of
a step happens inside a transaction that is rolled back afterwards, so each run
sees the same database and the history is never changed by the bench; what the
step needs that the history lacks (fresh posts to detect, a fresh account to send
from, a stub platform) is made in that transaction before the clock starts.

- detect batch: ``triage.detect_pending`` on 50 fresh posts at the head of the
  queue (the history's own posts are taken off the queue once, up front: a
  working pipeline has judged them);
- incident assign: those 50 detections joining the open incident they belong to
  (``incidents.assign``; made in the run, so the subject is the same at every size);
- triage batch: the outreach triage of those 50 (``Batch.read`` + ``open_case``);
- incident refresh: ``incidents.refresh`` of the biggest incident, kept open;
- caps: ``caps.opening``, ``caps.approval``, ``caps.send_slot`` and
  ``caps.sending`` for a queued competitor reply of the history (own-brand replies
  are not paced: the checks return before any count), from a fresh account under
  caps too generous to be reached, so that every count of each check runs;
- one send: ``dispatch.send_action`` of a queued own-brand reply, from a fresh
  account (the history's accounts are busy at its pace), to a stub platform that
  answers at once: the dispatcher's own cost, without a network;
- notification match: ``engagement.match_case_id`` for a favourite of one of our
  sent replies (by the replied-to id) and for a mention (by the person);
- expiry ticks: what each tick reads to find its cases
  (``queries.unanswered_case_ids``, ``queries.stale_case_ids``,
  ``expiry.due_alert_candidates``); the moves it then makes cost the same per case.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.scale_data import Measured, biggest_incident, runs

BATCH = 50


class Rollback(Exception):
    """Raised at the end of each run to undo it."""


def timed(name: str, setup: Callable[[], Any], step: Callable[[Any], object]) -> Measured:
    """Median ms and the query count of ``step(setup())``, each run in a transaction
    rolled back afterwards (one warm-up run first); ``setup`` is not timed."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    elapsed: list[float] = []
    queries = 0
    for run in range(runs() + 1):
        try:
            with transaction.atomic():
                subject = setup()
                # The log is a bounded deque: once full, a capture would count nothing.
                connection.queries_log.clear()
                with CaptureQueriesContext(connection) as ctx:
                    started = time.perf_counter()
                    step(subject)
                    took = (time.perf_counter() - started) * 1000
                raise Rollback
        except Rollback:
            pass
        if run:  # the first is the warm-up
            elapsed.append(took)
            queries = len(ctx.captured_queries)
    return Measured(f"step: {name}", statistics.median(elapsed), queries)


class StubPlatform:
    """A platform that accepts every reply at once (the dispatcher is the subject)."""

    def reply(self, *, in_reply_to: str, text: str, idempotency_key: str) -> Any:
        from monitoring.platforms import Sent

        return Sent(external_id=f"stub-{idempotency_key}", url="")

    def find_reply(self, **kwargs: Any) -> None:
        return None

    def follow(self, person_external_id: str) -> Any:
        from monitoring.platforms import Sent

        return Sent(external_id=f"follow-{person_external_id}")


class FakeModel:
    """The classifier's cost is bench/classifier.py's; here every post is a complaint."""

    TOPIC = "outage"

    def predict(self, texts: list[str]) -> list[Any]:
        from types import SimpleNamespace

        return [
            SimpleNamespace(complaint=True, score=0.9, sentiment=-0.6, topic=self.TOPIC, model="b")
            for _ in texts
        ]


def _clear_history_queue() -> None:
    """The history is judged: take its posts off the detection queue (once, kept)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE monitoring_post SET awaiting_detection = false WHERE awaiting_detection"
        )
        if cursor.rowcount:
            cursor.execute("VACUUM ANALYZE monitoring_post")


def _fresh_posts(n: int = BATCH) -> list[int]:
    """``n`` new complaints about our own brand from new people, posted a minute ago
    (own-brand: every one opens a case, where a competitor's daily cap, full in the
    history, would refuse them; the competitor's cap is the "cap opening" row)."""
    from django.utils import timezone

    from monitoring.models import Brand, Person, Post

    brand = Brand.objects.filter(kind=Brand.Kind.OWN).order_by("pk").first()
    assert brand is not None
    stamp = time.monotonic_ns()
    people = Person.objects.bulk_create(
        Person(platform="mastodon", external_id=f"bench-{stamp}-{i}", handle=f"b{stamp}_{i}")
        for i in range(n)
    )
    posted = timezone.now() - dt.timedelta(minutes=1)
    posts = Post.objects.bulk_create(
        Post(
            platform="mastodon",
            external_id=f"bench-{stamp}-{i}",
            author=person,
            text=f"{brand.name} is down again, third time this week",
            posted_at=posted,
        )
        for i, person in enumerate(people)
    )
    return [p.pk for p in posts]


def _detected(n: int = BATCH) -> list[int]:
    from monitoring import triage

    _fresh_posts(n)
    return triage.detect_pending(n)


def _joining(n: int = BATCH) -> list[int]:
    """``n`` fresh complaints and the open incident they join: our brand's outage, which
    began an hour ago and was seen a minute ago (the same at every size: without it, the
    first complaint would form an incident with whatever isolated ones the history holds
    within the gap, a count that differs from one history to the next)."""
    from django.utils import timezone

    from monitoring.models import Brand, Incident

    now = timezone.now()
    Incident.objects.create(
        brand=Brand.objects.filter(kind=Brand.Kind.OWN).order_by("pk").first(),
        topic=FakeModel.TOPIC,
        state=Incident.State.ACTIVE,
        first_seen_at=now - dt.timedelta(hours=1),
        last_seen_at=now - dt.timedelta(minutes=1),
    )
    return _detected(n)


def listening_rows() -> list[Measured]:
    from django.utils import timezone

    from monitoring import incidents, triage
    from monitoring.models import Incident
    from outreach.workflow.triage import triage as outreach_triage

    biggest = biggest_incident()

    def keep_open() -> int:
        # Seen a minute ago, so the refresh computes its rates instead of closing it.
        Incident.objects.filter(pk=biggest.pk).update(
            state=Incident.State.ACTIVE, last_seen_at=timezone.now() - dt.timedelta(minutes=1)
        )
        return biggest.pk

    def triaged(ids: list[int]) -> None:
        counts = outreach_triage(ids)
        assert counts == {"opened": len(ids)}, counts

    return [
        timed(
            f"detect batch ({BATCH} posts)", _fresh_posts, lambda _: triage.detect_pending(BATCH)
        ),
        timed(f"incident assign ({BATCH}, joining an open incident)", _joining, incidents.assign),
        timed(f"triage batch ({BATCH})", _detected, triaged),
        timed("incident refresh (biggest)", keep_open, lambda pk: incidents.refresh(pk)),
    ]


def _queued_reply(kind: str) -> Any:
    """A queued (pending) reply of the history's approved cases of ``kind``."""
    from outreach.models import OutboundAction

    action = (
        OutboundAction.objects.filter(
            state=OutboundAction.State.PENDING,
            kind=OutboundAction.Kind.REPLY,
            case__stage="approved",
            case__kind=kind,
            # The same checks at every size: an incident's case counts one more.
            case__incident__isnull=True,
        )
        .select_related("case__playbook", "case__brand", "account")
        .order_by("-pk")
        .first()
    )
    assert action is not None, f"the scale data has a queued {kind} reply"
    return action


def outbox_rows() -> list[Measured]:
    from django.utils import timezone

    from monitoring.models import Account, Brand
    from outreach import dispatch
    from outreach.models import Case, OutboundAction, Playbook
    from outreach.workflow import caps

    competitor = _queued_reply("competitor")
    own = _queued_reply("own_brand")
    stamp = iter(range(1_000_000))

    def fresh_account(platform: str) -> Account:
        # A fresh account: a send goes out rather than waiting for the history's busy
        # accounts, and its hourly caps are not reached. Rolled back with the run.
        return Account.objects.create(
            platform=platform,
            handle=f"bench_{next(stamp)}_{time.monotonic_ns()}",
            max_sends_per_hour=10_000,
        )

    def ready_to_send() -> int:
        # Service replies are not paced, but the caps of their playbook are lifted all the
        # same, so that nothing in the history holds this send back.
        Playbook.objects.filter(kind="own_brand").update(
            max_replies_per_brand_per_day=1_000_000,
            max_replies_per_account_per_hour=1_000_000,
            max_replies_per_incident=1_000_000,
        )
        account = fresh_account(own.case.platform)
        OutboundAction.objects.filter(pk=own.pk).update(
            account=account, not_before=timezone.now() - dt.timedelta(seconds=1)
        )
        return own.pk

    paced = competitor.case

    def unpaced_competitor() -> Account:
        # The competitor caps cannot be raised past their ceilings (and the history,
        # loaded without them, is over them): the reply is moved to a competitor brand
        # of its own and a fresh account, so that no cap is reached and every count of
        # each check runs against the whole history's outbox and cases.
        brand = Brand.objects.create(
            name=f"Bench{next(stamp)}x{time.monotonic_ns()}", kind=Brand.Kind.COMPETITOR
        )
        Case.objects.filter(pk=paced.pk).update(brand=brand)
        paced.brand, paced.brand_id = brand, brand.pk
        account = fresh_account(paced.platform)
        OutboundAction.objects.filter(pk=competitor.pk).update(account=account)
        competitor.account_id = account.pk
        return account

    def unreached(cap: object) -> None:
        # A reached cap returns before its last counts: the row would measure less.
        assert cap is None, cap

    # The caps pace competitor outreach only (an own-brand reply is service: every check
    # returns at once, without a query), so they are measured on a competitor's reply.
    # Opening counts the brand's day and the incident in one query, reached or not: it
    # is measured on the history's own brand.
    history_brand = paced.brand
    rows = [
        timed(
            "cap opening (brand per day)",
            lambda: None,
            lambda _: caps.opening(
                history_brand, paced.playbook, paced.incident_id, timezone.now()
            ),
        ),
        timed(
            "cap approval (brand per day, account per hour)",
            unpaced_competitor,
            lambda a: unreached(caps.approval(paced, a, timezone.now())),
        ),
        timed(
            "cap send slot (account spacing)",
            unpaced_competitor,
            lambda a: caps.send_slot(paced, a, timezone.now()),
        ),
        timed(
            "cap sending (account hour, brand day)",
            unpaced_competitor,
            lambda _: unreached(caps.sending(competitor, paced, timezone.now())),
        ),
    ]

    def send(pk: int) -> None:
        outcome = dispatch.send_action(pk)
        assert outcome.result == "sent", outcome

    original = dispatch.platform_for
    dispatch.platform_for = lambda account: StubPlatform()  # type: ignore[assignment]
    try:
        rows.append(timed("one send (stub platform)", ready_to_send, send))
    finally:
        dispatch.platform_for = original  # type: ignore[assignment]
    return rows


def engagement_rows() -> list[Measured]:
    from django.utils import timezone

    from monitoring.platforms.base import Notification, PersonData
    from outreach import engagement
    from outreach.models import OutboundAction

    sent = (
        OutboundAction.objects.filter(state=OutboundAction.State.SENT, kind="reply")
        .select_related("case__person", "account")
        .order_by("-pk")
        .first()
    )
    assert sent is not None
    person = PersonData(external_id=sent.case.person.external_id, handle=sent.case.person.handle)
    favourite = Notification(
        external_id="bench-fav",
        kind="favourite",
        person=person,
        created_at=timezone.now(),
        subject_id=sent.external_id,
    )
    mention = Notification(
        external_id="bench-mention", kind="mention", person=person, created_at=timezone.now()
    )

    def match(note: Notification) -> None:
        assert engagement.match_case_id(sent.account, note) == sent.case_id

    return [
        timed("notification match (our reply)", lambda: favourite, match),
        timed("notification match (mention)", lambda: mention, match),
    ]


def expiry_rows() -> list[Measured]:
    from django.utils import timezone

    from outreach import expiry, queries

    return [
        timed(
            "tick close_unanswered (find)",
            lambda: None,
            lambda _: queries.unanswered_case_ids(timezone.now()),
        ),
        timed(
            "tick expire_stale (find)",
            lambda: None,
            lambda _: queries.stale_case_ids(timezone.now()),
        ),
        timed(
            "tick alert_due_own_brand (find)",
            lambda: None,
            lambda _: expiry.due_alert_candidates(timezone.now()),
        ),
    ]


def measure(size: int) -> list[Measured]:
    """Every background step at this size (Django connected to the built database)."""
    from monitoring import triage

    _clear_history_queue()
    original = triage.active_model
    triage.active_model = FakeModel  # type: ignore[assignment]
    try:
        return [*listening_rows(), *outbox_rows(), *engagement_rows(), *expiry_rows()]
    finally:
        triage.active_model = original  # type: ignore[assignment]
