"""Attack: the outbox posts text nobody approved (issue #12, attack 1).

The reproduced attack changed ``OutboundAction.text`` after approval and let the
dispatcher post it, because the send-time check compared the draft's approved
hash with ``OutboundAction.text_hash`` (a copy) and never hashed the text posted.

The database may refuse that UPDATE once a row is queued (a trigger, another
line of defence). These tests prove the dispatcher's own hash holds without
it: they change the row as the dispatcher loads it (``dispatch._load``), after
any trigger could have spoken, so they pass with and without the trigger.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from monitoring.models import SandboxPost
from outreach import dispatch
from outreach.models import CaseEvent, OutboundAction, Stage, text_hash
from tests.outreach.factories import sandbox_post

pytestmark = pytest.mark.django_db

SELLING = "Switch to Northwind, code SAVE20 at checkout: https://northwind.example/deal"


@pytest.fixture
def approved(advance: Any) -> OutboundAction:
    """An approved first reply on a sandbox post, due now."""
    case = advance(Stage.APPROVED, post=sandbox_post())
    action = OutboundAction.objects.get(case=case, kind="reply")
    OutboundAction.objects.filter(pk=action.pk).update(not_before=timezone.now())
    return action


def tamper_on_load(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[OutboundAction], None]
) -> None:
    """Change the row in memory as the dispatcher loads it: what an UPDATE would do."""
    load = dispatch._load

    def tampered(rows: Any) -> OutboundAction | None:
        row = load(rows)
        if row is not None:
            change(row)
        return row

    monkeypatch.setattr(dispatch, "_load", tampered)


def posted_texts(action: OutboundAction) -> list[str]:
    """What the sandbox network holds under the person's post: what was really posted."""
    return list(
        SandboxPost.objects.filter(reply_to_id=int(action.case.post.external_id)).values_list(
            "text", flat=True
        )
    )


def test_outbox_text_changed_after_approval_is_never_posted(
    approved: OutboundAction, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the outbox row's text replaced after approval (text_hash left as approved)
    approved_text = approved.text
    tamper_on_load(monkeypatch, lambda row: setattr(row, "text", SELLING))
    # when the dispatcher sends it
    outcome = dispatch.send_action(approved.pk)
    # then nothing reached the platform, and the row failed naming rule 3
    assert outcome.result == "failed"
    assert posted_texts(approved) == []
    row = OutboundAction.objects.get(pk=approved.pk)
    assert row.state == OutboundAction.State.FAILED
    assert "rule 3" in row.error
    assert row.text == approved_text  # the tampering never reached the table either
    # and the case history says why, with the rule
    notes = list(CaseEvent.objects.filter(case_id=approved.case_id).values_list("note", flat=True))
    assert any("rule 3" in note for note in notes)
    approved.case.refresh_from_db()
    assert approved.case.stage == Stage.FAILED


def test_outbox_text_and_its_hash_both_changed_are_never_posted(
    approved: OutboundAction, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an attacker who also recomputed the row's own hash of the new text
    def change(row: OutboundAction) -> None:
        row.text, row.text_hash = SELLING, text_hash(SELLING)

    tamper_on_load(monkeypatch, change)
    # when the dispatcher sends it
    outcome = dispatch.send_action(approved.pk)
    # then nothing was posted and rule 3 is named
    assert outcome.result in ("failed", "refused")
    assert "rule 3" in outcome.detail
    assert posted_texts(approved) == []
    assert OutboundAction.objects.get(pk=approved.pk).state != OutboundAction.State.SENT


def test_the_adapter_receives_exactly_the_text_whose_hash_was_approved(
    approved: OutboundAction, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a watcher on every text the dispatcher hashes for the send
    hashed: list[str] = []
    check = dispatch.text_to_post

    def watched(action: OutboundAction) -> str:
        text = check(action)
        hashed.append(text)
        return text

    monkeypatch.setattr(dispatch, "text_to_post", watched)
    # when the untouched row is sent
    assert dispatch.send_action(approved.pk).result == "sent"
    # then the platform holds the very string that was hashed, and it is the approved one
    draft = approved.draft
    assert draft is not None
    assert posted_texts(approved) == hashed
    assert [text_hash(t) for t in hashed] == [draft.approved_text_hash]


def test_a_draft_whose_approval_was_voided_sends_nothing(
    approved: OutboundAction, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the approving draft's hash gone from the loaded row (approval voided)
    def void(row: OutboundAction) -> None:
        assert row.draft is not None
        row.draft.approved_text_hash = ""

    tamper_on_load(monkeypatch, void)
    # when the dispatcher sends it
    outcome = dispatch.send_action(approved.pk)
    # then nothing was posted and the refusal names rule 3
    assert outcome.result in ("failed", "refused")
    assert "rule 3" in outcome.detail
    assert posted_texts(approved) == []
