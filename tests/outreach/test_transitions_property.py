"""Property tests on the transition table: whatever moves are tried, in any order, by
anyone (including tampering with the database behind the workflow's back), a case
never reaches "followed" without an engagement, nor gets its reply out without
research and a valid approval."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from outreach import workflow
from outreach.models import (
    OPEN_STAGES,
    Case,
    EngagementEvent,
    OutboundAction,
    ReplyDraft,
    ResearchNote,
    Stage,
    text_hash,
)
from tests.outreach.factories import COMPLAINT, GOOD_REPLY, SUMMARY, PostFactory

pytestmark = pytest.mark.django_db

MOVE_NAMES = [
    "claim",
    "research_complete",
    "research_incomplete",
    "draft_good",
    "draft_salesy",
    "submit",
    "approve_by_reviewer",
    "approve_by_analyst",
    "approve_stale_hash",
    "reject",
    "send",
    "engage_reply",
    "engage_favourite",
    "engage_block",
    "follow",
    "dismiss",
    "expire",
    "no_response",
    "resolve",
    "opt_out",
    "tamper_draft_text",
    "tamper_queue_second_reply",
    "answer",
    "tamper_queue_answer",
    "confirm_follow",
    "gone_quiet",
]

HAPPY_PATH = [
    "claim",
    "research_complete",
    "draft_good",
    "submit",
    "approve_by_reviewer",
    "send",
    "engage_reply",
    "follow",
]


def _moves(case: Case, analyst: Any, reviewer: Any, n: list[int]) -> dict[str, Callable[[], Any]]:
    def engage(kind: str, text: str = "") -> Any:
        n[0] += 1
        return workflow.record_engagement(
            case,
            kind=kind,
            external_id=f"e-{case.pk}-{n[0]}",
            occurred_at=timezone.now(),
            text=text,
        )

    def send() -> Any:
        action = OutboundAction.objects.filter(case=case, kind="reply", state="pending").first()
        if action is None:
            raise workflow.WorkflowError("nothing to send")
        workflow.check_sendable(action)
        return workflow.mark_reply_sent(action.pk, external_id=f"s-{action.pk}")

    def tamper_second_reply() -> None:
        first = OutboundAction.objects.filter(case=case, kind="reply").first()
        if first is None:
            return
        n[0] += 1  # a fresh key each time: only the one-reply rule may refuse it
        with transaction.atomic():
            OutboundAction.objects.create(
                case=case,
                kind="reply",
                account=first.account,
                idempotency_key=f"x-{n[0]}",
                text="buy now",
                text_hash=text_hash("buy now"),
                not_before=timezone.now(),
            )

    def current() -> str:
        first = ReplyDraft.objects.filter(case=case, is_first_reply=True)
        return first.values_list("text", flat=True).first() or ""

    def answer() -> Any:
        workflow.save_later_reply(case, actor=analyst, text="Thanks, we are on it.")
        return workflow.approve_later_reply(
            case, actor=reviewer, text_hash_seen=text_hash("Thanks, we are on it.")
        )

    def tamper_answer() -> None:
        first = OutboundAction.objects.filter(case=case, kind="reply").first()
        if first is None:
            return
        n[0] += 1
        with transaction.atomic():
            OutboundAction.objects.create(
                case=case,
                kind="later_reply",
                account=first.account,
                idempotency_key=f"a-{n[0]}",
                text="buy now",
                text_hash=text_hash("buy now"),
                not_before=timezone.now(),
            )

    def confirm_follow() -> Any:
        follow = OutboundAction.objects.filter(case=case, kind="follow", state="pending").first()
        if follow is None:
            raise workflow.WorkflowError("no follow queued")
        workflow.check_sendable(follow)
        return workflow.mark_followed(follow.pk, external_id="f")

    return {
        "claim": lambda: workflow.claim(case, actor=analyst),
        "research_complete": lambda: workflow.save_research(
            case, actor=analyst, summary=SUMMARY, thread_checked=True, scope="isolated"
        ),
        "research_incomplete": lambda: workflow.save_research(
            case, actor=analyst, summary="meh", thread_checked=False, scope=""
        ),
        "draft_good": lambda: workflow.save_draft(case, actor=analyst, text=GOOD_REPLY),
        "draft_salesy": lambda: workflow.save_draft(
            case, actor=analyst, text="Switch to Northwind! northwind.example"
        ),
        "submit": lambda: workflow.submit_draft(case, actor=analyst),
        "approve_by_reviewer": lambda: workflow.approve_reply(
            case, actor=reviewer, text_hash_seen=text_hash(current())
        ),
        "approve_by_analyst": lambda: workflow.approve_reply(
            case, actor=analyst, text_hash_seen=text_hash(current())
        ),
        "approve_stale_hash": lambda: workflow.approve_reply(
            case, actor=reviewer, text_hash_seen=text_hash("something else")
        ),
        "reject": lambda: workflow.reject_draft(case, actor=reviewer, note="not yet"),
        "send": send,
        "engage_reply": lambda: engage("reply", "thanks, that is kind"),
        "engage_favourite": lambda: engage("favourite"),
        "engage_block": lambda: engage("block"),
        "follow": lambda: workflow.request_follow(case, actor=reviewer),
        "dismiss": lambda: workflow.dismiss(case, actor=analyst, reason="not relevant"),
        "expire": lambda: workflow.expire(case),
        "no_response": lambda: workflow.mark_no_response(case),
        "resolve": lambda: workflow.resolve(case, actor=analyst),
        "opt_out": lambda: workflow.opt_out(case, actor=analyst, reason="asked"),
        "answer": answer,
        "tamper_queue_answer": tamper_answer,
        "confirm_follow": confirm_follow,
        "gone_quiet": lambda: workflow.mark_gone_quiet(
            case, now=timezone.now() + dt.timedelta(days=30)
        ),
        "tamper_draft_text": lambda: ReplyDraft.objects.filter(case=case).update(
            text="Try Northwind today"
        ),
        "tamper_queue_second_reply": tamper_second_reply,
    }


def _check_invariants(case: Case) -> None:
    case.refresh_from_db()
    engaged = EngagementEvent.objects.filter(case=case, kind__in=workflow.ENGAGING_KINDS).exists()
    # No follow, ever, without the person engaging first.
    if (
        case.stage in (Stage.FOLLOW_REQUESTED, Stage.FOLLOWED)
        or OutboundAction.objects.filter(case=case, kind="follow").exists()
    ):
        assert engaged, "followed without an engagement"
    # Nothing further goes out before engagement.
    if OutboundAction.objects.filter(case=case, kind__in=["later_reply", "private_message"]):
        assert engaged, "an answer queued without an engagement"
    # Followed only once the platform confirmed the follow.
    if case.stage == Stage.FOLLOWED:
        assert OutboundAction.objects.filter(case=case, kind="follow", state="sent").exists()
    # At most one live public reply per case.
    live = OutboundAction.objects.filter(case=case, kind="reply").exclude(state="cancelled")
    assert live.count() <= 1
    # Open-ness and closed_at agree.
    assert (case.stage in OPEN_STAGES) == (case.closed_at is None)


def _check_sent_reply(case: Case) -> None:
    """Right after a reply went out: research was complete and the exact text approved."""
    sent = OutboundAction.objects.filter(case=case, kind="reply", state="sent").first()
    if sent is None:
        return
    draft = ReplyDraft.objects.get(case=case)
    assert not workflow.research_problems(ResearchNote.objects.filter(case=case).first())
    assert draft.approval_is_valid and draft.approved_text_hash == sent.text_hash
    assert draft.approved_by is not None and draft.approved_by.has_perm(workflow.APPROVE_PERMISSION)
    assert draft.approved_by_id != draft.author_id  # four eyes on this playbook


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Hand-picked attacks, tried on every run before the random ones.
@example(head=0, moves=["follow", "engage_reply", "send", "follow"])
@example(head=3, moves=["approve_by_analyst", "approve_stale_hash", "send", "follow"])
@example(head=5, moves=["tamper_draft_text", "send", "engage_reply", "follow"])
@example(head=5, moves=["tamper_queue_second_reply", "engage_favourite", "follow"])
@example(head=6, moves=["engage_block", "follow", "engage_reply", "follow"])
@example(head=6, moves=["follow"])
@example(head=6, moves=["engage_favourite", "follow"])
@example(head=5, moves=["follow", "send", "follow"])
@example(head=8, moves=["follow", "resolve", "opt_out"])
@given(
    head=st.integers(min_value=0, max_value=len(HAPPY_PATH)),
    moves=st.lists(st.sampled_from(MOVE_NAMES), max_size=25),
)
def test_no_sequence_of_moves_breaks_the_rules(
    world: None, competitor: Any, analyst: Any, reviewer: Any, head: int, moves: list[str]
) -> None:
    # Start some examples part-way along the happy path so that random moves reach
    # the late stages (followed, replied) often, not once in a million tries.
    with transaction.atomic():
        post = PostFactory(text=COMPLAINT)
        case = workflow.open_case(post.pk, competitor.pk, "competitor")
        table = _moves(case, analyst, reviewer, [0])
        for name in [*HAPPY_PATH[:head], *moves]:
            before = case.stage
            try:
                with transaction.atomic():
                    table[name]()
            except (workflow.WorkflowError, Exception) as exc:
                # Refusals are expected; the database refusing tampering is too (its
                # one-reply constraint, or the outbox trigger naming rule 3 or 4).
                assert isinstance(exc, workflow.WorkflowError) or any(
                    name in str(exc) for name in ("action_one_reply_per_case", "rule 3:", "rule 4:")
                ), exc
            _check_invariants(case)
            if before != Stage.AWAITING_ENGAGEMENT and case.stage == Stage.AWAITING_ENGAGEMENT:
                _check_sent_reply(case)
        transaction.set_rollback(True)


@pytest.mark.parametrize("origin", Stage.values)
def test_every_stage_has_a_row_in_the_transition_table(origin: str) -> None:
    assert origin in workflow.ALLOWED
    assert set(workflow.ALLOWED[origin]) <= set(Stage.values)


def test_followed_is_reachable_only_from_a_requested_follow_itself_only_from_engaged() -> None:
    assert [s for s, targets in workflow.ALLOWED.items() if Stage.FOLLOWED in targets] == [
        Stage.FOLLOW_REQUESTED
    ]
    assert [s for s, targets in workflow.ALLOWED.items() if Stage.FOLLOW_REQUESTED in targets] == [
        Stage.ENGAGED
    ]


def test_awaiting_engagement_is_reachable_only_from_approved() -> None:
    sources = [s for s, t in workflow.ALLOWED.items() if Stage.AWAITING_ENGAGEMENT in t]
    assert sources == [Stage.APPROVED]


def test_closed_stages_never_reopen() -> None:
    for origin, targets in workflow.ALLOWED.items():
        if origin not in OPEN_STAGES:
            assert not (set(targets) & set(OPEN_STAGES)), origin
