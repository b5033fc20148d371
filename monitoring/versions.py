"""Classifier versions: train on the shipped examples plus the team's labels, compare, activate.

``train_version`` reads every ``Label`` (corrections, imports and the label queue all land
there), trains a new model with the team's labels weighted (``classifier.TEAM_WEIGHT``),
measures it against the ACTIVE model on the same k folds of those labels and on the shipped
held-back rows (``classifier.cross_validate``), chooses a threshold per brand on the labels
of that brand, and stores it all inactive. ``activate`` is the one way a version becomes the
active one; it copies the version's per-brand thresholds onto ``Brand.threshold``, which
detection applies (``monitoring/triage.py``). ``compare`` says whether a version scores worse
on the team's labels than the active one, so the admin asks before activating it.

``retrain_if_due`` is the nightly tick (``NOJACKAL_RETRAIN_MIN_NEW_LABELS``,
``NOJACKAL_RETRAIN_AUTO_ACTIVATE``).

A threshold is a cut on one model's scores, so it belongs to the version it was chosen for:
it is stored in that version's metrics (``thresholds``, by brand id) and becomes the brand's
only when that version is activated. A brand with too few labels of either class gets no
threshold (the model's 0.5): the learning-curve study showed thresholds chosen on a few dozen
labels overfit.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.module_loading import import_string

from monitoring import classifier, triage
from monitoring.models import Brand, ClassifierVersion, Label

log = logging.getLogger(__name__)

# A brand's threshold is chosen only on at least this many labels, with this many of each class.
THRESHOLD_MIN_LABELS = 30
THRESHOLD_MIN_PER_CLASS = 5
# "Better by the figures" (auto-activation) lets the held-back figure fall by at most this
# much: 455 rows, so 0.01 is a handful of posts, within its noise.
HELDOUT_TOLERANCE = 0.01


@dataclass
class TeamLabels:
    """The team's labels as training rows, with each row's brand and the counts by source."""

    examples: list[classifier.Example] = field(default_factory=list)
    brand_ids: list[int | None] = field(default_factory=list)
    by_source: dict[str, int] = field(default_factory=dict)


@dataclass
class Trained:
    """A trained model and the figures it is stored with."""

    model: classifier.TrainedModel
    metrics: dict[str, Any]


def team_labels() -> TeamLabels:
    """Every Label row, oldest first (a stable order, so the same labels give the same version)."""
    labels = TeamLabels()
    rows = Label.objects.order_by("labelled_at", "pk").values_list(
        "text", "complaint", "brand_id", "source"
    )
    counts: Counter[str] = Counter()
    for text, complaint, brand_id, source in rows.iterator(chunk_size=2000):
        labels.examples.append(classifier.Example(text=text, complaint=complaint))
        labels.brand_ids.append(brand_id)
        counts[source] += 1
    labels.by_source = {source: counts.get(source, 0) for source in Label.Source.values}
    return labels


def train_and_measure(
    shipped: Sequence[classifier.Example],
    team: Sequence[classifier.Example],
    active: classifier.TrainedModel,
    *,
    brand_ids: Sequence[int | None] = (),
    recall_floors: dict[int, float] | None = None,
    team_weight: float = classifier.TEAM_WEIGHT,
) -> Trained:
    """Train on shipped + team and measure the new model and ``active`` (no database).

    ``brand_ids`` (one per team label) and ``recall_floors`` (brand id -> floor) choose the
    per-brand thresholds on the out-of-fold scores; without them there are none.
    """
    model = classifier.train(shipped, team=team, team_weight=team_weight)
    folds = classifier.cross_validate(shipped, team, active, team_weight=team_weight)
    heldout = classifier.heldout_examples()
    new_heldout = classifier.evaluate(model, heldout)
    active_heldout = classifier.evaluate(active, heldout)
    metrics: dict[str, Any] = {
        "team_weight": team_weight,
        "shipped": len(shipped),
        "team_labels": len(team),
        "kfold": {**folds.summary(), "active_version": active.version},
        "heldout_macro_f1": new_heldout["macro_f1"],
        "heldout_accuracy": new_heldout["accuracy"],
        "heldout_n": new_heldout["n"],
        "active_heldout_macro_f1": active_heldout["macro_f1"],
        "thresholds": brand_thresholds(folds, brand_ids, recall_floors or {}),
    }
    return Trained(model=model, metrics=metrics)


def brand_thresholds(
    folds: classifier.CrossValidation,
    brand_ids: Sequence[int | None],
    recall_floors: dict[int, float],
) -> dict[str, dict[str, Any]]:
    """{brand id: chosen threshold and its figures} on each brand's out-of-fold scores."""
    if folds.n_folds < 2 or not brand_ids:
        return {}
    ids = np.array([-1 if b is None else b for b in brand_ids])
    chosen: dict[str, dict[str, Any]] = {}
    for brand_id in sorted(set(ids.tolist()) - {-1}):
        mask = ids == brand_id
        truth = folds.truth[mask]
        complaints = int(truth.sum())
        if (
            len(truth) < THRESHOLD_MIN_LABELS
            or min(complaints, len(truth) - complaints) < THRESHOLD_MIN_PER_CLASS
        ):
            continue
        floor = recall_floors.get(brand_id)
        best = classifier.choose_threshold(folds.new_scores[mask], truth, floor)
        if best is not None:
            chosen[str(brand_id)] = {**best, "min_recall": floor}
    return chosen


def recall_floors() -> dict[int, float]:
    """{brand id: recall floor} from ``NOJACKAL_RECALL_FLOORS`` (outreach's playbooks).

    The setting names a function returning {brand kind: floor between 0 and 1}; monitoring
    never imports outreach, so the playbooks are asked through it.
    """
    path = getattr(settings, "NOJACKAL_RECALL_FLOORS", "")
    if not path:
        return {}
    by_kind: dict[str, float] = import_string(path)()
    return {
        pk: by_kind[kind]
        for pk, kind in Brand.objects.values_list("pk", "kind")
        if by_kind.get(kind) is not None
    }


