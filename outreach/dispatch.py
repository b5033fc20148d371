"""The outbox dispatcher: send approved actions exactly once, re-checking every rule.

An ``OutboundAction`` is the intent, recorded before any network call. Sending
one goes ``pending -> sending -> sent | failed | cancelled``:

1. **Claim** by compare-and-set (``pending -> sending`` where ``not_before <=
   now``; service rows, those of own-brand cases, first). While a row is
   ``sending``, ``not_before`` holds the end of the claim's lease, and the old
   value is the fencing token every later write compares against, so a worker
   that lost its claim cannot overwrite a newer one. The claim is taken under a
   lock on the account row, which keeps one send per account in flight and
   spaces competitor sends out with jitter (``workflow.caps.claim_wait``:
   service replies are paced only by the platform).
   The lease is short (``NOJACKAL_OUTBOX_LEASE_SECONDS``) and renewed by a
   heartbeat while the adapter call runs, so a dead worker's row is taken back
   within a lease and a tick, and never holds its account's other rows longer.
2. **Reconcile** when an earlier attempt may have posted (``outcome_unknown_since``
   set: a worker killed mid-send, a timeout or a reset after the request went out,
   a 2xx we could not read, a 5xx to a post; or any earlier claim): ask the
   platform for our reply (``find_reply``) *before* anything else; a reply found
   is recorded, not posted again. Such a row is never failed on a guess: only the
   platform's answer (a 4xx refusal, or ``find_reply`` saying nothing is there)
   decides. A follow is idempotent: an unknown follow is simply retried.
3. **Re-check** what may have changed since approval (do-not-contact, the
   case's stage, the approved text, freshness, caps, follow only after
   engagement, the account's rate-limit state). A rule that will not change
   refuses the send with a recorded reason; a cap or a rate limit only defers it.
4. **Hash what is posted** (rule 3): the text handed to the adapter is the one
   string whose SHA-256 was just compared with the approving draft's
   ``approved_text_hash``. ``OutboundAction.text_hash`` is only a copy made at
   approval, so a row changed behind the workflow fails here, named, audited.
5. **Send** through the adapter with the action's idempotency key, then record
   sent (``workflow.mark_reply_sent`` for the first reply, the own-brand
   request to amend the post and the answers after engagement, which answer
   ``in_reply_to``; ``workflow.mark_followed`` for a follow) or failed. ``TransientError``
   goes back to pending with exponential backoff and jitter up to a ceiling of
   attempts; ``UnknownOutcome`` goes back to pending marked "outcome unknown"
   (no ceiling: the next attempt asks the platform); ``PermanentError`` fails the
   action and the case and tells the team.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Case as DbCase
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from monitoring.ingest import backoff_delay
from monitoring.models import Account
from monitoring.platforms import (
    NotSupported,
    PermanentError,
    Platform,
    Sent,
    TransientError,
    UnknownOutcome,
)
from outreach import erasure, workflow
from outreach.models import (
    TEXT_KINDS,
    Case,
    OutboundAction,
    PlaybookKind,
    text_hash,
)
from outreach.workflow import caps, events

log = logging.getLogger(__name__)

State = OutboundAction.State
Kind = OutboundAction.Kind

# Short, because a heartbeat renews it every third of it while the adapter call
# runs: a send in flight keeps its claim, a dead worker's row is taken back after
# one lease (and the next tick), not after the longest HTTP timeout.
DEFAULT_LEASE_SECONDS = 30
DEFAULT_MAX_ATTEMPTS = 8
BATCH_SIZE = 200


def lease_seconds() -> float:
    """How long a claim lasts before the row counts as abandoned (a crashed worker)."""
    return float(getattr(settings, "NOJACKAL_OUTBOX_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))


def longest_hold_seconds() -> float:
    """How long the heartbeat may keep one claim alive: the task's hard time limit.

    A call hung longer than that is killed by Celery anyway; past it the claim
    lapses and the row is reconciled by the next dispatcher."""
    return float(getattr(settings, "CELERY_TASK_TIME_LIMIT", None) or 300)


def max_attempts() -> int:
    """After this many transient failures an action fails for good."""
    return int(getattr(settings, "NOJACKAL_OUTBOX_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))


@dataclass(frozen=True)
class Outcome:
    """What one call of ``send_action`` did. ``result`` is one of ``RESULTS``."""

    action_id: int
    result: str
    detail: str = ""


RESULTS = (
    "sent",  # posted now
    "reconciled",  # an earlier attempt had posted it; recorded, nothing posted
    "deferred",  # a cap, the spacing or a rate limit: back to pending, later
    "retry",  # a transient platform error: back to pending with backoff
    "unknown",  # may have reached the platform: back to pending, reconciled first next time
    "refused",  # a rule refused it at send time: cancelled, reason recorded
    "failed",  # the platform refused it, or too many attempts
    "skipped",  # not due, or another dispatcher holds it
)


# --- Which rows are due --------------------------------------------------------------


def _is_due(now: dt.datetime) -> Q:
    """Pending actions whose time has come and sending ones whose lease ran out. The
    states as the partial index action_account_queue names them, so that an account's
    due rows are read from its queue, not its sent history."""
    return Q(state__in=(State.PENDING, State.SENDING), not_before__lte=now)


def _due_rows(now: dt.datetime) -> QuerySet[OutboundAction]:
    """The due rows (``_is_due``); ``lane`` 0 for service (own-brand) rows."""
    # The (state, not_before) index walks them; the due rows are few.
    return OutboundAction.objects.filter(_is_due(now)).annotate(lane=_LANE)


# Service rows (those of own-brand cases) go first.
_LANE = DbCase(When(case__kind=PlaybookKind.OWN_BRAND, then=Value(0)), default=Value(1))


def _due(now: dt.datetime) -> QuerySet[OutboundAction]:
    """The due rows (``_due_rows``) of accounts with no send in flight."""
    # An account with a send in flight sends nothing else until it ends: its rows are
    # left for a later look rather than claimed only to be deferred (the claim still
    # decides, under the account's lock). A probe of action_account_slot per row.
    in_flight = OutboundAction.objects.filter(
        account_id=OuterRef("account_id"), state=State.SENDING, not_before__gt=now
    )
    return _due_rows(now).filter(~Exists(in_flight))


# The order in which due rows go: service rows first, then by due time.
_TURN = ("lane", "not_before", "pk")


def due_action_ids(*, now: dt.datetime | None = None, limit: int = BATCH_SIZE) -> list[int]:
    """The first due action of each account (service rows first, then by due time): what
    the tick queues. An account sends one row at a time, so its later rows are not
    queued beside the first, where each would be claimed only to find the account busy;
    ``send_due`` sends them one after the other once the first has gone."""
    now = now or timezone.now()
    turn = [F(name).asc() for name in _TURN]
    return list(
        _due(now)
        .annotate(place=Window(RowNumber(), partition_by=F("account_id"), order_by=turn))
        .filter(place=1)
        .order_by(*_TURN)
        .values_list("pk", flat=True)[:limit]
    )


# After these the account is free at once: its next due row may go in the same task.
# A deferral, a retry or an unknown outcome says the account must wait; a skip, that
# another dispatcher has it.
_ACCOUNT_FREE = frozenset({"sent", "reconciled", "refused", "failed"})
DRAIN_LIMIT = 50


def send_due(
    action_id: int, *, now: dt.datetime | None = None, limit: int = DRAIN_LIMIT
) -> list[Outcome]:
    """Send ``action_id``, then its account's next due rows one after the other while
    each send leaves the account free: at most ``limit`` sends, none started after a third
    of the task's time limit (each is a whole ``send_action``, every rule checked again).

    The tick queues only each account's first due row; the rest follow here, without a
    round trip through the broker or a claim that finds the account busy. Each next row
    is found by the claim's own read (the account's first due row, service rows first);
    the account's adapter (its connection to the platform) serves the whole drain, and
    the erasure salt (the do-not-contact check hashes with it) is read once."""
    with erasure.salt_read_once():
        return _drain(action_id, now or timezone.now(), limit)


def _drain(action_id: int, now: dt.datetime, limit: int) -> list[Outcome]:
    """``send_due``'s loop: the outcome of each send, in order."""
    deadline = time.monotonic() + longest_hold_seconds() / 3
    adapters: dict[int, Platform] = {}
    claimed: _Claim | Outcome | _Spaced | None = _claim(action_id, now)
    account_id = claimed.action.account_id if isinstance(claimed, _Claim) else None
    outcome = _send(claimed, now, adapters)
    outcomes = [outcome]
    while (
        outcome.result in _ACCOUNT_FREE
        and account_id is not None
        and len(outcomes) < limit
        and time.monotonic() < deadline
    ):
        now = timezone.now()
        claimed = _claim_next(account_id, now)
        if claimed is None:
            break  # nothing due, a send in flight, or another dispatcher has the account
        if isinstance(claimed, _Spaced):
            # The account's spacing (with its jitter) frees it within a moment: wait
            # here, then claim again (every check again), rather than defer the row to
            # the next tick.
            time.sleep(max(0.0, (claimed.until - timezone.now()).total_seconds()))
            continue
        outcome = _send(claimed, now, adapters)
        outcomes.append(outcome)
    return outcomes


