"""Read a file of team labels (JSON Lines or CSV): pure, no database.

One reader for everyone who takes a labels file: ``import_labels`` (which stores the rows) and
``train_classifier --labels`` (which trains on them without touching the database). A line is
either a row or an error with its line number and reason; nothing here decides whether a file
with errors is imported, that is the caller's call.

Formats:

- JSON Lines: one object a line, ``{"text": ..., "complaint": ...}``, optional ``"brand"``
  (a brand's name) and ``"id"`` (the file's own id for the row). Blank lines are skipped.
- CSV with a header naming at least ``text`` and ``complaint`` (any order, any case); optional
  ``brand`` and ``id`` columns; other columns are ignored.

``complaint`` is a JSON boolean, or one of yes/no, y/n, true/false, 1/0 (any case). Texts are
matched by :func:`text_key` (the hash of the normalised text): when the same text appears twice,
the later line wins and the earlier one is listed in ``LabelFile.merged``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import sys
import unicodedata
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

MAX_TEXT_CHARS = 4000
MAX_ID_CHARS = 200  # Label.external_id
FIELDS = ("text", "complaint", "brand", "id")
_TRUE = frozenset({"yes", "y", "true", "1"})
_FALSE = frozenset({"no", "n", "false", "0"})
_JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson", ".json"})


@dataclass(frozen=True)
class LabelRow:
    """One good line of a labels file."""

    line: int
    text: str
    complaint: bool
    brand: str | None = None  # the brand's name as written in the file
    id: str = ""


@dataclass
class LabelFile:
    """What a labels file held: its good rows (duplicates merged) and its bad lines."""

    rows: list[LabelRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    # (line dropped, line kept): the same text appeared again later; the later line won.
    merged: list[tuple[int, int]] = field(default_factory=list)
    format: str = ""


class _BadLine(ValueError):
    pass


def normalise_text(text: str) -> str:
    """Return the form two labels of "the same text" share: NFKC, casefolded, spaces collapsed.

    Deliberately mild (accents and punctuation kept): "péché" and "pêche" are different labels.
    The hash of this form is stored (``Label.text_key``), so changing it needs a migration.
    """
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def text_key(text: str) -> str:
    """Return the SHA-256 hex digest of the normalised text: the unique key of a label."""
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


def read_label_file(path: str | Path, *, known_brands: Collection[str] | None = None) -> LabelFile:
    """Read ``path`` ("-" for stdin) as JSON Lines or CSV into rows and (line, reason) errors.

    The format comes from the suffix (.jsonl/.ndjson/.json or .csv), else from the first
    character. With ``known_brands`` (names, matched case-insensitively), a row naming another
    brand is an error; without it, brand names are passed through unchecked.
    """
    path = str(path)
    if path == "-":
        # surrogateescape: an undecodable byte becomes a bad line, not a crash of the whole file.
        stream: TextIO = io.TextIOWrapper(
            sys.stdin.buffer, encoding="utf-8-sig", errors="surrogateescape", newline=""
        )
        return _read(stream, suffix="", known_brands=known_brands)
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as stream:
        return _read(stream, suffix=Path(path).suffix.lower(), known_brands=known_brands)


def _read(stream: TextIO, *, suffix: str, known_brands: Collection[str] | None) -> LabelFile:
    text = stream.read()
    if suffix in _JSONL_SUFFIXES:
        fmt = "jsonl"
    elif suffix == ".csv":
        fmt = "csv"
    else:
        fmt = "jsonl" if text.lstrip().startswith("{") else "csv"
    result = LabelFile(format=fmt)
    brands = None if known_brands is None else {name.casefold() for name in known_brands}
    records = _jsonl_records(text) if fmt == "jsonl" else _csv_records(text)
    kept: dict[str, int] = {}  # text key -> index in result.rows
    for line, record in records:
        try:
            if isinstance(record, _BadLine):
                raise record
            row = _row(line, record, brands)
        except _BadLine as error:
            result.errors.append((line, str(error)))
            continue
        key = text_key(row.text)
        if key in kept:
            earlier = result.rows[kept[key]]
            result.merged.append((earlier.line, row.line))
            result.rows[kept[key]] = row
        else:
            kept[key] = len(result.rows)
            result.rows.append(row)
    # Rows in file order of the line that won, so a caller's progress follows the file.
    result.rows.sort(key=lambda row: row.line)
    return result


def _jsonl_records(text: str) -> Iterator[tuple[int, dict[str, Any] | _BadLine]]:
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        if _has_surrogates(raw):
            yield line, _BadLine("not valid UTF-8")
            continue
        try:
            record = json.loads(raw)
        except ValueError as error:
            yield line, _BadLine(f"bad JSON: {error}")
            continue
        if not isinstance(record, dict):
            yield line, _BadLine("not a JSON object")
            continue
        yield line, record


def _csv_records(text: str) -> Iterator[tuple[int, dict[str, Any] | _BadLine]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            yield start, _BadLine(f"bad CSV: {error}")
            start = reader.line_num + 1
            if header is None:
                return  # no usable header: every line after it would be misread
            continue
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        if header is None:
            header = [cell.strip().casefold() for cell in cells]
            problem = _header_problem(header)
            if problem:
                # One error for the header; the rows cannot be read without it.
                yield line, _BadLine(f"bad CSV header: {problem}")
                return
            continue
        if len(cells) != len(header):
            yield line, _BadLine(f"bad CSV: {len(cells)} field(s), the header has {len(header)}")
            continue
        if any(_has_surrogates(cell) for cell in cells):
            yield line, _BadLine("not valid UTF-8")
            continue
        record = {name: value for name, value in zip(header, cells, strict=True) if name in FIELDS}
        # An empty optional cell means "not given", like a missing key in JSON.
        yield line, {k: v for k, v in record.items() if v.strip() or k in ("text", "complaint")}


def _header_problem(header: list[str]) -> str:
    missing = [name for name in ("text", "complaint") if name not in header]
    if missing:
        return f"no {' or '.join(repr(name) for name in missing)} column (found {header!r})"
    repeated = sorted({name for name in header if name in FIELDS and header.count(name) > 1})
    if repeated:
        return f"column(s) {', '.join(repr(name) for name in repeated)} given twice"
    return ""


def _row(line: int, record: dict[str, Any], brands: set[str] | None) -> LabelRow:
    text = record.get("text")
    if text is None:
        raise _BadLine("missing text")
    if not isinstance(text, str):
        raise _BadLine("text is not a string")
    if _has_surrogates(text):
        raise _BadLine("not valid UTF-8")
    text = text.strip()
    if not text:
        raise _BadLine("empty text")
    if len(text) > MAX_TEXT_CHARS:
        raise _BadLine(f"text too long ({len(text)} characters, at most {MAX_TEXT_CHARS})")
    if "\x00" in text:
        raise _BadLine("text contains a NUL character")  # PostgreSQL text cannot hold it
    complaint = _complaint(record.get("complaint", _MISSING))
    brand = record.get("brand")
    if brand is not None:
        if not isinstance(brand, str):
            raise _BadLine("brand is not a string (give the brand's name)")
        brand = brand.strip() or None
        if brand is not None and brands is not None and brand.casefold() not in brands:
            raise _BadLine(f"unknown brand {brand!r}")
    external_id = record.get("id")
    if external_id is None:
        external_id = ""
    elif isinstance(external_id, bool) or not isinstance(external_id, str | int):
        raise _BadLine("id is not a string or an integer")
    external_id = str(external_id).strip()
    if len(external_id) > MAX_ID_CHARS:
        raise _BadLine(f"id too long (at most {MAX_ID_CHARS} characters)")
    return LabelRow(line=line, text=text, complaint=complaint, brand=brand, id=external_id)


_MISSING = object()


def _complaint(value: object) -> bool:
    if value is _MISSING or value is None:
        raise _BadLine("missing complaint")
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        folded = value.strip().casefold()
        if folded in _TRUE:
            return True
        if folded in _FALSE:
            return False
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "..."
    raise _BadLine(f"complaint is not a boolean (true/false, yes/no, 1/0): {shown}")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_surrogates(text: str) -> bool:
    # Undecodable bytes (surrogateescape) and lone surrogates from JSON "\\ud800" escapes alike:
    # neither can be stored as UTF-8.
    return _SURROGATE.search(text) is not None
