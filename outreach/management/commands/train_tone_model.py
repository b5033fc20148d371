"""``manage.py train_tone_model``: train the tone guard's semantic layer and write its file.

Trains on the shipped labelled replies (``outreach/tone/training/replies*.jsonl``, and the
evaluation set where the tests are present) plus the reviewers' rejected drafts and their
approved successors (``outreach.tone_training.reviewer_pairs``); chooses each code's
blocking level on the development set (``training/dev.jsonl``, never trained on); and
writes the model to ``outreach/tone/training/model.npz`` (or ``--out``), which the guard
loads. Deterministic:
the same examples give the same file. Restart the web and worker processes afterwards.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from outreach.tone import semantic
from outreach.tone_training import reviewer_pairs


class Command(BaseCommand):
    help = "Train the tone guard's model on the shipped examples and the reviewers' pairs."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--out", type=Path, default=semantic.MODEL_FILE)
        parser.add_argument("--no-reviewers", action="store_true", help="the shipped examples only")

    def handle(self, *args: Any, **options: Any) -> None:
        pairs = [] if options["no_reviewers"] else reviewer_pairs()
        extra = semantic.reviewer_examples(pairs)
        examples = semantic.default_examples(extra)
        dev = semantic.default_dev()
        model = semantic.train(examples, dev=dev)
        model.save(options["out"])
        per_code = Counter(c for e in examples for c in e.codes if c in semantic.SEMANTIC_CODES)
        unnamed = sum(1 for p in pairs if not p["codes"])
        self.stdout.write(
            f"{len(examples)} labelled replies ({len(extra)} from {len(pairs)} rejected drafts;"
            f" {unnamed} notes named no code), {len(dev)} development replies to choose the"
            f" blocking levels, model {model.digest} -> {options['out']}"
        )
        levels = zip(model.codes, model.threshold, model.block, model.veto, strict=True)
        for code, threshold, block, veto in levels:
            blocks = f"blocks from {block:.2f}" if block <= 1 else "never blocks"
            doubts = f", doubts a pattern under {veto:.2f}" if veto > 0 else ""
            self.stdout.write(
                f"  {code:26} {per_code[code]:4} examples, reported from"
                f" {min(threshold, block):.2f}, {blocks}{doubts}"
            )
