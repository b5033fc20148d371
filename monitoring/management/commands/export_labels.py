"""Write the team labels out: `export_labels [FILE|-] [--format jsonl|csv]`."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from monitoring.models import Label

COLUMNS = ["text", "complaint", "brand", "id", "source", "platform", "labelled_at"]


class Command(BaseCommand):
    help = (
        "Write every team label as JSON Lines or CSV (the format import_labels and "
        "train_classifier --labels read; source, platform and labelled_at ride along and "
        "are ignored on import)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", default="-", help='Output file, or "-" (stdout).')
        parser.add_argument(
            "--format",
            choices=["jsonl", "csv"],
            help="Default: from the file's suffix (.csv), else jsonl.",
        )

    def handle(self, *args: Any, file: str, format: str | None, **options: Any) -> None:
        fmt = format or ("csv" if file.lower().endswith(".csv") else "jsonl")
        if file == "-":
            count = self._write(self.stdout, fmt)
        else:
            try:
                with open(file, "w", encoding="utf-8", newline="") as stream:
                    count = self._write(stream, fmt)
            except OSError as error:
                raise CommandError(f"cannot write {file}: {error}") from error
        target = "stdout" if file == "-" else Path(file).name
        self.stderr.write(f"{count} label(s) written to {target} ({fmt})")

    def _write(self, stream: Any, fmt: str) -> int:
        rows = (
            Label.objects.order_by("pk")
            .values_list(
                "text",
                "complaint",
                "brand__name",
                "external_id",
                "source",
                "platform",
                "labelled_at",
            )
            .iterator(chunk_size=2000)
        )
        out: Any = _Raw(stream) if isinstance(stream, OutputWrapper) else stream
        writer = csv.writer(out) if fmt == "csv" else None
        if writer is not None:
            writer.writerow(COLUMNS)
        count = 0
        for text, complaint, brand, external_id, source, platform, labelled_at in rows:
            if writer is not None:
                writer.writerow(
                    [
                        text,
                        "yes" if complaint else "no",
                        brand or "",
                        external_id,
                        source,
                        platform,
                        labelled_at.isoformat(),
                    ]
                )
            else:
                record: dict[str, Any] = {"text": text, "complaint": complaint}
                if brand:
                    record["brand"] = brand
                if external_id:
                    record["id"] = external_id
                record.update(source=source, platform=platform, labelled_at=labelled_at.isoformat())
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
        return count


class _Raw:
    """The command's stdout as a plain stream (``OutputWrapper.write`` adds line endings)."""

    def __init__(self, wrapper: OutputWrapper) -> None:
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")
