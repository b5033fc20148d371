"""`import_labels FILE`: all or nothing, every bad line reported; `export_labels`: a round trip."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from monitoring import labels
from monitoring.models import Label
from tests.factories import BrandFactory

pytestmark = pytest.mark.django_db


def write(tmp_path: Path, name: str, *lines: str) -> str:
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return str(path)


def run(*args: str) -> tuple[str, str, CommandError | None]:
    out, err = io.StringIO(), io.StringIO()
    error = None
    try:
        call_command("import_labels", *args, stdout=out, stderr=err)
    except CommandError as exc:
        error = exc
    return out.getvalue(), err.getvalue(), error


def j(**fields: object) -> str:
    return json.dumps(fields)


def test_a_file_with_bad_lines_is_reported_line_by_line_and_nothing_is_imported(tmp_path):
    # given good lines and bad ones
    BrandFactory(name="Orbitel")
    path = write(
        tmp_path,
        "labels.jsonl",
        j(text="app crashes at payment", complaint=True, brand="orbitel"),
        "{oops",
        j(text="fine", complaint="maybe"),
        j(text="who?", complaint=True, brand="Nobody"),
        j(text="lovely", complaint=False),
    )
    # when imported
    _, err, error = run(path)
    # then every bad line is named with its reason, the command fails, and nothing is stored
    assert error is not None and "3 bad line(s); nothing imported" in str(error)
    assert "line 2: bad JSON" in err
    assert "line 3: complaint is not a boolean" in err
    assert "line 4: unknown brand 'Nobody'" in err
    assert not Label.objects.exists()


def test_skip_bad_imports_the_good_lines_and_says_what_it_skipped(tmp_path):
    brand = BrandFactory(name="Orbitel")
    path = write(
        tmp_path,
        "labels.jsonl",
        j(text="app crashes at payment", complaint=True, brand="ORBITEL", id="a1"),
        j(text="", complaint=True),
        j(text="lovely", complaint=False),
    )
    out, err, error = run(path, "--skip-bad")
    assert error is None
    assert "line 2: empty text" in err
    assert "2 new, 0 updated, 0 unchanged, 0 merged duplicate(s), 1 bad line(s) skipped" in out
    stored = {label.text: label for label in Label.objects.all()}
    assert stored["app crashes at payment"].brand == brand
    assert stored["app crashes at payment"].external_id == "a1"
    assert stored["lovely"].complaint is False and stored["lovely"].source == "import"
    assert "importing [" in err and "2/2 (100%)" in err  # the progress bar


def test_duplicates_in_the_file_are_merged_later_wins_and_existing_labels_counted(tmp_path):
    # given a label already stored for one text, and one stored exactly as the file has it
    labels.record("Still no refund", False, Label.Source.QUEUE)
    labels.record("router fine", False, Label.Source.IMPORT)
    path = write(
        tmp_path,
        "labels.csv",
        "text,complaint",
        "wifi down,no",
        "still no refund,yes",
        "WIFI  down,yes",
        "router fine,0",
    )
    out, err, error = run(path)
    assert error is None
    assert "line 2: same text as line 4, which wins" in err
    assert "1 new, 1 updated, 1 unchanged, 1 merged duplicate(s), 0 bad line(s)" in out
    verdicts = dict(Label.objects.values_list("text", "complaint"))
    assert verdicts == {"WIFI  down": True, "still no refund": True, "router fine": False}


@pytest.mark.parametrize("skip_bad", [[], ["--skip-bad"]])
def test_a_csv_without_a_complaint_column_imports_nothing_and_fails(tmp_path, skip_bad):
    path = write(tmp_path, "labels.csv", "text,verdict", "hello,yes")
    _, err, error = run(path, *skip_bad)
    assert error is not None
    assert "line 1: bad CSV header: no 'complaint' column" in err
    assert not Label.objects.exists()


def test_a_missing_file_is_a_clear_error(tmp_path):
    _, _, error = run(str(tmp_path / "nope.jsonl"))
    assert error is not None and "cannot read" in str(error)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_then_import_gives_the_same_labels(tmp_path, fmt):
    # given labels with brands, ids, commas, quotes, newlines and non-ASCII text
    BrandFactory(name="Orbitel")
    brand = BrandFactory(name="Telvana")
    labels.record('down, "again"\nsecond line', True, Label.Source.IMPORT, brand=brand)
    labels.record("résiliation impossible", True, Label.Source.QUEUE, external_id="r-9")
    labels.record("all good", False, Label.Source.CORRECTION)
    before = sorted(Label.objects.values_list("text", "complaint", "brand__name", "external_id"))
    # when exported, the table emptied and the file imported again
    path = str(tmp_path / f"labels.{fmt}")
    err = io.StringIO()
    call_command("export_labels", path, stderr=err)
    assert f"3 label(s) written to labels.{fmt} ({fmt})" in err.getvalue()
    Label.objects.all().delete()
    out, _, error = run(path)
    # then the same labels are back
    assert error is None and "3 new" in out
    after = sorted(Label.objects.values_list("text", "complaint", "brand__name", "external_id"))
    assert after == before


def test_export_to_stdout_is_jsonl_by_default():
    labels.record("x", True, Label.Source.IMPORT)
    out = io.StringIO()
    call_command("export_labels", stdout=out, stderr=io.StringIO())
    record = json.loads(out.getvalue())
    assert (record["text"], record["complaint"], record["source"]) == ("x", True, "import")
