"""``manage.py check_reply --jsonl FILE``: run the tone guard over reply drafts, one per line.

Each input line is a JSON object::

    {"id": ..., "text": ..., "platform": "mastodon", "playbook": "competitor" | "own_brand",
     "own_terms": [...], "competitor_terms": [...], "post_text": "..."}

(``post_text``, ``first_reply`` (default true: false checks a later reply in the
conversation), ``personal_account`` (default false: true when a staff member sends
it from their own account, which must then disclose the affiliation), ``disclosure``
(the playbook's wording, default "I work at {brand}") and ``templates`` are optional).
Each output line is
``{"id": ..., "blocking": [codes], "warnings": [codes]}``, or ``{"id": ..., "error": "..."}``
for a line that could not be checked; the command goes on with the next line and
exits non-zero at the end if any line failed. The length limit comes from the
platform adapter.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any, BinaryIO, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.platforms import Limits, get_platform
from outreach.tone import PLAYBOOKS, ReplyContext, check_reply
from outreach.tone.reply import DEFAULT_DISCLOSURE


class LineError(ValueError):
    """One input line cannot be checked; the message goes into its output line."""


class Command(BaseCommand):
    help = "Check reply drafts (JSON lines) with the tone guard; print codes per line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--jsonl",
            required=True,
            metavar="FILE",
            help="JSON lines file with one draft per line, or - for standard input",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source = options["jsonl"]
        self._limits: dict[str, Limits] = {}
        failed = 0
        checked = 0
        if source == "-":
            stream: TextIO | BinaryIO = getattr(sys.stdin, "buffer", sys.stdin)
            failed, checked = self._run(stream)
        else:
            try:
                with open(source, "rb") as stream_file:
                    failed, checked = self._run(stream_file)
            except OSError as exc:
                raise CommandError(f"cannot read {source}: {exc.strerror or exc}") from exc
        if failed:
            raise CommandError(f"{failed} of {checked} line(s) could not be checked")

    def _run(self, stream: TextIO | BinaryIO) -> tuple[int, int]:
        failed = checked = 0
        for number, raw in _lines(stream):
            if not raw.strip():
                continue
            checked += 1
            row_id: Any = None
            try:
                row = _parse(raw, number)
                row_id = row.get("id")
                out = self._check(row)
            except LineError as exc:
                failed += 1
                out = {"id": row_id, "line": number, "error": str(exc)}
            self.stdout.write(json.dumps(out, ensure_ascii=False))
        return failed, checked

    def _check(self, row: dict[str, Any]) -> dict[str, Any]:
        text = row.get("text")
        if not isinstance(text, str):
            raise LineError("missing text (a string)")
        playbook = row.get("playbook")
        if playbook not in PLAYBOOKS:
            raise LineError(f"unknown playbook {playbook!r}; expected one of {list(PLAYBOOKS)}")
        limits = self._platform_limits(row.get("platform"))
        context = ReplyContext(
            playbook=playbook,
            own_terms=_strings(row, "own_terms"),
            competitor_terms=_strings(row, "competitor_terms"),
            post_text=_string(row, "post_text"),
            max_length=limits.reply_max_length,
            length_unit=limits.length_unit,
            first_reply=_boolean(row, "first_reply", default=True),
            templates=_strings(row, "templates", required=False),
            personal_account=_boolean(row, "personal_account", default=False),
            disclosure=_string(row, "disclosure") or DEFAULT_DISCLOSURE,
        )
        findings = check_reply(text, context)
        return {
            "id": row.get("id"),
            "blocking": _unique(f.code for f in findings if f.blocking),
            "warnings": _unique(f.code for f in findings if not f.blocking),
        }

    def _platform_limits(self, name: Any) -> Limits:
        if not isinstance(name, str) or not name:
            raise LineError("missing platform")
        if name not in self._limits:
            try:
                self._limits[name] = get_platform(name).limits()
            except Exception as exc:  # an adapter may fail to import or build: say which
                raise LineError(f"unknown or unavailable platform {name!r}: {exc}") from exc
        return self._limits[name]


def _lines(stream: TextIO | BinaryIO) -> Iterator[tuple[int, str]]:
    """Numbered lines as text; a line that is not UTF-8 becomes a marker that fails later."""
    for number, raw in enumerate(stream, start=1):
        if isinstance(raw, bytes):
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError:
                yield number, "\x00not utf-8"
        else:
            yield number, str(raw)


def _parse(raw: str, number: int) -> dict[str, Any]:
    if raw.startswith("\x00not utf-8"):
        raise LineError("line is not valid UTF-8")
    try:
        row = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise LineError(f"not JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(row, dict):
        raise LineError("not a JSON object")
    return row


def _strings(row: dict[str, Any], key: str, *, required: bool = True) -> list[str]:
    value = row.get(key)
    if value is None and not required:
        return []
    if value is None:
        raise LineError(f"missing {key} (a list of strings)")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LineError(f"{key} must be a list of strings")
    return value


def _string(row: dict[str, Any], key: str) -> str:
    value = row.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise LineError(f"{key} must be a string")
    return value


def _boolean(row: dict[str, Any], key: str, *, default: bool) -> bool:
    value = row.get(key, default)
    if not isinstance(value, bool):
        raise LineError(f"{key} must be true or false")
    return value


def _unique(codes: Iterator[str] | Any) -> list[str]:
    return list(dict.fromkeys(codes))
