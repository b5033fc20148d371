"""Rule 7 (don't pile on): the caps on replies and cases, and the spacing of sends."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from monitoring.models import Brand
from outreach.models import (
    Account,
    Case,
    OutboundAction,
    Playbook,
    PlaybookKind,
)
from outreach.workflow.rules import NO_PILE_ON, RuleViolation


def _live_replies() -> Any:
    return OutboundAction.objects.filter(kind=OutboundAction.Kind.REPLY).exclude(
        state__in=[OutboundAction.State.CANCELLED, OutboundAction.State.FAILED]
    )


def _check_caps(case: Case, account: Account, now: dt.datetime) -> None:
    """Rule 7, counted under row locks on the brand and the account (see approve_reply)."""
    playbook = case.playbook
    per_day = _live_replies().filter(
        case__brand_id=case.brand_id, created_at__gte=now - dt.timedelta(days=1)
    )
    if per_day.count() >= playbook.max_replies_per_brand_per_day:
        raise RuleViolation(
            NO_PILE_ON,
            f"already {playbook.max_replies_per_brand_per_day} replies about {case.brand} "
            "in the last 24 hours",
        )
    if case.incident_id:
        in_incident = _live_replies().filter(case__incident_id=case.incident_id)
        if in_incident.count() >= playbook.max_replies_per_incident:
            raise RuleViolation(
                NO_PILE_ON,
                f"already {playbook.max_replies_per_incident} replies in incident "
                f"#{case.incident_id}",
            )
    per_hour = min(playbook.max_replies_per_account_per_hour, account.max_sends_per_hour)
    last_hour = _live_replies().filter(account=account, created_at__gte=now - dt.timedelta(hours=1))
    if last_hour.count() >= per_hour:
        raise RuleViolation(
            NO_PILE_ON, f"{account} already has {per_hour} replies queued or sent this hour"
        )


def _send_slot(case: Case, account: Account, now: dt.datetime) -> dt.datetime:
    """When this reply may go out: spaced from the account's previous one, with jitter."""
    per_hour = max(
        1, min(case.playbook.max_replies_per_account_per_hour, account.max_sends_per_hour)
    )
    spacing = dt.timedelta(seconds=3600 / per_hour)
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


def _check_opening_caps(
    brand: Brand, playbook: Playbook, incident_id: int | None, now: dt.datetime
) -> None:
    """Rule 7 at the door: counted under a lock on the brand row, so two triage
    workers cannot both open the last allowed case."""
    Brand.objects.select_for_update().filter(pk=brand.pk).first()
    opened = Case.objects.filter(
        brand=brand, kind=PlaybookKind.COMPETITOR, opened_at__gte=now - dt.timedelta(days=1)
    )
    if opened.count() >= playbook.max_replies_per_brand_per_day:
        raise RuleViolation(
            NO_PILE_ON,
            f"already {playbook.max_replies_per_brand_per_day} cases about {brand} today",
            reason="cap_reached",
        )
    if incident_id and (
        Case.objects.filter(brand=brand, incident_id=incident_id).count()
        >= playbook.max_replies_per_incident
    ):
        raise RuleViolation(
            NO_PILE_ON,
            f"already {playbook.max_replies_per_incident} cases in incident #{incident_id}",
            reason="cap_reached",
        )


def _check_hourly(action: OutboundAction, now: dt.datetime) -> None:
    sent_last_hour = OutboundAction.objects.filter(
        account_id=action.account_id,
        state=OutboundAction.State.SENT,
        sent_at__gte=now - dt.timedelta(hours=1),
    ).count()
    account = Account.objects.get(pk=action.account_id)
    if sent_last_hour >= account.max_sends_per_hour:
        raise RuleViolation(NO_PILE_ON, f"{account} reached its hourly cap")
