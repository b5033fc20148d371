"""Rule 7 (don't pile on): every cap on cases and replies is counted here.

A reached cap is returned as a ``Cap``: a stable ``code`` (triage filters on
it, the dispatcher decides on it), the message shown to the team, and ``until``:
when a time-window cap frees up, so that a send waits rather than being
refused. A cap with no ``until`` (an incident's replies) refuses for good.

The service lane: pacing (the hourly caps, the spacing and jitter between sends)
exists so that competitor outreach never looks like a campaign. Own-brand
replies are customer service: no pacing cap applies to them (``paced``), only
the platform's own limits (the account switched off, ``rate_limited_until``);
the dispatcher sends them first. ``claim_wait`` is what the dispatcher asks
before claiming a row; the case page's forecast (``workflow.send_forecast``)
asks the same functions, so it shows what the dispatcher will do.

Every count stops at its cap (``CountUpTo``, ``reached``): whether a cap is reached
needs no more rows than the cap, and a big incident's or a busy brand's history is
not walked for every case opened, approved or sent (issue #15).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, IntegerField, Max, Min, Q, QuerySet, Subquery, Value

from monitoring.models import Account, Brand
from outreach.models import TEXT_KINDS, Case, OutboundAction, Playbook, PlaybookKind
from outreach.workflow.rules import NO_PILE_ON, RuleViolation

# A send held back by the account's hourly cap on every kind looks again this much later.
HOURLY_RETRY = dt.timedelta(minutes=10)
# An account that is switched off in the admin keeps its queue; look again later.
DISABLED_ACCOUNT_RETRY = dt.timedelta(minutes=15)
# A service reply finding another send of its account in flight looks again this soon:
# one send per account at a time is the platform's affair, not pacing.
SERVICE_BUSY_RETRY = dt.timedelta(seconds=15)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Cap:
    """A cap that is reached: which one, why, and when it frees up (None: never)."""

    code: str
    message: str
    until: dt.datetime | None = None

    def violation(self) -> RuleViolation:
        """The refusal (or, with ``until``, the deferral) that names rule 7."""
        return RuleViolation(NO_PILE_ON, self.message, reason=self.code, until=self.until)


def _live_replies() -> Any:
    return OutboundAction.objects.filter(kind=OutboundAction.Kind.REPLY).exclude(
        state__in=[OutboundAction.State.CANCELLED, OutboundAction.State.FAILED]
    )


def paced(kind: str) -> bool:
    """Whether pacing caps apply to replies of case kind ``kind``: competitor outreach only."""
    return kind != PlaybookKind.OWN_BRAND


def spacing(account: Account) -> dt.timedelta:
    """Between two paced sends from one account: its hourly cap spread over the hour."""
    return dt.timedelta(seconds=3600 / max(1, account.max_sends_per_hour))


def claim_wait(
    account: Account,
    kind: str,
    now: dt.datetime,
    *,
    exclude: int | None = None,
    busy_recheck: dt.timedelta = SERVICE_BUSY_RETRY,
) -> Cap | None:
    """Why a send from ``account`` for a case of ``kind`` may not be claimed now, and until
    when; None: it may. The platform's limits for every kind, the spacing for paced ones.

    ``exclude``: the row being claimed (it is not "another send in flight").
    ``busy_recheck``: how soon to look again behind a send in flight (the dispatcher
    passes a third of its lease: the claim is renewed by a heartbeat while it lives)."""
    if not account.enabled:
        return Cap("account_disabled", f"{account} is disabled", now + DISABLED_ACCOUNT_RETRY)
    if account.rate_limited_until and account.rate_limited_until > now:
        return Cap(
            "rate_limited",
            f"{account} is rate-limited by the platform",
            account.rate_limited_until,
        )
    gap = spacing(account)
    in_flight = OutboundAction.objects.filter(
        account_id=account.pk, state=OutboundAction.State.SENDING, not_before__gt=now
    )
    if exclude is not None:
        in_flight = in_flight.exclude(pk=exclude)
    last_sent = OutboundAction.objects.filter(
        account_id=account.pk, state=OutboundAction.State.SENT
    ).order_by("-sent_at")
    # Both in one statement, each on its own index: the latest lease of a send in
    # flight, and the account's last send (the top of action_account_sent).
    facts = (
        Account.objects.filter(pk=account.pk)
        .values(
            busy_until=Subquery(
                in_flight.order_by().values("account_id").annotate(m=Max("not_before")).values("m")
            ),
            last_sent=Subquery(last_sent.values("sent_at")[:1]),
        )
        .first()
    ) or {"busy_until": None, "last_sent": None}
    busy_until = facts["busy_until"]
    if busy_until is not None:
        # Look again soon, and at the latest when that claim's (short, renewed) lease
        # ends: a send that finishes frees the account at the next look, and a dead
        # one never holds it longer than its lease.
        again = min(busy_until, now + min(busy_recheck, SERVICE_BUSY_RETRY))
        return Cap("busy", f"{account} is sending another action", again)
    if not paced(kind):
        return None
    last_sent_at = facts["last_sent"]
    if last_sent_at is not None and last_sent_at + gap > now:
        return Cap("spacing", "spacing sends from one account", last_sent_at + gap)
    return None


def per_hour(playbook_cap: int, account: Account) -> int:
    """Replies an account may send an hour: the playbook's cap or the account's, the lower."""
    return min(playbook_cap, account.max_sends_per_hour)


class CountUpTo(Subquery):
    """The number of rows of ``queryset``, counted no further than ``limit``: enough to
    tell whether a cap of ``limit`` is reached, without walking every row past it."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS counted)"
    output_field = IntegerField()
    empty_result_set_value = 0  # a limit of 0, or a queryset known to be empty

    def __init__(self, queryset: QuerySet[Any], limit: int) -> None:
        super().__init__(queryset.order_by().values("pk")[: max(0, limit)])


