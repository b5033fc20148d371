"""`manage.py classify_posts --jsonl FILE`: complaint verdicts over JSON lines."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from monitoring import classifier

# Without --model the command reads the active version from the database.
pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[list[dict[str, Any]], CommandError | None]:
    out = io.StringIO()
    error = None
    try:
        call_command("classify_posts", *args, stdout=out)
    except CommandError as exc:
        error = exc
    return [json.loads(x) for x in out.getvalue().splitlines()], error


def write(tmp_path: Path, *lines: str | bytes) -> str:
    path = tmp_path / "posts.jsonl"
    path.write_bytes(b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines))
    return str(path)


def test_each_post_gets_a_verdict_in_input_order(tmp_path: Path) -> None:
    # given a complaint and a thank-you
    path = write(
        tmp_path,
        json.dumps({"id": "c1", "text": "@orbitel wifi down 3 days, still no engineer. useless"}),
        json.dumps({"id": 2, "text": "thanks @orbitel, fixed in 10 minutes, lovely engineer"}),
    )
    # when classified
    rows, error = run("--jsonl", path)
    # then one line each, in order, with exactly the documented keys
    assert error is None
    version = classifier.load_default().version
    assert [r["id"] for r in rows] == ["c1", 2]
    assert all(set(r) == {"id", "complaint", "score", "model"} for r in rows)
    assert rows[0]["complaint"] is True and rows[1]["complaint"] is False
    assert all(0.0 <= r["score"] <= 1.0 and r["model"] == version for r in rows)


def test_bad_lines_are_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    # given a file mixing good lines with every kind of bad one
    path = write(
        tmp_path,
        json.dumps({"id": "ok1", "text": "parcel never arrived"}),
        "this is not json",
        json.dumps({"id": "no-text"}),
        json.dumps({"id": "num-text", "text": 42}),
        json.dumps(["a", "list"]),
        b'{"id": "broken-utf8", "text": "caf\xe9 \xff"}',
        "",
        json.dumps({"id": "ok2", "text": "love the new app"}),
    )
    # when classified
    rows, error = run("--jsonl", path)
    # then every non-blank line has an output line, bad ones carry an error, and it exits non-zero
    assert [r["id"] for r in rows] == [
        "ok1",
        None,
        "no-text",
        "num-text",
        None,
        None,
        "ok2",
    ]
    errors = [r for r in rows if "error" in r]
    assert [r["id"] for r in errors] == [None, "no-text", "num-text", None, None]
    assert "line 2" in errors[0]["error"]
    # broken UTF-8 is reported, never classified as mangled text
    assert errors[4]["error"] == "line 6: not valid UTF-8 (byte 0xe9 at offset 34)"
    assert error is not None and "5 line(s)" in str(error)


def test_broken_utf8_on_standard_input_loses_no_line(tmp_path: Path) -> None:
    # given a stream with broken UTF-8 between good lines, read as a process reads it
    data = (
        b'{"id": 1, "text": "parcel never arrived"}\n'
        b'{"id": 2, "text": "caf\xe9"}\n'
        b'{"id": 3, "text": "lone \\ud800 surrogate, still late"}\n'
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "classify_posts", "--jsonl", "-"],
        input=data,
        capture_output=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        timeout=120,
    )
    # then every line has its answer, the bad one an error, and it exits non-zero
    rows = [json.loads(x) for x in result.stdout.decode("utf-8").splitlines()]
    assert [r["id"] for r in rows] == [1, None, 3]
    assert "not valid UTF-8" in rows[1]["error"]
    assert "complaint" in rows[2]
    assert result.returncode != 0 and b"Traceback" not in result.stderr


def test_reads_standard_input_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"id": 7, "text": "my bill doubled"}\n'))
    rows, error = run("--jsonl", "-")
    assert error is None
    assert [r["id"] for r in rows] == [7]


def test_batches_do_not_change_the_output(tmp_path: Path) -> None:
    lines = [json.dumps({"id": i, "text": f"order {i} is late again"}) for i in range(7)]
    path = write(tmp_path, *lines)
    one, _ = run("--jsonl", path, "--batch-size", "1")
    many, _ = run("--jsonl", path, "--batch-size", "3")
    assert one == many and len(one) == 7


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    rows, error = run("--jsonl", str(tmp_path / "nope.jsonl"))
    assert rows == []
    assert error is not None and "cannot read" in str(error)


def test_empty_file_gives_no_output_and_succeeds(tmp_path: Path) -> None:
    rows, error = run("--jsonl", write(tmp_path, ""))
    assert rows == [] and error is None
