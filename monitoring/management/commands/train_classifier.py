"""Train the complaint classifier on the shipped examples plus the team's labels.

``train_classifier``: shipped examples + every label in the database (corrections, imports,
the label queue), weighted ``classifier.TEAM_WEIGHT``; prints the new version's figures beside
the active one's (k-fold macro-F1 on the team's labels, macro-F1 on the held-back rows) and
stores it inactive, for an admin to activate.

``train_classifier --labels FILE --save-to MODEL``: shipped examples + the labels in FILE (the
format ``import_labels`` reads); writes the model to the file MODEL and prints the same figures
against the default model, without touching the database: anyone can measure a domain of
their own with ``classify_posts --model MODEL``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from monitoring import classifier, versions
from monitoring.label_files import read_label_file


class Command(BaseCommand):
    help = (
        "Train a new classifier version on the shipped examples and the team's labels, print "
        "its figures beside the active version's, and store it inactive (activate it under "
        "Monitoring > Classifier versions). With --labels FILE --save-to MODEL: train on FILE's "
        "labels and write the model to MODEL, without the database."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--labels",
            help="A label file (JSONL or CSV, as import_labels reads) instead of the "
            "database's labels; needs --save-to.",
        )
        parser.add_argument("--save-to", help="Write the model to this file (needs --labels).")

    def handle(self, *args: Any, labels: str | None, save_to: str | None, **options: Any) -> None:
        if bool(labels) != bool(save_to):
            raise CommandError("--labels and --save-to go together")
        if labels and save_to:
            self._to_file(Path(labels), Path(save_to))
            return
        version, metrics, created = versions.train_version(say=self.stdout.write)
        self._figures(version.version, metrics)
        if not created:
            self.stdout.write(f"{version.version} is stored already; nothing new to activate.")
            return
        comparison = versions.compare(version)
        if comparison.worse:
            self.stdout.write(
                self.style.WARNING(
                    "it scores worse on the team's labels than the active version: the admin "
                    "will ask for confirmation before activating it."
                )
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"stored {version.version} (inactive); activate it in the admin "
                "under Monitoring > Classifier versions."
            )
        )

    def _to_file(self, labels_path: Path, model_path: Path) -> None:
        try:
            parsed = read_label_file(labels_path)
        except OSError as error:
            raise CommandError(f"cannot read {labels_path}: {error}") from error
        for line, reason in parsed.errors:
            self.stderr.write(f"{labels_path}:{line}: {reason}")
        if parsed.errors:
            raise CommandError(
                f"{len(parsed.errors)} bad line(s) in {labels_path}; nothing trained"
            )
        team = [classifier.Example(text=row.text, complaint=row.complaint) for row in parsed.rows]
        shipped = classifier.shipped_examples()
        self.stdout.write(
            f"training on {len(shipped)} shipped examples + {len(team)} label(s) from "
            f"{labels_path} (weighted {classifier.TEAM_WEIGHT:g}); measuring against the default"
        )
        try:
            trained = versions.train_and_measure(shipped, team, classifier.load_default())
        except ValueError as error:
            raise CommandError(str(error)) from error
        _write_atomically(model_path, trained.model.to_bytes())
        self._figures(trained.model.version, trained.metrics)
        self.stdout.write(self.style.SUCCESS(f"wrote {trained.model.version} to {model_path}"))

    def _figures(self, version: str, metrics: dict[str, Any]) -> None:
        kfold = metrics.get("kfold") or {}
        against = kfold.get("active_version", "the active version")
        self.stdout.write(f"{'':<34}{'new ' + version:>28}{'active ' + against:>28}")
        if kfold.get("folds"):
            self.stdout.write(
                f"{'team labels, ' + str(kfold['folds']) + '-fold macro-F1':<34}"
                f"{kfold['macro_f1']:>28.3f}{kfold['active_macro_f1']:>28.3f}"
                f"   (n={kfold['n']}, seed {kfold['seed']})"
            )
        else:
            self.stdout.write(
                f"{'team labels':<34}{'too few of each class for k-fold':>28} "
                f"(n={kfold.get('n', 0)})"
            )
        self.stdout.write(
            f"{'held-back rows, macro-F1':<34}{metrics['heldout_macro_f1']:>28.3f}"
            f"{metrics['active_heldout_macro_f1']:>28.3f}   (n={metrics['heldout_n']})"
        )
        if metrics.get("labels"):
            counted = ", ".join(f"{n} {source}" for source, n in sorted(metrics["labels"].items()))
            self.stdout.write(f"team labels by source: {counted}")
        for brand_id, chosen in (metrics.get("thresholds") or {}).items():
            floor = chosen.get("min_recall")
            self.stdout.write(
                f"brand {brand_id}: threshold {chosen['threshold']:.3f} (macro-F1 "
                f"{chosen['macro_f1']:.3f}, recall {chosen['recall']:.3f}, n={chosen['n']}"
                + (f", recall floor {floor:.2f}" if floor is not None else "")
                + ")"
            )


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file: a crash leaves no half model."""
    directory = path.resolve().parent
    try:
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.")
    except OSError as error:
        raise CommandError(f"cannot write {path}: {error}") from error
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise CommandError(f"cannot write {path}: {error}") from error