def reached(queryset: QuerySet[Any], cap: int) -> bool:
    """Whether ``queryset`` holds ``cap`` rows or more, counted no further than ``cap``."""
    return queryset.order_by()[: max(0, cap)].count() >= cap


def opening(
    brand: Brand, playbook: Playbook, incident_id: int | None, now: dt.datetime
) -> Cap | None:
    """Rule 7 at the door (automatic competitor cases): counted under a lock on the brand
    row, so two triage workers cannot both open the last allowed case."""
    Brand.objects.select_for_update().filter(pk=brand.pk).first()
    since = now - DAY
    # Both counts in one query, each only as far as its cap: the brand's cases since
    # yesterday (case_brand_opened) and the incident's (its foreign-key index). Neither
    # walks the brand's history, nor a big incident's thousands of cases.
    cases = Case.objects.filter(brand=brand)
    in_day = cases.filter(kind=PlaybookKind.COMPETITOR, opened_at__gte=since)
    in_incident = (
        CountUpTo(cases.filter(incident_id=incident_id), playbook.max_replies_per_incident)
        if incident_id
        else Value(0)
    )
    counts = (
        Brand.objects.filter(pk=brand.pk)
        .values(day=CountUpTo(in_day, playbook.max_replies_per_brand_per_day), incident=in_incident)
        .get()
    )
    if counts["day"] >= playbook.max_replies_per_brand_per_day:
        return Cap(
            "cap_reached",
            f"already {playbook.max_replies_per_brand_per_day} cases about {brand} today",
        )
    if incident_id and counts["incident"] >= playbook.max_replies_per_incident:
        return Cap(
            "cap_reached",
            f"already {playbook.max_replies_per_incident} cases in incident #{incident_id}",
        )
    return None


def approval(case: Case, account: Account, now: dt.datetime) -> Cap | None:
    """Rule 7 at approval, counted under row locks on the brand and the account
    (see ``approve_reply``): replies queued or sent, not cancelled or failed.
    A service reply is not paced: none of these apply to it."""
    if not paced(case.kind):
        return None
    playbook = case.playbook
    per_day = _live_replies().filter(
        case__brand_id=case.brand_id, created_at__gte=now - dt.timedelta(days=1)
    )
    if reached(per_day, playbook.max_replies_per_brand_per_day):
        return Cap(
            "brand_per_day",
            f"already {playbook.max_replies_per_brand_per_day} replies about {case.brand} "
            "in the last 24 hours",
        )
    if case.incident_id:
        in_incident = _live_replies().filter(case__incident_id=case.incident_id)
        if reached(in_incident, playbook.max_replies_per_incident):
            return Cap(
                "incident",
                f"already {playbook.max_replies_per_incident} replies in incident "
                f"#{case.incident_id}",
            )
    cap = per_hour(playbook.max_replies_per_account_per_hour, account)
    last_hour = _live_replies().filter(account=account, created_at__gte=now - dt.timedelta(hours=1))
    if reached(last_hour, cap):
        return Cap(
            "account_per_hour", f"{account} already has {cap} replies queued or sent this hour"
        )
    return None


