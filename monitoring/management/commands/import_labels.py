"""Import team labels from a JSONL or CSV file: `import_labels FILE [--skip-bad]`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring import labels
from monitoring.label_files import read_label_file
from monitoring.models import Brand

# Merged duplicates listed one by one up to this many (all of them with -v 2).
SHOWN_MERGES = 20


class Command(BaseCommand):
    help = (
        'Import labelled texts (JSON Lines {"text", "complaint"} or CSV with a header; optional '
        "brand (a brand's name) and id) as team labels, in one transaction. Every bad line is "
        "reported with its number and reason; with any bad line nothing is imported unless "
        "--skip-bad. The same text twice: the later line wins. Ends with a summary."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help='The labels file (.jsonl or .csv), or "-" for stdin.')
        parser.add_argument(
            "--skip-bad",
            action="store_true",
            help="Import the good lines even when some are bad (the bad ones are reported).",
        )

    def handle(self, *args: Any, file: str, skip_bad: bool, **options: Any) -> None:
        verbosity = int(options.get("verbosity", 1))
        brands = {brand.name.casefold(): brand for brand in Brand.objects.all()}
        try:
            found = read_label_file(file, known_brands=list(brands))
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error}") from error
        for line, reason in found.errors:
            self.stderr.write(f"line {line}: {reason}")
        for dropped, kept in found.merged[: None if verbosity > 1 else SHOWN_MERGES]:
            self.stderr.write(f"line {dropped}: same text as line {kept}, which wins")
        if verbosity <= 1 and len(found.merged) > SHOWN_MERGES:
            self.stderr.write(f"... and {len(found.merged) - SHOWN_MERGES} more merged (-v 2)")
        if found.errors and not found.rows:
            raise CommandError(f"{len(found.errors)} bad line(s), no good one; nothing imported.")
        if found.errors and not skip_bad:
            raise CommandError(
                f"{len(found.errors)} bad line(s); nothing imported. Fix them, or pass "
                f"--skip-bad to import the {len(found.rows)} good row(s)."
            )
        total = len(found.rows)
        bar = _ProgressBar(self.stderr, total) if total and verbosity > 0 else None
        summary = labels.import_rows(
            found.rows, brands, progress=bar.update if bar is not None else None
        )
        if bar is not None:
            bar.close()
        self.stdout.write(
            f"{summary.new} new, {summary.updated} updated, {summary.unchanged} unchanged, "
            f"{len(found.merged)} merged duplicate(s), {len(found.errors)} bad line(s)"
            + (" skipped" if found.errors else "")
        )


class _ProgressBar:
    """A one-line progress bar on stderr (redrawn in place on a terminal, a line per step
    otherwise, so a log shows how far an import got)."""

    WIDTH = 30

    def __init__(self, stream: Any, total: int) -> None:
        self.stream = stream
        self.total = total
        self.tty = bool(getattr(stream, "isatty", lambda: False)())

    def update(self, done: int) -> None:
        filled = self.WIDTH * done // self.total
        text = (
            f"importing [{'#' * filled}{'.' * (self.WIDTH - filled)}] "
            f"{done}/{self.total} ({100 * done // self.total}%)"
        )
        if self.tty:
            self.stream.write("\r" + text, ending="")
            self.stream.flush()
        else:
            self.stream.write(text)

    def close(self) -> None:
        if self.tty:
            self.stream.write("")
