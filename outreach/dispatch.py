"""The outbox dispatcher: send approved actions exactly once, re-checking every rule.

An ``OutboundAction`` is the intent, recorded before any network call. Sending
one goes ``pending -> sending -> sent | failed | cancelled``:

1. **Claim** by compare-and-set (``pending -> sending`` where ``not_before <=
   now``). While a row is ``sending``, ``not_before`` holds the end of the
   claim's lease, and the old value is the fencing token every later write
   compares against, so a worker that lost its claim cannot overwrite a newer
   one. The claim is taken under a lock on the account row, which keeps one
   send per account in flight and spaces sends out with jitter.
2. **Reconcile** when a previous claim exists (``attempts > 1``: a crash, a
   timeout, a lost response): ask the platform for our reply (``find_reply``)
   *before* sending anything; a reply found is recorded, not posted again.
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
   attempts; ``PermanentError`` fails the action and the case and tells the team.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from monitoring.ingest import backoff_delay
from monitoring.models import Account
from monitoring.platforms import (
    NotSupported,
    PermanentError,
    Platform,
    Sent,
    TransientError,
)
from outreach import workflow
from outreach.models import (
    TEXT_KINDS,
    OutboundAction,
    text_hash,
)
from outreach.workflow import events

log = logging.getLogger(__name__)

State = OutboundAction.State
Kind = OutboundAction.Kind

# Longer than any adapter's HTTP timeout (10 s by default, 300 s at most), so a
# send still in flight is never taken for a crashed one.
DEFAULT_LEASE_SECONDS = 330
DEFAULT_MAX_ATTEMPTS = 8
# An account that is switched off in the admin keeps its queue; look again later.
DISABLED_ACCOUNT_RETRY = dt.timedelta(minutes=15)
BATCH_SIZE = 200


def lease_seconds() -> float:
    """How long a claim lasts before the row counts as abandoned (a crashed worker)."""
    return float(getattr(settings, "NOJACKAL_OUTBOX_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))


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
    "refused",  # a rule refused it at send time: cancelled, reason recorded
    "failed",  # the platform refused it, or too many attempts
    "skipped",  # not due, or another dispatcher holds it
)


# --- Which rows are due --------------------------------------------------------------


def due_action_ids(*, now: dt.datetime | None = None, limit: int = BATCH_SIZE) -> list[int]:
    """Ids of pending actions whose time has come and of sending ones whose lease ran out."""
    now = now or timezone.now()
    # Both halves walk the (state, not_before) index.
    return list(
        OutboundAction.objects.filter(
            Q(state=State.PENDING) | Q(state=State.SENDING), not_before__lte=now
        )
        .order_by("not_before", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def dispatch_due(*, now: dt.datetime | None = None, limit: int = BATCH_SIZE) -> dict[str, int]:
    """Send every due action in this process, one after the other; counts per result."""
    counts = dict.fromkeys(RESULTS, 0)
    for pk in due_action_ids(now=now, limit=limit):
        counts[send_action(pk).result] += 1
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
    return 3600 / max(1, account.max_sends_per_hour)


# --- Claiming -------------------------------------------------------------------------


@dataclass
class _Claim:
    action: OutboundAction
    token: dt.datetime  # not_before as written by our claim: the fencing token
    reclaimed: bool  # a previous claim existed (crash, timeout): reconcile first


def _claim(action_id: int, now: dt.datetime) -> _Claim | Outcome:
    """Compare-and-set the row to sending under the account lock, or say why not."""
    row = (
        OutboundAction.objects.filter(pk=action_id)
        .values("state", "not_before", "account_id", "attempts")
        .first()
    )
    if row is None:
        return Outcome(action_id, "skipped", "no such action")
    if row["state"] not in (State.PENDING, State.SENDING) or row["not_before"] > now:
        return Outcome(action_id, "skipped", f"{row['state']}, not due")
    with transaction.atomic():
        # One send per account at a time, spaced out: the account row lock makes
        # the look at its other rows and our claim one step for every dispatcher.
        # A dispatcher that finds the lock taken moves on rather than queueing
        # behind it: the other one is claiming for this account right now anyway.
        account = (
            Account.objects.select_for_update(skip_locked=True).filter(pk=row["account_id"]).first()
        )
        if account is None:
            return Outcome(action_id, "skipped", "another dispatcher is claiming for the account")
        if not account.enabled:
            return _defer_pending(
                action_id, row, now + DISABLED_ACCOUNT_RETRY, f"{account} is disabled"
            )
        if account.rate_limited_until and account.rate_limited_until > now:
            until = account.rate_limited_until + _jitter(_spacing(account))
            return _defer_pending(action_id, row, until, f"{account} is rate-limited")
        busy = (
            OutboundAction.objects.filter(
                account_id=account.pk, state=State.SENDING, not_before__gt=now
            )
            .exclude(pk=action_id)
            .exists()
        )
        spacing = _spacing(account)
        if busy:
            return _defer_pending(
                action_id,
                row,
                now + dt.timedelta(seconds=spacing) + _jitter(spacing),
                f"{account} is sending another action",
            )
        last_sent = (
            OutboundAction.objects.filter(account_id=account.pk, state=State.SENT)
            .order_by("-sent_at")
            .values_list("sent_at", flat=True)
            .first()
        )
        if last_sent is not None and last_sent + dt.timedelta(seconds=spacing) > now:
            until = last_sent + dt.timedelta(seconds=spacing) + _jitter(spacing)
            return _defer_pending(action_id, row, until, "spacing sends from one account")
        token = now + dt.timedelta(seconds=lease_seconds())
        claimed = OutboundAction.objects.filter(
            pk=action_id, state=row["state"], not_before=row["not_before"]
        ).update(state=State.SENDING, not_before=token, attempts=F("attempts") + 1)
    if claimed != 1:
        return Outcome(action_id, "skipped", "another dispatcher claimed it")
    action = _load(action_id)
    # attempts counts claims: more than one means an earlier claim may have posted.
    return _Claim(action, token, reclaimed=action.attempts > 1)


def _load(action_id: int) -> OutboundAction:
    """The claimed row with what the checks and the send read (one query).

    A seam of its own: the tampering tests change the loaded row here, where a
    database trigger cannot stop them, to prove the send-time hash holds alone."""
    return OutboundAction.objects.select_related(
        "case__post", "case__person", "case__playbook", "case__brand", "account", "draft"
    ).get(pk=action_id)


def _defer_pending(
    action_id: int, row: Mapping[str, Any], until: dt.datetime, reason: str
) -> Outcome:
    """Push a not-yet-claimed row to ``until``. A stale sending row is left for its reclaim."""
    if row["state"] == State.PENDING:
        OutboundAction.objects.filter(
            pk=action_id, state=State.PENDING, not_before=row["not_before"]
        ).update(not_before=until, error=f"deferred: {reason}"[:2000])
    return Outcome(action_id, "deferred", reason)


def _release(claim: _Claim, *, until: dt.datetime, error: str, count_attempt: bool) -> bool:
    """Give the claim back (sending -> pending at ``until``); False if we had lost it."""
    updates: dict[str, Any] = {"state": State.PENDING, "not_before": until, "error": error[:2000]}
    if not count_attempt:
        updates["attempts"] = F("attempts") - 1
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
        if exc.rule is workflow.FRESHNESS and action.kind == Kind.REPLY:
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
    if action.kind == Kind.REPLY:
        try:
            workflow.mark_failed(action.case_id, actor=None, note=f"reply not sent: {message}")
            marked = True
        except workflow.WorkflowError as exc:
            log.info("case %s not marked failed: %s", action.case_id, exc)
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


def _transient(claim: _Claim, exc: TransientError, now: dt.datetime) -> Outcome:
    action = claim.action
    message = str(exc) or exc.__class__.__name__
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


def _record(claim: _Claim, sent: Sent, result: str) -> Outcome:
    """The platform has it: record sent. This must not be lost, whatever the case did meanwhile."""
    action = claim.action
    if action.kind in TEXT_KINDS or action.kind == Kind.FOLLOW:
        try:
            if action.kind == Kind.FOLLOW:
                # The platform confirmed it: only now does the case say "followed".
                workflow.mark_followed(action.pk, external_id=sent.external_id)
            else:
                workflow.mark_reply_sent(action.pk, external_id=sent.external_id, url=sent.url)
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


# --- The checks at send time -----------------------------------------------------------


def _check(claim: _Claim, now: dt.datetime) -> Outcome | None:
    """Every rule again, at the moment of sending; an Outcome when the send must not happen.

    Refusals come first: a reply that may never go out is cancelled now rather
    than deferred by a cap and refused later.
    """
    action = claim.action
    try:
        # Do-not-contact, stage, approved text, freshness, follow after engagement, caps.
        workflow.check_sendable(action, now=now)
    except workflow.RuleViolation as exc:
        if exc.until is not None:
            # A cap that frees up later (rule 7): wait for it rather than refuse.
            return _defer(claim, exc.until + _jitter(_spacing(action.account)), exc.detail)
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
    claimed = _claim(action_id, now)
    if isinstance(claimed, Outcome):
        return claimed
    claim = claimed
    action = claim.action
    try:
        adapter = platform_for(action.account)
    except PermanentError as exc:
        return _fail(claim, str(exc))
    case = action.case
    in_reply_to = action.in_reply_to or case.post.external_id
    if claim.reclaimed and action.kind in TEXT_KINDS:
        try:
            found = adapter.find_reply(
                in_reply_to=in_reply_to,
                idempotency_key=action.idempotency_key,
                exclude=_other_sent_ids(action),
            )
        except TransientError as exc:
            return _transient(claim, exc, now)
        except PermanentError as exc:
            # Without an answer we cannot know whether the earlier attempt posted;
            # sending blind could post twice, so a person decides.
            return _fail(claim, f"could not check whether an earlier attempt posted: {exc}")
        if found is not None:
            return _record(claim, found, "reconciled")
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
    except TransientError as exc:
        return _transient(claim, exc, now)
    except NotSupported as exc:
        return _fail(claim, str(exc))
    except PermanentError as exc:
        return _fail(claim, str(exc))
    # Anything else (a bug, a lost database) leaves the row in sending: the lease
    # runs out and the reclaim asks the platform before anything is sent again.
    return _record(claim, sent, "sent")