def send_slot(case: Case, account: Account, now: dt.datetime) -> dt.datetime:
    """When an approved reply may go out: spaced from the account's previous one, with jitter;
    a service reply at once."""
    if not paced(case.kind):
        return now
    cap = max(1, per_hour(case.playbook.max_replies_per_account_per_hour, account))
    spacing = dt.timedelta(seconds=3600 / cap)
    last = (
        OutboundAction.objects.filter(account=account)
        .exclude(state=OutboundAction.State.CANCELLED)
        .order_by("-not_before")
        .values_list("not_before", flat=True)
        .first()
    )
    slot = max(now, last + spacing) if last else now
    # Jitter so that replies from one account never go out on a visible beat.
    return slot + dt.timedelta(seconds=random.uniform(0, spacing.total_seconds() / 4))


def _strictest(case: Case, field: str, active: dict[str, int] | None) -> int:
    """A cap from the case's playbook version or the active one, whichever is lower: a
    reviewer who lowers a cap after a backlash wants it to apply to queued replies too."""
    values = [getattr(case.playbook, field)]
    if active is not None:
        values.append(active[field])
    return min(values)


_SEND_CAPS = (
    "max_replies_per_incident",
    "max_replies_per_account_per_hour",
    "max_replies_per_brand_per_day",
)


def sending(action: OutboundAction, case: Case, now: dt.datetime) -> Cap | None:
    """Rule 7 at the moment of sending ``action`` (texts only: a follow is not capped).

    Counts sends that happened: the account's sends of every kind in the last
    hour, then for a first reply the incident's replies (refused: the incident
    will not need fewer), the account's replies this hour and the brand's today
    (deferred to when the oldest of them leaves the window). A service reply is
    not paced: none of these apply to it.
    """
    if action.kind not in TEXT_KINDS or not paced(case.kind):
        return None
    # The dispatcher's action carries its account (loaded with it after the claim).
    account = action.account
    hour_ago = now - HOUR
    # The account's sends this hour, and its replies among them (the per-account cap
    # below): one range of action_account_sent.
    reply = Q(kind=OutboundAction.Kind.REPLY)
    this_hour = OutboundAction.objects.filter(
        account_id=account.pk, state=OutboundAction.State.SENT, sent_at__gte=hour_ago
    ).aggregate(
        sends=Count("pk"),
        replies=Count("pk", filter=reply),
        oldest_reply=Min("sent_at", filter=reply),
    )
    if this_hour["sends"] >= account.max_sends_per_hour:
        return Cap(
            "account_sends_per_hour", f"{account} reached its hourly cap", now + HOURLY_RETRY
        )
    if action.kind != OutboundAction.Kind.REPLY:
        return None
    sent = OutboundAction.objects.sent_replies()
    # The active version's caps, read once for the three comparisons below.
    active = Playbook.objects.filter(kind=case.kind, is_active=True).values(*_SEND_CAPS).first()
    if case.incident_id:
        cap = _strictest(case, "max_replies_per_incident", active)
        if reached(sent.filter(case__incident_id=case.incident_id), cap):
            return Cap(
                "incident", f"{cap} replies already went out in incident #{case.incident_id}"
            )
    per_account = per_hour(_strictest(case, "max_replies_per_account_per_hour", active), account)
    if this_hour["replies"] >= per_account:
        return Cap(
            "account_per_hour",
            f"{account} sent {per_account} replies this hour",
            this_hour["oldest_reply"] + HOUR,
        )
    per_brand = _strictest(case, "max_replies_per_brand_per_day", active)
    today = sent.filter(case__brand_id=case.brand_id, sent_at__gte=now - DAY)
    if reached(today, per_brand):
        oldest = today.aggregate(t=Min("sent_at"))["t"]
        # Named only when reached: reading the brand is a query of its own.
        return Cap("brand_per_day", f"{per_brand} replies about {case.brand} today", oldest + DAY)
    return None
