"""Platform limits cached on each account: refreshed from the platform, read without it.

``Account.cached_limits()`` reads what is stored here. A beat tick refreshes every
usable account about hourly, and "Test connection" in the admin refreshes the
accounts it checked. A refresh that fails keeps the last good value: a platform
that does not answer now has not changed its rules.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from monitoring.credentials import CredentialsError
from monitoring.models import Account
from monitoring.platforms import PlatformError

log = logging.getLogger(__name__)


def refreshable_ids(now: dt.datetime) -> list[int]:
    """Enabled accounts the platform is not holding back (a rate limit is shared, so wait)."""
    return list(
        Account.objects.filter(enabled=True)
        .filter(Q(rate_limited_until__isnull=True) | Q(rate_limited_until__lte=now))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def refresh(account_id: int) -> bool:
    """Ask the platform for the account's limits and store them; False, logged, if it cannot say."""
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        return False
    try:
        found = account.adapter().current_limits()
    except (PlatformError, CredentialsError) as exc:
        log.warning("%s: limits not refreshed, keeping the cached ones: %s", account, exc)
        return False
    Account.objects.filter(pk=account.pk).update(
        limits=dataclasses.asdict(found), limits_checked_at=timezone.now()
    )
    return True


# The tasks live beside the code they wrap (registered from MonitoringConfig.ready)
# rather than in monitoring/tasks.py, which another change is reshaping.


@shared_task(ignore_result=True)
def refresh_limits_tick() -> int:
    """Beat tick: queue one limits refresh per usable account."""
    ids = refreshable_ids(timezone.now())
    for account_id in ids:
        refresh_account_limits.delay(account_id)
    return len(ids)


@shared_task(ignore_result=True)
def refresh_account_limits(account_id: int) -> bool:
    """Refresh one account's cached limits (safe to run twice)."""
    return refresh(account_id)
