"""`manage.py check_reply --jsonl FILE`: the tone guard over JSON lines."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from monitoring.platforms import get_platform

OWN = ["Northwind", "Northwind Fibre", "NW Unlimited"]
COMPETITORS = ["Telvana", "Orbix"]


def line(**fields: Any) -> str:
    row: dict[str, Any] = {
        "id": "r1",
        "text": "Sorry Telvana's outage hit you, hope it's back soon.",
        "platform": "sandbox",
        "playbook": "competitor",
        "own_terms": OWN,
        "competitor_terms": COMPETITORS,
        "post_text": "Telvana has been down all morning.",
    }
    row.update(fields)
    return json.dumps({k: v for k, v in row.items() if v is not ...})


def run(tmp_path: Path, *lines: str | bytes) -> tuple[list[dict[str, Any]], CommandError | None]:
    path = tmp_path / "drafts.jsonl"
    path.write_bytes(b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines))
    out = io.StringIO()
    error = None
    try:
        call_command("check_reply", "--jsonl", str(path), stdout=out)
    except CommandError as exc:
        error = exc
    return [json.loads(x) for x in out.getvalue().splitlines()], error


def test_each_line_gets_its_blocking_codes_and_warnings_in_order(tmp_path: Path) -> None:
    # Given a kind reply, a pushy one and a shouty one
    rows, error = run(
        tmp_path,
        line(id="kind"),
        line(id="pushy", text="Sorry! Switch to Northwind, use code SAVE20 at northwind.com"),
        line(id="shouty", text="SO SORRY ABOUT THIS OUTAGE!!! hope it's back soon"),
    )

    # Then one output line per input line, same order, codes split by kind
    assert error is None
    assert [r["id"] for r in rows] == ["kind", "pushy", "shouty"]
    assert rows[0] == {"id": "kind", "blocking": [], "warnings": []}
    assert {"own_brand_named", "link", "promo_code", "call_to_action"} <= set(rows[1]["blocking"])
    assert rows[1]["warnings"] == []
    assert rows[2]["blocking"] == []
    assert set(rows[2]["warnings"]) == {"shouting", "exclamation_run"}


def test_the_length_limit_comes_from_the_platform_adapter(tmp_path: Path) -> None:
    # Given the sandbox's own reply limit
    limits = get_platform("sandbox").limits()
    filler = "Sorry about the outage, hope it is back soon. "
    fits = (filler * 100)[: limits.reply_max_length]
    too_long = (filler * 100)[: limits.reply_max_length + 1]

    # When one reply fits and one is a character over
    rows, error = run(tmp_path, line(id="fits", text=fits), line(id="over", text=too_long))

    # Then only the longer one blocks as too long
    assert error is None
    assert "too_long" not in rows[0]["blocking"]
    assert "too_long" in rows[1]["blocking"]


def test_own_brand_lines_use_the_own_brand_rules(tmp_path: Path) -> None:
    rows, error = run(
        tmp_path,
        line(id="ok", playbook="own_brand", text="Sorry! Please DM us at northwind.com/help."),
        line(id="no-route", playbook="own_brand", text="Sorry about the outage."),
        line(id="later", playbook="own_brand", first_reply=False, text="Sorry about the outage."),
        line(id="hostile", playbook="own_brand", text="You're wrong. Delete this post. DM us."),
    )
    assert error is None
    assert rows[0] == {"id": "ok", "blocking": [], "warnings": []}
    assert rows[1]["blocking"] == ["no_contact_route"]
    assert rows[2]["blocking"] == [] and "no_contact_route" in rows[2]["warnings"]
    assert {"arguing", "delete_request"} <= set(rows[3]["blocking"])


def test_bad_lines_get_an_error_and_the_rest_are_still_checked(tmp_path: Path) -> None:
    # Given a mix of broken lines between two good ones
    rows, error = run(
        tmp_path,
        line(id="first"),
        "this is not json",
        "[1, 2, 3]",
        line(id="no-text", text=...),
        line(id="num-text", text=42),
        line(id="bad-playbook", playbook="retail"),
        line(id="bad-platform", platform="myspace"),
        line(id="no-platform", platform=...),
        line(id="bad-terms", own_terms="Northwind"),
        line(id="no-terms", competitor_terms=...),
        line(id="bad-post", post_text=["x"]),
        line(id="bad-first", first_reply="yes"),
        b'{"id": "latin1", "text": "caf\xe9"}',
        "",
        line(id="last"),
    )

    # Then every broken line says why, with its id when it had one, and the good ones pass
    by_id = {r["id"]: r for r in rows}
    assert rows[0]["id"] == "first" and rows[-1]["id"] == "last"
    assert by_id["first"]["blocking"] == [] and by_id["last"]["blocking"] == []
    errors = [r for r in rows if "error" in r]
    assert len(errors) == 12  # the blank line is skipped, not an error
    assert "not JSON" in errors[0]["error"] and errors[0]["id"] is None
    assert "not a JSON object" in errors[1]["error"]
    assert "missing text" in by_id["no-text"]["error"]
    assert "missing text" in by_id["num-text"]["error"]
    assert "unknown playbook" in by_id["bad-playbook"]["error"]
    assert "myspace" in by_id["bad-platform"]["error"]
    assert "missing platform" in by_id["no-platform"]["error"]
    assert "own_terms" in by_id["bad-terms"]["error"]
    assert "competitor_terms" in by_id["no-terms"]["error"]
    assert "post_text" in by_id["bad-post"]["error"]
    assert "first_reply" in by_id["bad-first"]["error"]
    assert "UTF-8" in errors[-1]["error"]
    assert all(set(r) == {"id", "line", "error"} for r in errors)

    # And the command fails at the end, saying how many lines failed
    assert error is not None and "12 of 14" in str(error)


def test_hostile_content_is_reported_not_executed(tmp_path: Path) -> None:
    text = "<script>alert(1)</script>\u202e Sorry about the outage, hope it's back <b>soon</b>"
    rows, error = run(tmp_path, line(id="<img src=x onerror=alert(1)>", text=text))
    assert error is None
    assert rows[0]["id"] == "<img src=x onerror=alert(1)>"
    assert rows[0]["blocking"] == []


def test_reads_standard_input_when_the_file_is_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given drafts on standard input, one of them broken
    drafts = "\n".join([line(id="a"), "{broken", line(id="c", text="Hi!")])
    monkeypatch.setattr(sys, "stdin", io.StringIO(drafts))
    out = io.StringIO()

    # When the command reads "-"
    with pytest.raises(CommandError, match="1 of 3"):
        call_command("check_reply", "--jsonl", "-", stdout=out)

    # Then every line was answered, the broken one with an error
    rows = [json.loads(x) for x in out.getvalue().splitlines()]
    assert rows[0] == {"id": "a", "blocking": [], "warnings": []}
    assert "error" in rows[1]
    assert "no_reference_to_problem" in rows[2]["blocking"]


def test_a_missing_file_is_a_command_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read"):
        call_command("check_reply", "--jsonl", str(tmp_path / "nope.jsonl"), stdout=io.StringIO())


def test_an_empty_file_succeeds_with_no_output(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    out = io.StringIO()
    call_command("check_reply", "--jsonl", str(path), stdout=out)
    assert out.getvalue() == ""
