"""`read_label_file`: JSON Lines and CSV files into rows and numbered bad lines (no database)."""

from __future__ import annotations

import json
from pathlib import Path

from monitoring.label_files import LabelRow, read_label_file, text_key


def write(tmp_path: Path, name: str, *lines: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines))
    return path


def test_jsonl_rows_carry_line_text_complaint_brand_and_id(tmp_path: Path) -> None:
    # given two good lines with a blank line between them
    path = write(
        tmp_path,
        "labels.jsonl",
        json.dumps({"text": "app crashes at payment", "complaint": True, "brand": "Orbitel"}),
        "",
        json.dumps({"text": "lovely service", "complaint": "no", "id": 7}),
    )
    # when read
    result = read_label_file(path)
    # then both are rows, numbered by their physical line
    assert result.errors == []
    assert result.format == "jsonl"
    assert result.rows == [
        LabelRow(line=1, text="app crashes at payment", complaint=True, brand="Orbitel", id=""),
        LabelRow(line=3, text="lovely service", complaint=False, brand=None, id="7"),
    ]


def test_every_bad_jsonl_line_is_reported_with_its_number_and_reason(tmp_path: Path) -> None:
    # given one good line among bad ones
    path = write(
        tmp_path,
        "labels.jsonl",
        json.dumps({"text": "fine line", "complaint": 1}),
        "{not json",
        json.dumps({"complaint": True}),
        json.dumps({"text": "   ", "complaint": True}),
        json.dumps({"text": "x" * 4001, "complaint": True}),
        json.dumps({"text": "maybe", "complaint": "perhaps"}),
        json.dumps(["text", "complaint"]),
        json.dumps({"text": "no verdict"}),
        json.dumps({"text": 5, "complaint": True}),
        b'{"text": "caf\xe9", "complaint": true}',
        json.dumps({"text": "nul \x00 byte", "complaint": True}),
        json.dumps({"text": "ok", "complaint": 2}),
    )
    # when read
    result = read_label_file(path)
    # then the good line is a row and every other line an error naming why
    assert [row.line for row in result.rows] == [1]
    reasons = dict(result.errors)
    assert sorted(reasons) == list(range(2, 13))
    assert reasons[2].startswith("bad JSON")
    assert reasons[3] == "missing text"
    assert reasons[4] == "empty text"
    assert reasons[5].startswith("text too long (4001 characters")
    assert reasons[6].startswith("complaint is not a boolean")
    assert reasons[7] == "not a JSON object"
    assert reasons[8] == "missing complaint"
    assert reasons[9] == "text is not a string"
    assert reasons[10] == "not valid UTF-8"
    assert reasons[11] == "text contains a NUL character"
    assert reasons[12].startswith("complaint is not a boolean")


def test_a_text_of_exactly_4000_characters_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "l.jsonl", json.dumps({"text": "y" * 4000, "complaint": False}))
    assert len(read_label_file(path).rows) == 1


def test_csv_with_a_header_in_any_order_and_case(tmp_path: Path) -> None:
    # given a CSV with its columns reordered, an extra column and a quoted multi-line text
    path = write(
        tmp_path,
        "labels.csv",
        "ID,Complaint,Text,Brand,notes",
        '1,yes,"refund never came, 3 weeks",Orbitel,x',
        '2,0,"thanks for the quick fix,\nall good now",,y',
        "3,TRUE,plain one,,",
    )
    # when read
    result = read_label_file(path)
    # then rows carry the record's first line and empty cells mean "not given"
    assert result.errors == []
    assert result.format == "csv"
    assert result.rows == [
        LabelRow(
            line=2, text="refund never came, 3 weeks", complaint=True, brand="Orbitel", id="1"
        ),
        LabelRow(line=3, text="thanks for the quick fix,\nall good now", complaint=False, id="2"),
        LabelRow(line=5, text="plain one", complaint=True, id="3"),
    ]


def test_a_csv_without_a_text_column_is_one_header_error(tmp_path: Path) -> None:
    path = write(tmp_path, "labels.csv", "body,complaint", "hello,yes", "bye,no")
    result = read_label_file(path)
    assert result.rows == []
    assert len(result.errors) == 1
    line, reason = result.errors[0]
    assert line == 1
    assert reason.startswith("bad CSV header: no 'text' column")


def test_csv_bad_rows_are_numbered(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "labels.csv",
        "text,complaint",
        "good,y",
        "too,many,cells",
        ",yes",
        "meh,sometimes",
    )
    result = read_label_file(path)
    assert [row.line for row in result.rows] == [2]
    assert [line for line, _ in result.errors] == [3, 4, 5]
    assert result.errors[1][1] == "empty text"


def test_the_same_text_twice_keeps_the_later_line_and_reports_the_merge(tmp_path: Path) -> None:
    # given the same text (differing in case and spacing) labelled twice, differently
    path = write(
        tmp_path,
        "labels.jsonl",
        json.dumps({"text": "Wifi down  again", "complaint": False}),
        json.dumps({"text": "other", "complaint": True}),
        json.dumps({"text": "wifi DOWN again", "complaint": True}),
    )
    # when read
    result = read_label_file(path)
    # then one row for it, from line 3, and the merge is reported as (dropped, kept)
    assert [(row.line, row.complaint) for row in result.rows] == [(2, True), (3, True)]
    assert result.merged == [(1, 3)]


def test_known_brands_turn_an_unknown_brand_into_a_bad_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "labels.jsonl",
        json.dumps({"text": "a", "complaint": True, "brand": "ORBITEL"}),
        json.dumps({"text": "b", "complaint": True, "brand": "Nobody"}),
    )
    result = read_label_file(path, known_brands=["Orbitel"])
    assert [row.brand for row in result.rows] == ["ORBITEL"]
    assert result.errors == [(2, "unknown brand 'Nobody'")]


def test_format_is_sniffed_when_the_suffix_says_nothing(tmp_path: Path) -> None:
    jsonl = write(tmp_path, "a.txt", json.dumps({"text": "a", "complaint": True}))
    csv_file = write(tmp_path, "b.txt", "text,complaint", "b,no")
    assert read_label_file(jsonl).format == "jsonl"
    assert read_label_file(csv_file).rows[0].text == "b"


def test_text_key_ignores_case_width_and_spacing_but_not_accents() -> None:
    assert text_key("Wifi  down\n") == text_key("wifi down")
    assert text_key("\uff37\uff29\uff26\uff29 down")  # full-width "WIFI" == text_key("wifi down")
    assert text_key("péché") != text_key("pêche")
