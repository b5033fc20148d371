"""The read side: the case page's data in one selector, the repeated outbox queries as
queryset methods, and the one way tasks, ticks and bulk actions try a move."""

from __future__ import annotations

from typing import Any

import pytest

from outreach import queries, workflow
from outreach.models import OutboundAction, Stage
from outreach.workflow.refusals import try_each, try_move

pytestmark = pytest.mark.django_db


def test_a_case_has_no_sent_reply_until_the_platform_has_it(advance: Any) -> None:
    approved = advance(Stage.APPROVED)
    assert OutboundAction.objects.sent_reply(approved) is None
    replied = advance(Stage.AWAITING_ENGAGEMENT)
    sent = OutboundAction.objects.sent_reply(replied.pk)
    assert sent is not None and sent.state == "sent" and sent.kind == "reply"
    assert list(OutboundAction.objects.sent_replies().filter(case=replied)) == [sent]


def test_the_case_page_offers_the_draft_form_only_where_the_workflow_takes_it(
    advance: Any,
) -> None:
    drafting = queries.case_page(advance(Stage.DRAFTING), can_change=True)
    assert drafting.draft is not None and drafting.research is not None
    assert drafting.draft_editable and drafting.research_editable
    assert not drafting.amend_shown  # a competitor case never asks to amend a post
    replied = queries.case_page(advance(Stage.AWAITING_ENGAGEMENT), can_change=True)
    assert not replied.draft_editable and not replied.research_editable
    assert [a.kind for a in replied.actions] == ["reply"]
    read_only = queries.case_page(advance(Stage.DRAFTING), can_change=False)
    assert not read_only.draft_editable and not read_only.research_editable


def test_a_refused_move_is_skipped_with_its_reason_and_the_others_are_made(
    advance: Any, analyst: Any
) -> None:
    fresh, claimed = advance(Stage.NEW), advance(Stage.RESEARCHING)
    done, skipped = try_each(
        [fresh, claimed], lambda case: workflow.claim(case, actor=analyst), what="not claimed"
    )
    assert done == 1
    assert skipped == [f"case {claimed.pk} (cannot claim: case is researching)"]


def test_a_refused_move_in_a_task_gives_none(advance: Any, analyst: Any) -> None:
    claimed = advance(Stage.RESEARCHING)
    assert try_move(lambda: workflow.claim(claimed, actor=analyst), what="no claim") is None
    fresh = advance(Stage.NEW)
    assert try_move(lambda: workflow.claim(fresh, actor=analyst), what="no claim") == fresh
