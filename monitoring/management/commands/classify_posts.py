"""Classify posts from JSON Lines: `classify_posts --jsonl FILE` (FILE or "-" for stdin).

Each input line is {"id": ..., "text": ...}; each output line is
{"id": ..., "complaint": true|false, "score": 0.0-1.0, "model": "<version>"}, in input order.
A bad line gives {"id": ..., "error": "..."} and the run goes on; the command exits non-zero
when any line failed. Blank lines are skipped.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError

from monitoring import classifier

BATCH_SIZE = 256


class Command(BaseCommand):
    help = "Classify posts read as JSON Lines ({id, text}) and print one verdict per line."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--jsonl", required=True, help='Input file, or "-" for stdin.')
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)

    def handle(self, *args: Any, jsonl: str, batch_size: int, **options: Any) -> None:
        model = classifier.load_default()
        failed = 0
        handle: IO[str]
        if jsonl == "-":
            handle = sys.stdin
            failed = self._run(handle, model, max(1, batch_size))
        else:
            try:
                # errors="replace": one line of broken UTF-8 must fail alone, not the whole file.
                handle = open(jsonl, encoding="utf-8", errors="replace")  # noqa: SIM115
            except OSError as error:
                raise CommandError(f"cannot read {jsonl}: {error}") from error
            with handle:
                failed = self._run(handle, model, max(1, batch_size))
        if failed:
            raise CommandError(f"{failed} line(s) could not be classified")

    def _run(self, lines: Iterable[str], model: classifier.TrainedModel, batch_size: int) -> int:
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
                self.stdout.write(json.dumps(row, ensure_ascii=False))
            self.stdout.flush()
        return failed


def _parse(lines: Iterable[str]) -> Iterator[tuple[Any, str, str | None]]:
    """Yield (id, text, error) per non-blank line; error is None for a good line."""
    for number, line in enumerate(lines, start=1):
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