def dispatch_due(*, now: dt.datetime | None = None, limit: int = BATCH_SIZE) -> dict[str, int]:
    """Send every due action in this process, account after account; counts per result."""
    counts = dict.fromkeys(RESULTS, 0)
    for pk in due_action_ids(now=now, limit=limit):
        for outcome in send_due(pk, now=now):
            counts[outcome.result] += 1
    return counts


# --- Small helpers ------------------------------------------------------------------


def platform_for(account: Account) -> Platform:
    """The adapter for ``account``, with its decrypted credentials (never logged).

    A seam of its own so that tests can hand the dispatcher and the notification
    reader a faulty adapter."""
    return account.adapter()


def tell_team(subject: str, body: str) -> None:
    """Alert the team; a broken alert channel is logged, never undoes what was recorded."""
    try:
        from monitoring import alerts

        alerts.send(subject, body)
    except Exception:  # the outbox row is already recorded; keep going
        log.exception("could not alert the team: %s", subject)


def _jitter(spacing: float) -> dt.timedelta:
    return dt.timedelta(seconds=random.uniform(0, max(0.0, spacing) / 4))


def _spacing(account: Account) -> float:
    """Seconds between two sends from one account: its hourly cap spread over the hour."""
    return caps.spacing(account).total_seconds()


