"""The move table is the one declaration of every move: a move declared in one place and
missing in another (its function, its button, its URL, its send-time checks) fails here."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from outreach import workflow
from outreach.admin import buttons
from outreach.models import OutboundAction, Stage
from outreach.workflow.table import MOVES, SEND_CHECKS

WORKFLOW_DIR = Path(workflow.__file__).parent

# The transition diagram of DESIGN.md, written out: the table built from the moves
# must give exactly these edges.
_ENDINGS = {Stage.DISMISSED, Stage.OPTED_OUT, Stage.FAILED}
DIAGRAM: dict[str, set[str]] = {
    Stage.NEW: {Stage.RESEARCHING, Stage.EXPIRED} | _ENDINGS,
    Stage.RESEARCHING: {Stage.DRAFTING, Stage.EXPIRED} | _ENDINGS,
    Stage.DRAFTING: {Stage.AWAITING_APPROVAL, Stage.EXPIRED} | _ENDINGS,
    Stage.AWAITING_APPROVAL: {Stage.APPROVED, Stage.DRAFTING, Stage.EXPIRED} | _ENDINGS,
    Stage.APPROVED: {Stage.AWAITING_ENGAGEMENT, Stage.DRAFTING, Stage.EXPIRED} | _ENDINGS,
    Stage.AWAITING_ENGAGEMENT: {Stage.ENGAGED, Stage.NO_RESPONSE} | _ENDINGS,
    Stage.ENGAGED: {Stage.FOLLOW_REQUESTED, Stage.RESOLVED, Stage.GONE_QUIET} | _ENDINGS,
    # "follow requested" until the platform confirms it; a follow that will not happen
    # (refused by the platform or by a rule at send time) leaves the case engaged again.
    Stage.FOLLOW_REQUESTED: {Stage.FOLLOWED, Stage.ENGAGED, Stage.RESOLVED, Stage.GONE_QUIET}
    | _ENDINGS,
    Stage.FOLLOWED: {Stage.RESOLVED, Stage.GONE_QUIET} | _ENDINGS,
    Stage.RESOLVED: {Stage.AMEND_REQUESTED, Stage.OPTED_OUT},
    Stage.AMEND_REQUESTED: {Stage.OPTED_OUT},
    Stage.NO_RESPONSE: {Stage.OPTED_OUT},
    Stage.GONE_QUIET: {Stage.OPTED_OUT},
    Stage.DISMISSED: set(),
    Stage.EXPIRED: set(),
    Stage.OPTED_OUT: set(),
    Stage.FAILED: set(),
}


def _actions_moved_in_code() -> set[str]:
    """Every ``action=`` a workflow module passes to ``_move`` (or the move it passes to
    ``_close``, which calls ``_move``), and the sent-text moves."""
    found: set[str] = set()
    for path in WORKFLOW_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            name = getattr(node.func, "id", "") if isinstance(node, ast.Call) else ""
            if name == "_move":
                for kw in node.keywords:
                    if kw.arg == "action" and isinstance(kw.value, ast.Constant):
                        found.add(kw.value.value)
            elif name == "_close" and isinstance(node.args[1], ast.Constant):
                found.add(node.args[1].value)
    from outreach.workflow.conversation import _SENT_STAGE

    found.update(move for _, move in _SENT_STAGE.values())
    return found


def test_the_transition_table_built_from_the_moves_is_the_documented_diagram() -> None:
    assert {stage: set(targets) for stage, targets in workflow.ALLOWED.items()} == DIAGRAM


@pytest.mark.parametrize("name", list(MOVES))
def test_every_move_of_the_table_has_its_public_function(name: str) -> None:
    function = getattr(workflow, MOVES[name].performed_by, None)
    assert callable(function), f"no workflow.{MOVES[name].performed_by} for move {name}"
    assert MOVES[name].performed_by in workflow.__all__


def test_every_stage_change_in_the_code_is_a_move_of_the_table_and_back() -> None:
    in_code = _actions_moved_in_code()
    assert in_code - set(MOVES) == set(), "moves made in code but not declared in MOVES"
    declared = {name for name, move in MOVES.items() if move.target is not None}
    assert declared - in_code == set(), "moves declared in MOVES but never made"


def test_every_button_is_a_move_whose_function_takes_the_case_and_the_actor() -> None:
    assert buttons.buttons(), "the case page has buttons"
    for move in buttons.buttons():
        params = inspect.signature(getattr(workflow, move.performed_by)).parameters
        assert next(iter(params)) == "case" and "actor" in params, move.name
        if move.needs_note:
            assert {"note", "reason"} & set(params), f"{move.name} needs a note it cannot take"


def test_a_move_without_a_button_is_not_reachable_from_the_move_url() -> None:
    system = next(name for name, move in MOVES.items() if not move.label)
    with pytest.raises(KeyError):
        buttons.perform(system, None, None, note="", text_hash="")  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", OutboundAction.Kind.values)
def test_every_outbox_kind_is_checked_again_at_send_time(kind: str) -> None:
    assert SEND_CHECKS.get(kind), f"nothing re-checks a {kind} before it is sent"


@pytest.mark.parametrize("name", [m.name for m in buttons.buttons()])
def test_every_button_url_reaches_its_move(name: str, advance: Any, admin_user: Any) -> None:
    # On a closed case every move is refused by the workflow itself, not by the URL.
    case = advance(Stage.NEW)
    workflow.dismiss(case, actor=admin_user, reason="spam account")
    from django.test import Client

    client = Client()
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:outreach_case_move", args=[case.pk, name]), {"note": "x"}, follow=True
    )
    shown = " | ".join(str(m) for m in response.context["messages"])
    assert "Unknown move" not in shown, shown


def test_an_unknown_move_name_is_refused_by_the_url(advance: Any, admin_user: Any) -> None:
    from django.test import Client

    case = advance(Stage.NEW)
    client = Client()
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:outreach_case_move", args=[case.pk, "save_research"]), follow=True
    )
    assert "Unknown move" in " | ".join(str(m) for m in response.context["messages"])
