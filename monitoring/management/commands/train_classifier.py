"""Retrain the complaint classifier on the shipped examples plus reviewers' corrections."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from monitoring import classifier
from monitoring.models import ClassifierVersion, Detection


class Command(BaseCommand):
    help = (
        "Train a new classifier version on the shipped examples and the verdicts reviewers "
        "corrected in the admin, print its evaluation, and store it inactive: an admin "
        "activates it under Monitoring > Classifier versions."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        corrections = [
            classifier.Example(text=text, complaint=label == Detection.Correction.COMPLAINT)
            for text, label in Detection.objects.filter(
                correction__in=[Detection.Correction.COMPLAINT, Detection.Correction.NOT_COMPLAINT]
            ).values_list("post__text", "correction")
        ]
        shipped = classifier.shipped_examples()
        model = classifier.train([*shipped, *corrections])
        heldout = classifier.evaluate(model, classifier.heldout_examples())
        self.stdout.write(
            f"trained {model.version} on {len(shipped)} shipped examples "
            f"+ {len(corrections)} reviewer correction(s)"
        )
        self.stdout.write(
            f"held-back set: macro-F1 {heldout['macro_f1']:.3f}, accuracy "
            f"{heldout['accuracy']:.3f} (n={heldout['n']})"
        )
        if ClassifierVersion.objects.filter(version=model.version).exists():
            self.stdout.write(f"{model.version} is stored already; nothing new to activate.")
            return
        ClassifierVersion.objects.create(
            version=model.version,
            blob=model.to_bytes(),
            metrics={
                "heldout_macro_f1": heldout["macro_f1"],
                "heldout_accuracy": heldout["accuracy"],
                "heldout_n": heldout["n"],
            },
            examples=len(shipped) + len(corrections),
            corrections=len(corrections),
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"stored {model.version} (inactive); activate it in the admin "
                "under Monitoring > Classifier versions."
            )
        )