def _pacing_jitter(account: Account, kind: str, *, busy: bool = False) -> dt.timedelta:
    """Jitter on a deferred send, so competitor outreach never goes out on a visible beat;
    none for a service reply (it is not paced). Behind a send in flight, at most a
    quarter lease: the row must not wait much longer than that claim's lease."""
    if not caps.paced(kind):
        return dt.timedelta(0)
    spacing = _spacing(account)
    return _jitter(min(spacing, lease_seconds()) if busy else spacing)


# --- Claiming -------------------------------------------------------------------------


@dataclass
class _Claim:
    action: OutboundAction
    token: dt.datetime  # not_before as written by our claim: the fencing token
    reclaimed: bool  # a previous claim existed (crash, timeout): reconcile first


def _claim(action_id: int, now: dt.datetime) -> _Claim | Outcome:
    """Compare-and-set ``action_id`` to sending under the account lock, or say why not."""
    claimed = _claim_first(OutboundAction.objects.filter(_is_due(now), pk=action_id), now)
    assert not isinstance(claimed, _Spaced)  # no patience: a spacing wait is a deferral
    return claimed or _not_claimable(action_id, now)


@dataclass(frozen=True)
class _Spaced:
    """The account's next send may go at ``until`` (its spacing, with jitter), soon."""

    until: dt.datetime


# How long a drain waits for the account's spacing rather than defer its next row to a
# later tick: only an account allowed many sends an hour is spaced this closely.
DRAIN_PATIENCE = dt.timedelta(seconds=1)


def _claim_next(account_id: int, now: dt.datetime) -> _Claim | Outcome | _Spaced | None:
    """The same for the account's first due row (service rows first, then by due time);
    None when there is none, a send of the account is in flight, or another dispatcher
    holds the account's lock; ``_Spaced`` when the account's spacing frees it within
    ``DRAIN_PATIENCE`` (nothing is written: the drain waits and claims again)."""
    # The turn is taken over the queue's narrow rows; only the first is read whole, with
    # its case, draft and account (a backlog is not joined and sorted wide).
    first = _next_rows(account_id, now).values("pk")[:1]
    rows = OutboundAction.objects.filter(pk=Subquery(first))
    return _claim_first(rows, now, patience=DRAIN_PATIENCE)


def _next_rows(account_id: int, now: dt.datetime) -> QuerySet[OutboundAction]:
    """The account's due rows in their turn: the drain claims the first."""
    # A send in flight is seen under the lock (claim_wait), not filtered out beforehand
    # as the tick's ``_due`` does: the drain then stops and leaves the row as it is.
    return _due_rows(now).filter(account_id=account_id).order_by(*_TURN)


