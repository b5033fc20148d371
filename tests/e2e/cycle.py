"""The full cycle on the sandbox, shared by the e2e tests that run it on real processes.

A friendly person complains about a competitor; beat polls, a worker stores and
judges the post, triage opens a case; the analyst and the reviewer make their
moves (``work_the_case``, the only moves a test makes); the outbox sends the one
reply, the person answers, the case is engaged and the automatic follow is sent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from monitoring.models import Account, Brand, SandboxFollow, SandboxPersona, SandboxPost, Source
from outreach import workflow
from outreach.models import Case, OutboundAction, PlaybookKind, ResearchNote, Stage, text_hash
from tests.outreach.factories import PlaybookFactory

REPLY = "That sounds really frustrating, a whole day without broadband. Hope it is back soon."
# Beat's ticks every second: the cycle takes seconds, not minutes.
FAST_TICKS = {
    "NOJACKAL_POLL_TICK_SECONDS": "1",
    "NOJACKAL_DISPATCH_TICK_SECONDS": "1",
    "NOJACKAL_NOTIFICATIONS_TICK_SECONDS": "1",
}


def a_complaint_on_the_sandbox() -> SandboxPersona:
    """Brands, a source, a playbook with automatic follow, our account, and the complaint."""
    Brand.objects.create(name="Northwind", kind="own", handles={"sandbox": ["@northwind"]})
    Brand.objects.create(name="Telvana", kind="competitor", handles={"sandbox": ["@telvana"]})
    persona = SandboxPersona.objects.create(external_id="u-1", handle="maya_k", persona="friendly")
    SandboxPost.objects.create(
        author_id_text=persona.external_id,
        author_handle=persona.handle,
        text="@telvana my broadband has been down since yesterday and nobody answers the phone",
        published_at=timezone.now() - dt.timedelta(minutes=1),
    )
    Source.objects.create(name="telvana", platform="sandbox", terms=["telvana"], cadence_seconds=10)
    PlaybookFactory(
        kind=PlaybookKind.COMPETITOR,
        version=1,
        four_eyes=True,
        auto_follow=True,
        # The highest a competitor playbook may set (outreach/limits.py): jitter <= 15 s a send.
        max_replies_per_account_per_hour=60,
    )
    Account.objects.create(
        platform="sandbox",
        handle="northwind_care",
        options={"handle": "northwind_care", "reaction_delay": [1, 2]},
        max_sends_per_hour=3600,
    )
    return persona


def work_the_case(case: Case, *, analyst: Any, reviewer: Any) -> None:
    """The human moves: claim, research, draft, submit; a second person approves."""
    workflow.claim(case, actor=analyst)
    workflow.save_research(
        case,
        actor=analyst,
        summary="Broadband down since yesterday, support unreachable; others report it too.",
        thread_checked=True,
        scope=ResearchNote.Scope.ISOLATED,
    )
    workflow.save_draft(case, actor=analyst, text=REPLY)
    workflow.submit_draft(case, actor=analyst)
    workflow.approve_reply(case, actor=reviewer, text_hash_seen=text_hash(REPLY))


def followed(case: Case) -> bool:
    """The case reached followed and the platform confirmed the follow."""
    return (
        Case.objects.get(pk=case.pk).stage == Stage.FOLLOWED
        and OutboundAction.objects.filter(case=case, kind="follow", state="sent").exists()
    )


def assert_replied_once_and_followed(case: Case, persona: SandboxPersona) -> None:
    """One reply on the network, one follow, and the case's last three moves in order."""
    ours = SandboxPost.objects.filter(author_handle="northwind_care")
    assert [p.text for p in ours] == [REPLY]
    assert SandboxFollow.objects.filter(followed_id=persona.external_id).count() == 1
    moves = [
        target
        for origin, target in case.events.order_by("created_at", "pk").values_list(
            "origin", "target"
        )
        if origin != target
    ]
    assert moves[-3:] == [Stage.AWAITING_ENGAGEMENT, Stage.ENGAGED, Stage.FOLLOWED]
