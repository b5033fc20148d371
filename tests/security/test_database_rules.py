"""Issue #12: the stage machine, the outbox and the audit trail hold in the database.

Each attack goes around ``workflow`` (``QuerySet.update()``, raw SQL) and must be
refused by the triggers of ``outreach.workflow.dbrules``. The file runs on the
test settings' PostgreSQL, and once more on SQLite in a subprocess (the laptops'
``make run``) by ``test_the_rules_hold_on_sqlite_too``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from outreach import workflow
from outreach.models import (
    ERASED,
    Case,
    CaseEvent,
    EngagementEvent,
    FindingOverrule,
    OutboundAction,
    ReplyDraft,
    Stage,
    text_hash,
)
from outreach.tone import FIRM_CODES
from outreach.workflow import dbrules
from outreach.workflow.checks import Attempt, tone_clean
from tests.outreach.factories import GOOD_REPLY
from tests.sqlite_rerun import on_sqlite, rerun_on_sqlite

SELLING = "Switch to our brand, code SAVE20"


@contextmanager
def _refused(match: str) -> Iterator[None]:
    """The database refuses the statements inside, naming the rule (IntegrityError on both)."""
    with pytest.raises(IntegrityError, match=match), transaction.atomic():
        yield


def _sql(statement: str, *params: Any) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_a_case_cannot_jump_from_new_to_followed_by_update(advance: Any) -> None:
    case = advance(Stage.NEW)
    with _refused("rule 10: audit: stage change .*not an edge of the transition table"):
        Case.objects.filter(pk=case.pk).update(stage=Stage.FOLLOWED)
    if connection.vendor == "postgresql":
        with _refused("stage change new -> followed is not an edge"):
            Case.objects.filter(pk=case.pk).update(stage=Stage.FOLLOWED)
    case.refresh_from_db()
    assert case.stage == Stage.NEW


def test_an_allowed_edge_without_its_case_event_is_refused(advance: Any) -> None:
    case = advance(Stage.NEW)
    with _refused("rule 10: audit: stage change .*without the CaseEvent of its move"):
        Case.objects.filter(pk=case.pk).update(stage=Stage.RESEARCHING)
    with _refused("rule 10: audit"):
        _sql("UPDATE outreach_case SET stage = 'researching' WHERE id = %s", case.pk)
    assert Case.objects.get(pk=case.pk).stage == Stage.NEW


def test_an_event_of_another_move_does_not_authorise_the_change(advance: Any) -> None:
    case = advance(Stage.NEW)
    with _refused("without the CaseEvent of its move"):
        CaseEvent.objects.create(
            case=case, action="dismiss", origin=Stage.NEW, target=Stage.RESEARCHING
        )
        Case.objects.filter(pk=case.pk).update(stage=Stage.RESEARCHING)


def test_engaged_is_not_reached_without_a_stored_engagement(advance: Any) -> None:
    case = advance(Stage.AWAITING_ENGAGEMENT)
    with _refused("rule 5: follow_after_engagement"):
        CaseEvent.objects.create(
            case=case,
            action="record_engagement",
            origin=Stage.AWAITING_ENGAGEMENT,
            target=Stage.ENGAGED,
        )
        _sql("UPDATE outreach_case SET stage = 'engaged' WHERE id = %s", case.pk)
    assert not EngagementEvent.objects.filter(case=case).exists()


def test_the_workflow_moves_still_pass_up_to_a_queued_follow(advance: Any) -> None:
    case = advance(Stage.FOLLOW_REQUESTED)
    moves = list(case.events.exclude(origin=F("target")).values_list("origin", "target"))
    assert moves[-1] == (Stage.ENGAGED, Stage.FOLLOW_REQUESTED)
    assert OutboundAction.objects.filter(case=case, kind="follow", state="pending").exists()


def test_case_events_cannot_be_rewritten_or_deleted(advance: Any) -> None:
    case = advance(Stage.RESEARCHING)
    event = case.events.first()
    assert event is not None
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        CaseEvent.objects.filter(pk=event.pk).update(note="nothing happened")
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        CaseEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(Exception, match="append-only"):
        _sql("UPDATE outreach_caseevent SET action = 'claim' WHERE id = %s", event.pk)
    with pytest.raises(Exception, match="append-only"):
        _sql("DELETE FROM outreach_caseevent WHERE case_id = %s", case.pk)
    assert list(case.events.values_list("action", flat=True)) == ["open_case", "claim"]


@pytest.mark.parametrize(
    "change",
    [
        {"text": SELLING},
        {"text_hash": text_hash(SELLING)},
        {"kind": "amend_request"},
        {"in_reply_to": "someone-else"},
    ],
    ids=["text", "hash", "kind", "target"],
)
def test_the_queued_outbox_text_cannot_be_swapped(advance: Any, change: dict[str, str]) -> None:
    case = advance(Stage.APPROVED)
    action = OutboundAction.objects.get(case=case, kind="reply")
    with _refused("rule 3: human_approval: an outbox row's text, hash, kind, case and target"):
        OutboundAction.objects.filter(pk=action.pk).update(**change)
    assert OutboundAction.objects.get(pk=action.pk).text == action.text


def test_the_queued_outbox_row_cannot_move_to_another_case(advance: Any) -> None:
    first = advance(Stage.APPROVED)
    other = advance(Stage.NEW)
    action = OutboundAction.objects.get(case=first, kind="reply")
    with _refused("text, hash, kind, case and target are fixed"):
        _sql("UPDATE outreach_outboundaction SET case_id = %s WHERE id = %s", other.pk, action.pk)


def test_a_reply_row_without_its_approval_is_refused(advance: Any, account: Any) -> None:
    case = advance(Stage.AWAITING_APPROVAL)
    with _refused("rule 3: human_approval: an outbox row is queued only by its move"):
        OutboundAction.objects.create(
            case=case,
            kind="reply",
            account=account,
            idempotency_key="shell-reply",
            text=SELLING,
            text_hash=text_hash(SELLING),
            not_before=timezone.now(),
        )


def test_a_reply_row_with_other_text_than_the_approved_draft_is_refused(advance: Any) -> None:
    case = advance(Stage.APPROVED)
    queued = OutboundAction.objects.get(case=case, kind="reply")
    OutboundAction.objects.filter(pk=queued.pk).update(state="cancelled")
    with _refused("an outbox row is queued only by its move"):
        OutboundAction.objects.create(
            case=case,
            kind="reply",
            account=queued.account,
            draft=queued.draft,
            idempotency_key="shell-swap",
            text=SELLING,
            text_hash=queued.text_hash,
            not_before=timezone.now(),
        )


def test_a_follow_or_message_before_engagement_is_refused(advance: Any, account: Any) -> None:
    case = advance(Stage.AWAITING_ENGAGEMENT)
    for kind, text in (("follow", ""), ("private_message", SELLING)):
        with _refused("an outbox row is queued only by its move"):
            OutboundAction.objects.create(
                case=case,
                kind=kind,
                account=account,
                idempotency_key=f"shell-{kind}",
                text=text,
                not_before=timezone.now(),
            )


def test_a_sent_reply_cannot_be_cancelled_and_requeued(advance: Any) -> None:
    case = advance(Stage.AWAITING_ENGAGEMENT)
    sent = OutboundAction.objects.get(case=case, kind="reply")
    assert sent.state == OutboundAction.State.SENT
    for state in ("cancelled", "pending"):
        with _refused("rule 4: one_unsolicited_message: outbox state change"):
            OutboundAction.objects.filter(pk=sent.pk).update(state=state)
    assert OutboundAction.objects.get(pk=sent.pk).state == OutboundAction.State.SENT


def test_a_cancelled_reply_is_not_revived(advance: Any) -> None:
    case = advance(Stage.APPROVED)
    action = OutboundAction.objects.get(case=case, kind="reply")
    OutboundAction.objects.filter(pk=action.pk).update(state="cancelled")
    with _refused("outbox state change"):
        OutboundAction.objects.filter(pk=action.pk).update(state="pending")


# --- Rule 6, service first: the hold (outreach/workflow/holds.py, migration 0010) ------------


def _served(case: Case, own_brand: Any) -> Case:
    """An own-brand case for the person of ``case``, opened through the workflow."""
    from outreach import workflow
    from tests.outreach.factories import PostFactory

    post = PostFactory(author=case.person, text="Northwind billed me twice")
    return workflow.open_case(post.pk, own_brand.pk, "own_brand")


def test_a_hold_names_an_open_own_brand_case_of_the_same_person(
    advance: Any, own_brand: Any, own_playbook: Any
) -> None:
    held = advance(Stage.NEW)
    own = _served(held, own_brand)
    held.refresh_from_db()
    assert held.on_hold and held.held_by_id == own.pk
    stranger = advance(Stage.NEW)
    for holder in (stranger, advance(Stage.DRAFTING)):  # competitor cases, another person
        with _refused("rule 6: one_conversation: a case is held only by an open own-brand"):
            Case.objects.filter(pk=held.pk).update(held_by=holder)
    with _refused("rule 6: one_conversation: a case is held only by an open own-brand"):
        _sql("UPDATE outreach_case SET held_by_id = %s WHERE id = %s", stranger.pk, held.pk)


def test_a_held_case_is_released_only_with_its_holder_closed(
    advance: Any, own_brand: Any, own_playbook: Any, analyst: Any
) -> None:
    from outreach import workflow

    held = advance(Stage.NEW)
    own = _served(held, own_brand)
    # Released behind the workflow while we serve the person: two open cases not on hold.
    # (SQLite names the columns of a unique index, PostgreSQL its name.)
    with _refused("case_one_open_per_person|outreach_case.person_id"):
        Case.objects.filter(pk=held.pk).update(on_hold=False, held_by=None)
    # Two competitor cases, one of them held: refused as well.
    with _refused("case_one_open_per_person_per_kind|outreach_case.person_id, outreach_case.kind"):
        Case.objects.create(
            post=held.post,
            person=held.person,
            brand=held.brand,
            platform=held.platform,
            kind=held.kind,
            playbook=held.playbook,
            due_at=held.due_at,
            on_hold=True,
        )
    with _refused("case_hold_consistent"):
        Case.objects.filter(pk=own.pk).update(on_hold=True)
    workflow.dismiss(own, actor=analyst, reason="answered by email")
    held.refresh_from_db()
    assert not held.on_hold and held.held_by_id is None


def _migration() -> Any:
    return importlib.import_module("outreach.migrations.0029_follow_not_sent_rules")


# --- tone-finding overrules (issue #18): never of a firm code, never edited -------------------

LINK_REPLY = "Sorry the line keeps dropping, that is rough. See telvana-status.com for updates."


def test_a_forged_overrule_of_a_firm_code_is_refused(advance: Any) -> None:
    case = advance(Stage.DRAFTING, reply=LINK_REPLY)
    draft = ReplyDraft.objects.filter(case_id=case.pk).latest("pk")
    for code in sorted(FIRM_CODES):
        with _refused("overrule_never_firm"):
            _sql(
                "INSERT INTO outreach_findingoverrule "
                "(case_id, draft_id, code, source, reason, text_hash, created_at) "
                "VALUES (%s, %s, %s, 'pattern', 'x', %s, CURRENT_TIMESTAMP)",
                case.pk, draft.pk, code, text_hash(draft.text),
            )  # fmt: skip
    refusal = tone_clean(Attempt(case=case))
    assert refusal is not None and "link" in str(refusal)


def test_an_overrule_is_never_edited_or_deleted(advance: Any, reviewer: Any) -> None:
    case = advance(Stage.AWAITING_APPROVAL, reply=GOOD_REPLY + " Hope it's back soon!!!")
    draft = ReplyDraft.objects.filter(case_id=case.pk).latest("pk")
    row = workflow.overrule_finding(
        case, actor=reviewer, draft=draft, code="exclamation_run", reason="their tone"
    )
    for statement, *params in (
        ("UPDATE outreach_findingoverrule SET reason = 'nobody asked' WHERE id = %s",),
        ("UPDATE outreach_findingoverrule SET code = 'shouting' WHERE id = %s",),
        ("UPDATE outreach_findingoverrule SET reason = %s, code = 'arguing' WHERE id = %s", ERASED),
        ("DELETE FROM outreach_findingoverrule WHERE id = %s",),
    ):
        with pytest.raises(Exception, match="append-only"):
            _sql(statement, *params, row.pk)
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        FindingOverrule.objects.filter(pk=row.pk).delete()

    row.refresh_from_db()
    assert (row.code, row.reason) == ("exclamation_run", "their tone")


def test_the_migration_holds_todays_move_table() -> None:
    # Fails when MOVES changed: make a new rules migration (see outreach/workflow/dbrules.py).
    assert dbrules.table_rules() == _migration().RULES


@pytest.mark.django_db
def test_the_installed_triggers_are_the_generated_ones() -> None:
    expected = dbrules.install_sql(connection.vendor, _migration().RULES)
    expected += dbrules.privacy_install_sql(connection.vendor)
    expected += dbrules.overrule_install_sql(connection.vendor)
    assert expected
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            functions = [s for s in expected if s.startswith("CREATE OR REPLACE FUNCTION")]
            names = [statement.split()[4].split("(")[0] for statement in functions]
            cursor.execute("SELECT proname, prosrc FROM pg_proc WHERE proname = ANY(%s)", [names])
            installed = dict(cursor.fetchall())
            assert len(installed) == len(functions) == 6
            for statement in functions:
                name = statement.split()[4].split("(")[0]
                assert installed[name] == statement.split("$$")[1]
        else:
            cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger'")
            installed_sql = {row[0] for row in cursor.fetchall()}
            assert set(expected) <= installed_sql


def test_the_rules_hold_on_sqlite_too(tmp_path: Path) -> None:
    rerun_on_sqlite(__file__, "test_the_rules_hold_on_sqlite_too", tmp_path)


@pytest.mark.django_db
def test_each_run_is_on_its_database() -> None:
    assert connection.vendor == ("sqlite" if on_sqlite() else "postgresql")