def _claim_first(
    rows: QuerySet[OutboundAction], now: dt.datetime, *, patience: dt.timedelta | None = None
) -> _Claim | Outcome | _Spaced | None:
    """Claim the first of the due ``rows``, or say why not; None if there is none or its
    account is locked by another dispatcher. ``patience`` (a drain's next row): None as
    well when another send of the account is in flight, and a spacing wait no longer than
    this is returned as ``_Spaced``; neither defers the row."""
    with transaction.atomic():
        # One send per account at a time, spaced out: the account row lock makes
        # the look at its other rows and our claim one step for every dispatcher.
        # A dispatcher that finds the lock taken moves on rather than queueing
        # behind it: the other one is claiming for this account right now anyway.
        action = _load(rows)
        if action is None:
            return None
        action_id = action.pk
        kind = action.case.kind
        # The platform's limits, one send in flight, and for competitor outreach the
        # spacing: outreach.workflow.caps decides (the case page's forecast asks it too).
        # A statement of its own after the lock: it sees every claim committed before.
        wait = caps.claim_wait(
            action.account,
            kind,
            now,
            exclude=action_id,
            busy_recheck=dt.timedelta(seconds=lease_seconds() / 3),
        )
        if wait is not None:
            assert wait.until is not None  # every claim wait frees up
            busy = wait.code == "busy"
            until = wait.until + _pacing_jitter(action.account, kind, busy=busy)
            if patience is not None and busy:
                return None
            if patience is not None and wait.code == "spacing" and until - now <= patience:
                return _Spaced(until)
            return _defer_pending(action, until, wait.message)
        token = now + dt.timedelta(seconds=lease_seconds())
        # A follow is idempotent: an abandoned one is simply sent again.
        # A claim whose lease ran out: its worker died (or hung) mid-send, and
        # whether the platform got the post is unknown until it is asked.
        abandoned = action.state == State.SENDING and action.kind in TEXT_KINDS
        taken = _take(action, token, now, abandoned=abandoned)
    if taken is None:
        return Outcome(action_id, "skipped", "another dispatcher claimed it")
    # The row as our claim left it (the rest of it was read with the lock, above), and
    # its case as it is now.
    action.state, action.not_before = State.SENDING, token
    action.attempts, action.outcome_unknown_since = taken
    action.case = _case_for_send(action.case_id)
    if abandoned:
        events.happened(
            action.case,
            action="send_outcome_unknown",
            note=f"{action.get_kind_display()}: the worker stopped during the send "
            "(its lease ran out); the platform is asked before anything is sent again",
        )
    # attempts counts claims: more than one means an earlier claim may have posted.
    reclaimed = action.attempts > 1 or action.outcome_unknown_since is not None
    return _Claim(action, token, reclaimed=reclaimed)


# What the claim reads with the row, in the statement that takes the account's lock: the
# case (its kind decides the lane and the pacing), the approving draft (the text's hash)
# and the account with every field the caps and the adapter read. The case's post, person
# and playbook follow in a statement of their own (``_case_for_send``): one query of seven
# tables costs PostgreSQL more to plan than two of four.
_LOADED = ("case", "account", "draft")


def _load(rows: QuerySet[OutboundAction]) -> OutboundAction | None:
    """The first of the due ``rows`` with its case, draft and account, in one statement
    that also takes the account's lock (only that row: the action itself is claimed by
    the compare-and-set, ``_take``); None if there is none or the account is locked.

    A seam of its own: the tampering tests change the loaded row here, where a
    database trigger cannot stop them, to prove the send-time hash holds alone."""
    return (
        rows.select_related(*_LOADED).select_for_update(of=("account",), skip_locked=True).first()
    )


def _case_for_send(case_id: int) -> Case:
    """The claimed row's case with what the checks and the send read of it: the post
    (answered, its age), the person (do-not-contact) and the playbook version (freshness,
    caps). Not the brand (read only to name a reached cap), nor the post's raw payload."""
    return (
        Case.objects.select_related("post", "person", "playbook").defer("post__raw").get(pk=case_id)
    )


_UNKNOWN_SINCE = OutboundAction._meta.get_field("outcome_unknown_since")