def train_version(
    shipped: Sequence[classifier.Example] | None = None,
    *,
    say: Callable[[str], None] = lambda line: None,
) -> tuple[ClassifierVersion, dict[str, Any], bool]:
    """Train on the shipped examples + every Label, measure against the active version and
    store the result inactive. Returns (version, figures, created); a version trained on the
    same data already stored is returned as it is (created False)."""
    shipped = classifier.shipped_examples() if shipped is None else list(shipped)
    labels = team_labels()
    active_row = ClassifierVersion.objects.filter(active=True).only("pk").first()
    active = triage.active_model()
    say(
        f"training on {len(shipped)} shipped examples + {len(labels.examples)} team label(s) "
        f"(weighted {classifier.TEAM_WEIGHT:g}); measuring against {active.version}"
    )
    trained = train_and_measure(
        shipped,
        labels.examples,
        active,
        brand_ids=labels.brand_ids,
        recall_floors=recall_floors(),
    )
    trained.metrics["labels"] = labels.by_source
    trained.metrics["kfold"]["active_pk"] = active_row.pk if active_row else None
    existing = ClassifierVersion.objects.filter(version=trained.model.version).first()
    if existing is not None:
        return existing, trained.metrics, False
    version = ClassifierVersion.objects.create(
        version=trained.model.version,
        blob=trained.model.to_bytes(),
        metrics=trained.metrics,
        examples=len(shipped) + len(labels.examples),
        corrections=labels.by_source.get(Label.Source.CORRECTION, 0),
    )
    return version, trained.metrics, True


# --- comparing and activating ------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """A version's figures beside the active one's, as measured when it was trained."""

    team_new: float | None
    team_active: float | None
    heldout_new: float | None
    heldout_active: float | None
    comparable: bool  # measured against the version active now
    reason: str = ""

    @property
    def worse(self) -> bool:
        """Scores worse on the team's labels, or cannot be told apart from worse."""
        if not self.comparable:
            return True
        if self.team_new is None or self.team_active is None:
            return False  # no team labels: nothing to be worse on
        return self.team_new < self.team_active

    @property
    def better(self) -> bool:
        """Better by the figures: higher on the team's labels, held-back not lower (tolerance)."""
        if not self.comparable or self.team_new is None or self.team_active is None:
            return False
        if self.heldout_new is None or self.heldout_active is None:
            return False
        return (
            self.team_new > self.team_active
            and self.heldout_new >= self.heldout_active - HELDOUT_TOLERANCE
        )


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def compare(version: ClassifierVersion) -> Comparison:
    """How ``version`` stood against the model that was active when it was trained, and
    whether that model is still the active one (else its figures say nothing of today's)."""
    metrics = version.metrics or {}
    kfold = metrics.get("kfold") or {}
    active_pk = ClassifierVersion.objects.filter(active=True).values_list("pk", flat=True).first()
    comparable, reason = True, ""
    if "active_pk" not in kfold:
        comparable, reason = False, "it was not measured against another version"
    elif kfold["active_pk"] != active_pk:
        comparable = False
        reason = (
            "it was measured against another version than the active one "
            f"({kfold.get('active_version', '?')})"
        )
    return Comparison(
        team_new=_number(kfold.get("macro_f1")),
        team_active=_number(kfold.get("active_macro_f1")),
        heldout_new=_number(metrics.get("heldout_macro_f1")),
        heldout_active=_number(metrics.get("active_heldout_macro_f1")),
        comparable=comparable,
        reason=reason,
    )


def activate(version: ClassifierVersion, user: Any = None) -> None:
    """Make ``version`` the active classifier and its per-brand thresholds the brands'."""
    thresholds = (version.metrics or {}).get("thresholds") or {}
    with transaction.atomic():
        ClassifierVersion.objects.filter(active=True).exclude(pk=version.pk).update(active=False)
        ClassifierVersion.objects.filter(pk=version.pk).update(
            active=True, activated_at=timezone.now(), activated_by=user
        )
        Brand.objects.exclude(threshold=None).update(threshold=None)
        for brand_id, chosen in thresholds.items():
            Brand.objects.filter(pk=int(brand_id)).update(threshold=float(chosen["threshold"]))


# --- the nightly tick --------------------------------------------------------------------


def new_labels_since_newest_version() -> int:
    """Labels given (or changed) since the newest stored version was trained."""
    newest = ClassifierVersion.objects.aggregate(at=Max("created_at"))["at"]
    labels = Label.objects.all()
    if newest is not None:
        labels = labels.filter(labelled_at__gt=newest)
    return labels.count()


def retrain_if_due() -> str:
    """Train a version when ``NOJACKAL_RETRAIN_MIN_NEW_LABELS`` labels arrived since the newest
    (0: never); activate it when ``NOJACKAL_RETRAIN_AUTO_ACTIVATE`` is on and it is better by
    the figures. Returns what it did, for the log."""
    needed = settings.NOJACKAL_RETRAIN_MIN_NEW_LABELS
    if needed <= 0:
        return "off"
    waiting = new_labels_since_newest_version()
    if waiting < needed:
        return f"{waiting} new label(s), fewer than {needed}"
    version, _metrics, created = train_version()
    if not created:
        return f"{version.version} is stored already"
    if settings.NOJACKAL_RETRAIN_AUTO_ACTIVATE and compare(version).better:
        activate(version)
        return f"trained and activated {version.version}"
    return f"trained {version.version} (inactive)"
