"""Classify posts from JSON Lines: `classify_posts --jsonl FILE` (FILE or "-" for stdin).

With the active classifier version (the shipped default when none is active), or with
``--model MODEL``: a model file ``train_classifier --labels FILE --save-to MODEL`` wrote (no
database needed then). A file that is not such a model stops the command with its reason.

Each input line is {"id": ..., "text": ...}; each output line is
{"id": ..., "complaint": true|false, "score": 0.0-1.0, "model": "<version>"}, in input order.
A bad line gives {"id": ..., "error": "..."} and the run goes on; the command exits non-zero
when any line failed. Blank lines are skipped. Input is read as bytes and decoded line by line,
so a line of broken UTF-8 is reported as such (never classified as mangled text) and cannot
stop the run; output stays valid UTF-8 whatever the input held (lone surrogates are escaped).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from monitoring import classifier, triage

BATCH_SIZE = 256


class Command(BaseCommand):
    help = "Classify posts read as JSON Lines ({id, text}) and print one verdict per line."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--jsonl", required=True, help='Input file, or "-" for stdin.')
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        parser.add_argument(
            "--model",
            help="A model file written by train_classifier --save-to (default: "
            "the active version).",
        )

    def handle(
        self, *args: Any, jsonl: str, batch_size: int, model: str | None = None, **options: Any
    ) -> None:
        chosen = _load_model(model) if model else self._active_model()
        failed = 0
        handle: IO[bytes]
        if jsonl == "-":
            # Bytes, not sys.stdin's text: its decoder would stop the run at the first bad byte.
            handle = getattr(sys.stdin, "buffer", None) or _Encoded(sys.stdin)
            failed = self._run(handle, chosen, max(1, batch_size))
        else:
            try:
                handle = open(jsonl, "rb")  # noqa: SIM115
            except OSError as error:
                raise CommandError(f"cannot read {jsonl}: {error}") from error
            with handle:
                failed = self._run(handle, chosen, max(1, batch_size))
        if failed:
            raise CommandError(f"{failed} line(s) could not be classified")

    def _run(self, lines: Iterable[bytes], model: classifier.TrainedModel, batch_size: int) -> int:
        failed = 0
        for batch in _batches(_parse(lines), batch_size):
            good = [(post_id, text) for post_id, text, error in batch if error is None]
            verdicts = iter(model.predict([text for _, text in good]))
            for post_id, _text, error in batch:
                if error is not None:
                    failed += 1
                    row: dict[str, Any] = {"id": post_id, "error": error}
                else:
                    verdict = next(verdicts)
                    row = {
                        "id": post_id,
                        "complaint": verdict.complaint,
                        "score": verdict.score,
                        "model": verdict.model,
                    }
                self.stdout.write(_dump(row))
            self.stdout.flush()
        return failed

    def _active_model(self) -> classifier.TrainedModel:
        try:
            return triage.active_model()
        except DatabaseError as error:
            # No database (or not migrated): there is no active version, only the default.
            first = (str(error).strip().splitlines() or ["unreachable"])[0]
            self.stderr.write(f"no database ({first}); classifying with the shipped default model")
            return classifier.load_default()


def _load_model(path: str) -> classifier.TrainedModel:
    """The model in the file at ``path``, or a CommandError saying why it is not one."""
    try:
        blob = Path(path).read_bytes()
    except OSError as error:
        raise CommandError(f"cannot read model {path}: {error}") from error
    try:
        return classifier.TrainedModel.from_bytes(blob)
    except ValueError as error:
        raise CommandError(
            f"{path} is not a model written by train_classifier --save-to ({error})"
        ) from error


class _Encoded:
    """Lines of a text stream as UTF-8 bytes (a replaced sys.stdin without a buffer)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def __iter__(self) -> Iterator[bytes]:
        for line in self.stream:
            yield line.encode("utf-8", errors="surrogatepass")


def _dump(row: dict[str, Any]) -> str:
    """One output line; escaped to ASCII only when the row holds text UTF-8 cannot carry."""
    line = json.dumps(row, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a "\ud800" escape in the input
        return json.dumps(row)
    return line


def _parse(raw_lines: Iterable[bytes]) -> Iterator[tuple[Any, str, str | None]]:
    """Yield (id, text, error) per non-blank line; error is None for a good line."""
    for number, raw in enumerate(raw_lines, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            where = f"byte 0x{raw[error.start]:02x} at offset {error.start}"
            yield None, "", f"line {number}: not valid UTF-8 ({where})"
            continue
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as error:
            yield None, "", f"line {number}: not JSON: {error}"
            continue
        if not isinstance(row, dict):
            yield None, "", f"line {number}: expected a JSON object"
            continue
        post_id = row.get("id")
        if isinstance(post_id, dict | list):
            yield None, "", f"line {number}: id must be a string or a number"
            continue
        text = row.get("text")
        if not isinstance(text, str):
            yield post_id, "", f"line {number}: text must be a string"
            continue
        yield post_id, text, None


def _batches(
    items: Iterable[tuple[Any, str, str | None]], size: int
) -> Iterator[list[tuple[Any, str, str | None]]]:
    batch: list[tuple[Any, str, str | None]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