def _take(
    action: OutboundAction, token: dt.datetime, now: dt.datetime, *, abandoned: bool
) -> tuple[int, dt.datetime | None] | None:
    """The claim's compare-and-set: ``action`` (as read) to sending with the lease ``token``,
    one more attempt and, if ``abandoned``, marked "outcome unknown". The row's attempts and
    outcome_unknown_since as written (RETURNING: the values the database holds, whatever
    was read before); None if another dispatcher changed the row first.

    One statement in SQL: the ORM's update() cannot return what it wrote."""
    ops = connection.ops
    quote = ops.quote_name
    table = quote(OutboundAction._meta.db_table)
    unknown = quote("outcome_unknown_since")
    sql = (
        f"UPDATE {table} SET {quote('state')} = %s, {quote('not_before')} = %s, "  # noqa: S608
        f"{quote('attempts')} = {quote('attempts')} + 1"
        + (f", {unknown} = COALESCE({unknown}, %s)" if abandoned else "")
        + f" WHERE {quote('id')} = %s AND {quote('state')} = %s AND {quote('not_before')} = %s"
        f" RETURNING {quote('attempts')}, {unknown}"
    )
    params: list[Any] = [State.SENDING, ops.adapt_datetimefield_value(token)]
    if abandoned:
        params.append(ops.adapt_datetimefield_value(now))
    params += [action.pk, action.state, ops.adapt_datetimefield_value(action.not_before)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    attempts, since = row
    column = _UNKNOWN_SINCE.get_col(OutboundAction._meta.db_table)
    for convert in [*ops.get_db_converters(column), *_UNKNOWN_SINCE.get_db_converters(connection)]:
        since = convert(since, column, connection)
    return attempts, since


def _not_claimable(action_id: int, now: dt.datetime) -> Outcome:
    """Why the claim's read found nothing: no such row, not due, or the account is locked."""
    row = OutboundAction.objects.filter(pk=action_id).values("state", "not_before").first()
    if row is None:
        return Outcome(action_id, "skipped", "no such action")
    if row["state"] not in (State.PENDING, State.SENDING) or row["not_before"] > now:
        return Outcome(action_id, "skipped", f"{row['state']}, not due")
    return Outcome(action_id, "skipped", "another dispatcher is claiming for the account")


def _defer_pending(action: OutboundAction, until: dt.datetime, reason: str) -> Outcome:
    """Push a not-yet-claimed row to ``until``. A stale sending row is left for its reclaim."""
    if action.state == State.PENDING:
        OutboundAction.objects.filter(
            pk=action.pk, state=State.PENDING, not_before=action.not_before
        ).update(not_before=until, error=f"deferred: {reason}"[:2000])
    return Outcome(action.pk, "deferred", reason)


def _release(
    claim: _Claim,
    *,
    until: dt.datetime,
    error: str,
    count_attempt: bool,
    unknown_since: dt.datetime | None = None,
) -> bool:
    """Give the claim back (sending -> pending at ``until``); False if we had lost it.

    ``unknown_since`` marks the row "outcome unknown" (kept from an earlier attempt)."""
    updates: dict[str, Any] = {"state": State.PENDING, "not_before": until, "error": error[:2000]}
    if not count_attempt:
        updates["attempts"] = F("attempts") - 1
    if unknown_since is not None:
        updates["outcome_unknown_since"] = unknown_since
    return (
        OutboundAction.objects.filter(
            pk=claim.action.pk, state=State.SENDING, not_before=claim.token
        ).update(**updates)
        == 1
    )


# --- Outcomes -------------------------------------------------------------------------


def _defer(claim: _Claim, until: dt.datetime, reason: str) -> Outcome:
    action = claim.action
    # Record the reason once, not on every tick that finds the cap still reached.
    if action.error != f"deferred: {reason}"[:2000]:
        events.happened_to(
            action.case_id, action="send_deferred", note=f"{action.get_kind_display()}: {reason}"
        )
    _release(claim, until=until, error=f"deferred: {reason}", count_attempt=False)
    return Outcome(action.pk, "deferred", reason)


def _refuse(claim: _Claim, exc: workflow.RuleViolation) -> Outcome:
    """A rule forbids this send now and for good: cancel it, say why, close the case."""
    action = claim.action
    reason = str(exc)
    with transaction.atomic():
        cancelled = OutboundAction.objects.filter(
            pk=action.pk, state=State.SENDING, not_before=claim.token
        ).update(state=State.CANCELLED, error=f"refused at send time: {reason}"[:2000])
        if cancelled != 1:
            return Outcome(action.pk, "skipped", "lost the claim")
        events.happened_to(
            action.case_id, action="send_refused", note=f"{action.get_kind_display()}: {reason}"
        )
    case = action.case
    try:
        if action.kind == Kind.FOLLOW:
            workflow.follow_not_sent(action.pk, reason=f"follow not sent: {reason}")
        elif exc.rule is workflow.FRESHNESS and action.kind == Kind.REPLY:
            workflow.expire(case.pk)
        elif exc.rule in (workflow.ONE_CONVERSATION, workflow.NO_PILE_ON) and (
            action.kind == Kind.REPLY
        ):
            # The approved reply can no longer go out: do not leave the case waiting.
            workflow.dismiss(case.pk, actor=None, reason=f"not sent: {exc.detail}")
    except workflow.WorkflowError as move_error:
        log.info("case %s kept its stage after a refused send: %s", case.pk, move_error)
    return Outcome(action.pk, "refused", reason)


def _fail(claim: _Claim, message: str, *, said_by: str = "The platform said") -> Outcome:
    """The platform refused for good (or too many attempts): fail the action and the case."""
    action = claim.action
    failed = OutboundAction.objects.filter(
        pk=action.pk, state=State.SENDING, not_before=claim.token
    ).update(state=State.FAILED, error=message[:2000])
    if failed != 1:
        return Outcome(action.pk, "skipped", "lost the claim")
    marked = False
    try:
        if action.kind == Kind.REPLY:
            workflow.mark_failed(action.case_id, actor=None, note=f"reply not sent: {message}")
            marked = True
        elif action.kind == Kind.FOLLOW:
            # The case is engaged again, not "follow requested" with nothing queued.
            workflow.follow_not_sent(action.pk, reason=f"follow not sent: {message}")
            marked = True
    except workflow.WorkflowError as exc:
        log.info("case %s kept its stage after a failed send: %s", action.case_id, exc)
    if not marked:
        # The history says why the row failed even when the case keeps its stage.
        events.happened_to(
            action.case_id, action="send_failed", note=f"{action.get_kind_display()}: {message}"
        )
    tell_team(
        f"nojackal: {action.get_kind_display().lower()} for case {action.case_id} failed",
        f"The {action.get_kind_display().lower()} from {action.account} on case "
        f"{action.case_id} was not sent.\n{said_by}: {message}\n",
    )
    return Outcome(action.pk, "failed", message)


def _unknown(claim: _Claim, message: str, now: dt.datetime, *, delay: float) -> Outcome:
    """An attempt may have posted: back to pending, marked, to be reconciled first.

    Never failed here: only the platform's answer may fail a row whose post may exist."""
    action = claim.action
    since = action.outcome_unknown_since or now
    if action.outcome_unknown_since is None:
        events.happened_to(
            action.case_id,
            action="send_outcome_unknown",
            note=f"{action.get_kind_display()}: {message}; the platform is asked before "
            "anything is sent again",
        )
    _release(
        claim,
        until=now + dt.timedelta(seconds=delay),
        error=f"attempt {action.attempts}: outcome unknown: {message}",
        count_attempt=True,
        unknown_since=since,
    )
    return Outcome(action.pk, "unknown", message)


def _transient(claim: _Claim, exc: TransientError, now: dt.datetime) -> Outcome:
    action = claim.action
    message = str(exc) or exc.__class__.__name__
    # A follow is idempotent (following twice is a no-op): unknown is a plain retry.
    unknown = action.kind in TEXT_KINDS and (
        isinstance(exc, UnknownOutcome) or action.outcome_unknown_since is not None
    )
    if unknown:
        # Asking is cheap and the team sees "outcome unknown" meanwhile: the first
        # look comes within a lease, later ones back off as usual.
        delay = min(
            backoff_delay(action.attempts, exc.retry_after),
            max(lease_seconds() * action.attempts, exc.retry_after or 0),
        )
        return _unknown(claim, message, now, delay=delay)
    if action.attempts >= max_attempts():
        return _fail(claim, f"gave up after {action.attempts} attempts; last error: {message}")
    if exc.retry_after is not None:
        # The platform told us how long this account must wait: every action of
        # the account waits, not only this one.
        Account.objects.filter(pk=action.account_id).update(
            rate_limited_until=now + dt.timedelta(seconds=exc.retry_after)
        )
    delay = backoff_delay(action.attempts, exc.retry_after)
    _release(
        claim,
        until=now + dt.timedelta(seconds=delay),
        error=f"attempt {action.attempts}: {message}",
        count_attempt=True,
    )
    return Outcome(action.pk, "retry", message)


def _commit_without_waiting() -> None:
    """Let this transaction's commit return before the disk has it (PostgreSQL).

    Only for recording a send: the claim before it is committed durably, so a
    record lost in a database crash leaves the row claimed; its lease runs out and
    the reclaim asks the platform (``find_reply``) and records what it finds, never
    posting again. Never for the claim itself: a claim lost after the post went out
    would send it twice."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _record(claim: _Claim, sent: Sent, result: str) -> Outcome:
    """The platform has it: record sent. This must not be lost, whatever the case did meanwhile."""
    action = claim.action
    if action.kind in TEXT_KINDS or action.kind == Kind.FOLLOW:
        try:
            with transaction.atomic():
                _commit_without_waiting()
                if action.kind == Kind.FOLLOW:
                    # The platform confirmed it: only now does the case say "followed".
                    workflow.mark_followed(action.pk, external_id=sent.external_id)
                else:
                    workflow.mark_reply_sent(
                        action.pk, external_id=sent.external_id, url=sent.url, loaded=action
                    )
            return Outcome(action.pk, result, sent.external_id)
        except workflow.WorkflowError as exc:
            # The case moved on (dismissed, opted out...) while the reply was on its
            # way, or the text changed behind the workflow. The reply exists: the row
            # says so, the case history says so, and the team hears about it.
            problem = str(exc)
    else:
        problem = ""
    with transaction.atomic():
        recorded = OutboundAction.objects.filter(
            pk=action.pk, state__in=[State.SENDING, State.PENDING]
        ).update(
            state=State.SENT,
            external_id=sent.external_id,
            url=sent.url,
            sent_at=timezone.now(),
            outcome_unknown_since=None,
        )
        if recorded != 1:
            # Someone else (a reclaim that found our post) recorded it already.
            return Outcome(action.pk, "skipped", "already recorded")
        note = f"{action.get_kind_display()} sent: {sent.url or sent.external_id}"
        events.happened_to(
            action.case_id,
            action=f"{action.kind}_sent",
            note=f"{note}; {problem}" if problem else note,
        )
    if problem:
        tell_team(
            f"nojackal: a reply went out on case {action.case_id} after it changed",
            f"Our {action.get_kind_display().lower()} {sent.url or sent.external_id} was "
            "posted, but the case could not "
            f"move on: {problem}\nPlease look at case {action.case_id}.\n",
        )
    return Outcome(action.pk, result, sent.external_id)


def _unresolved(claim: _Claim, message: str, now: dt.datetime) -> Outcome:
    """The platform would not say whether an earlier attempt posted (credentials revoked...).

    The row stays "outcome unknown" and is asked about again later; the team is
    told once, since a person may have to look on the platform."""
    action = claim.action
    if not action.error.endswith(message[:1900]):
        tell_team(
            f"nojackal: cannot tell whether the {action.get_kind_display().lower()} for case "
            f"{action.case_id} went out",
            f"An attempt to post on case {action.case_id} may have reached the platform, and "
            f"the platform will not say.\n{message}\nNothing is sent again until it answers.\n",
        )
    return _unknown(claim, message, now, delay=backoff_delay(action.attempts))


class LostClaim(Exception):
    """The claim's lease ran out before the platform call: another dispatcher has the row."""


class Heartbeat:
    """Renews a claim's lease while the adapter call runs (a thread, its own connection).

    The lease can then be short: a worker that dies stops renewing, and its row
    is taken back after one lease. Renewal is a compare-and-set on the fencing
    token, so a heartbeat that lost its claim stops; the claim's ``token`` is
    read by the caller only after the heartbeat has stopped. It renews for at most
    ``longest_hold_seconds()``: a call hung beyond the task's limit lets go.
    """

    def __init__(self, claim: _Claim) -> None:
        self.claim = claim
        self.interval = lease_seconds() / 3
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.renewals = 0

    def __enter__(self) -> Heartbeat:
        # Renewed once before the call, here: a worker that stalled past its lease
        # (starved, paused) between the claim and the call has lost the row to a
        # reclaim, and must not post it as well.
        if not self._renew():
            raise LostClaim(f"outbound action {self.claim.action.pk}: the claim's lease ran out")
        if self.interval > 0 and not connection.in_atomic_block:
            # Inside a transaction (the unit tests) another connection cannot see the
            # claimed row; nothing there runs long enough to need a renewal.
            self._thread = threading.Thread(target=self._run, name="outbox-heartbeat", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _renew(self) -> bool:
        """Extend the lease by compare-and-set on the fencing token; False: it was lost."""
        token = timezone.now() + dt.timedelta(seconds=lease_seconds())
        renewed = OutboundAction.objects.filter(
            pk=self.claim.action.pk, state=State.SENDING, not_before=self.claim.token
        ).update(not_before=token)
        if renewed != 1:
            return False
        self.claim.token = token
        return True

    def _run(self) -> None:
        from django.db import connections

        deadline = time.monotonic() + longest_hold_seconds()
        try:
            while not self._stop.wait(self.interval) and time.monotonic() < deadline:
                token = timezone.now() + dt.timedelta(seconds=lease_seconds())
                try:
                    renewed = OutboundAction.objects.filter(
                        pk=self.claim.action.pk, state=State.SENDING, not_before=self.claim.token
                    ).update(not_before=token)
                except DatabaseError:
                    log.warning("outbox heartbeat: could not renew %s", self.claim.action.pk)
                    continue  # try again at the next beat, the lease has two more
                if renewed != 1:
                    return  # someone took the row back: nothing left to hold
                self.claim.token = token
                self.renewals += 1
        finally:
            connections.close_all()


# --- The checks at send time -----------------------------------------------------------


def _check(claim: _Claim, now: dt.datetime) -> Outcome | None:
    """Every rule again, at the moment of sending; an Outcome when the send must not happen.

    Refusals come first: a reply that may never go out is cancelled now rather
    than deferred by a cap and refused later.
    """
    action = claim.action
    # The case as loaded with the claimed row, unless the platform was asked first
    # (find_reply): a network call is time enough for the case to move on.
    case = None if claim.reclaimed else action.case
    try:
        # Do-not-contact, stage, approved text, freshness, follow after engagement, caps.
        workflow.check_sendable(action, now=now, case=case)
    except workflow.RuleViolation as exc:
        if exc.until is not None:
            # A cap that frees up later (rule 7): wait for it rather than refuse.
            jitter = _pacing_jitter(action.account, action.case.kind)
            return _defer(claim, exc.until + jitter, exc.detail)
        return _refuse(claim, exc)
    return None


def text_to_post(action: OutboundAction) -> str:
    """The exact text to hand the adapter; RuleViolation (rule 3) unless it hashes to the
    approving draft's ``approved_text_hash``.

    ``OutboundAction.text_hash`` is a copy made at approval and says nothing about
    ``text`` if the row was changed since: the hash is taken here, of the very
    string the caller then posts, so nothing unapproved can go out."""
    text = action.text
    approved = action.draft.approved_text_hash if action.draft is not None else ""
    if not approved or text_hash(text) != approved:
        raise workflow.RuleViolation(
            workflow.HUMAN_APPROVAL,
            "the text about to be posted is not the text the reviewer approved",
        )
    return text


def _other_sent_ids(action: OutboundAction) -> list[str]:
    """Our other posts on the case (the first reply, when the amend request is reconciled)."""
    return list(
        OutboundAction.objects.filter(case_id=action.case_id, kind__in=TEXT_KINDS)
        .exclude(pk=action.pk)
        .exclude(external_id="")
        .values_list("external_id", flat=True)
    )


# --- The one entry point --------------------------------------------------------------


def send_action(action_id: int, *, now: dt.datetime | None = None) -> Outcome:
    """Claim, reconcile, re-check and send one action; safe to call twice or concurrently."""
    now = now or timezone.now()
    return _send(_claim(action_id, now), now, {})


def _send(claimed: _Claim | Outcome, now: dt.datetime, adapters: dict[int, Platform]) -> Outcome:
    """Reconcile, re-check and send a claimed row (an Outcome: the claim said why not).

    ``adapters``: the adapter of each account met so far in this task, reused (one
    connection to the platform for a drain, not one per send)."""
    if isinstance(claimed, Outcome):
        return claimed
    claim = claimed
    action = claim.action
    adapter = adapters.get(action.account_id)
    if adapter is None:
        try:
            adapter = adapters[action.account_id] = platform_for(action.account)
        except PermanentError as exc:
            if action.outcome_unknown_since is not None and action.kind in TEXT_KINDS:
                return _unresolved(claim, str(exc), now)
            return _fail(claim, str(exc))
    case = action.case
    in_reply_to = action.in_reply_to or case.post.external_id
    if claim.reclaimed and action.kind in TEXT_KINDS:
        try:
            with Heartbeat(claim):
                found = adapter.find_reply(
                    in_reply_to=in_reply_to,
                    idempotency_key=action.idempotency_key,
                    exclude=_other_sent_ids(action),
                )
        except LostClaim as exc:
            return Outcome(action.pk, "skipped", str(exc))
        except TransientError as exc:
            return _transient(claim, exc, now)
        except PermanentError as exc:
            # Without an answer we cannot know whether the earlier attempt posted;
            # sending blind could post twice, so a person decides.
            message = f"could not check whether an earlier attempt posted: {exc}"
            if action.outcome_unknown_since is None:
                return _fail(claim, message)
            return _unresolved(claim, message, now)
        if found is not None:
            return _record(claim, found, "reconciled")
        if action.outcome_unknown_since is not None:
            # The platform answered: nothing of ours is there, the earlier attempt did
            # not post. The outcome is known again; the send may go ahead.
            OutboundAction.objects.filter(
                pk=action.pk, state=State.SENDING, not_before=claim.token
            ).update(outcome_unknown_since=None)
            events.happened_to(
                action.case_id,
                action="send_reconciled",
                note=f"{action.get_kind_display()}: the platform has no reply from us; "
                "the earlier attempt did not post",
            )
            action.outcome_unknown_since = None
            if action.attempts > max_attempts():
                return _fail(
                    claim, f"gave up after {action.attempts - 1} attempts; nothing was posted"
                )
    refusal = _check(claim, now)
    if refusal is not None:
        return refusal
    text = ""
    if action.kind in TEXT_KINDS:
        try:
            text = text_to_post(action)
        except workflow.RuleViolation as exc:
            # Changed behind the workflow: not a rule that may pass later, a row to stop.
            return _fail(claim, str(exc), said_by="The dispatcher refused it")
    try:
        with Heartbeat(claim):
            if action.kind == Kind.PRIVATE_MESSAGE:
                # Only to a person who wrote to us privately or asked for it (re-checked above).
                sent = adapter.private_message(
                    person_external_id=case.person.external_id,
                    handle=case.person.handle,
                    in_reply_to=in_reply_to,
                    text=text,
                    idempotency_key=action.idempotency_key,
                )
            elif action.kind in TEXT_KINDS:
                # ``text`` is the string whose hash was just checked, and nothing else.
                sent = adapter.reply(
                    in_reply_to=in_reply_to,
                    text=text,
                    idempotency_key=action.idempotency_key,
                )
            else:
                # Following twice is a no-op on every platform: no reconciliation needed.
                sent = adapter.follow(case.person.external_id)
    except LostClaim as exc:
        return Outcome(action.pk, "skipped", str(exc))
    except TransientError as exc:
        return _transient(claim, exc, now)
    except NotSupported as exc:
        return _fail(claim, str(exc))
    except PermanentError as exc:
        return _fail(claim, str(exc))
    # Anything else (a bug, a lost database) leaves the row in sending: the lease
    # runs out and the reclaim asks the platform before anything is sent again.
    return _record(claim, sent, "sent")
