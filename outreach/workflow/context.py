"""What the tone guard needs to judge a reply: our terms, the platform's limits, the post."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from monitoring.models import Account, Brand
from monitoring.platforms import Limits, PlatformError, platform_class
from outreach.models import ActionKind, ActionState, Case, OutboundAction, PlaybookKind
from outreach.tone import ReplyContext, check_reply
from outreach.tone.reply import DEFAULT_DISCLOSURE
from outreach.workflow.rules import WorkflowError


def platform_limits(platform: str) -> Limits:
    """The platform's reply limits (length, unit, threads) for the tone guard.

    The one place the tone context learns them. They come from the account's cache
    (refreshed by an hourly tick and by "Test connection"), so saving or approving a
    draft never waits on the network; the platform's defaults before the first refresh.
    """
    account = Account.objects.filter(platform=platform, enabled=True).order_by("pk").first()
    try:
        if account is not None:
            return account.cached_limits()
        return platform_class(platform).default_limits()
    except PlatformError as exc:
        raise WorkflowError(f"cannot read {platform}'s reply limits: {exc}") from exc


def _terms(kind: str) -> list[str]:
    terms: list[str] = []
    for brand in Brand.objects.filter(kind=kind):
        terms.extend(brand.all_terms())
    return terms


def _hashtags(terms: Iterable[str]) -> list[str]:
    return ["#" + re.sub(r"\W+", "", t) for t in terms if re.sub(r"\W+", "", t)]


def sender_candidates(case: Case) -> QuerySet[Account]:
    """The accounts a case's first reply may go from, best first: for an own-brand case
    the platform's service account when one is marked, else the first enabled account;
    competitor outreach keeps off the service account while another one is enabled."""
    service_first = case.kind == PlaybookKind.OWN_BRAND
    return Account.objects.filter(platform=case.platform, enabled=True).order_by(
        "-is_service" if service_first else "is_service", "pk"
    )


def sending_account(case: Case, *, first_reply: bool = True) -> Account | None:
    """The account a reply on ``case`` goes from: a later reply from the one that sent
    (or will send) the first reply, a first reply from the best candidate."""
    if not first_reply:
        first = (
            OutboundAction.objects.filter(case_id=case.pk, kind=ActionKind.REPLY)
            .exclude(state__in=[ActionState.CANCELLED, ActionState.FAILED])
            .select_related("account")
            .order_by("pk")
            .first()
        )
        if first is not None:
            return first.account
    return sender_candidates(case).first()


def reply_context(case: Case, *, first_reply: bool = True) -> ReplyContext:
    """What the tone guard needs to judge a reply on ``case`` (the first one, or a later one)."""
    limits = platform_limits(case.platform)
    own = _terms(Brand.Kind.OWN)
    sender = sending_account(case, first_reply=first_reply)
    return ReplyContext(
        playbook=case.kind,
        own_terms=own,
        competitor_terms=_terms(Brand.Kind.COMPETITOR),
        post_text=case.post.text,
        max_length=limits.reply_max_length if limits.can_reply else 0,
        length_unit=limits.length_unit,
        first_reply=first_reply,
        templates=tuple(str(t) for t in case.playbook.reply_templates or ()),
        own_hashtags=_hashtags(own),
        personal_account=sender is not None and sender.personal_account,
        disclosure=case.playbook.disclosure or DEFAULT_DISCLOSURE,
    )


def tone_findings(case: Case, text: str, *, first_reply: bool = True) -> list[dict[str, Any]]:
    """The tone guard's findings for ``text`` as a reply on ``case``, as JSON values."""
    return [
        {
            "code": f.code,
            "blocking": bool(f.blocking),
            "message": f.message,
            "start": f.start,
            "end": f.end,
            # "pattern" or "model"; a model finding says how sure it is and what it resembles.
            "source": f.source,
            "confidence": f.confidence,
            "evidence": f.evidence,
        }
        for f in check_reply(text, reply_context(case, first_reply=first_reply))
    ]
