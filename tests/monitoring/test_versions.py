"""Training on the team's labels (issue #17): weights, k-fold figures, thresholds, activation."""

from __future__ import annotations

from io import StringIO
from typing import Any

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse

from monitoring import classifier, tasks, triage, versions
from monitoring.classifier import Example
from monitoring.label_files import text_key
from monitoring.models import Brand, ClassifierVersion, Label
from outreach.models import PlaybookKind
from tests.factories import BrandFactory
from tests.outreach.factories import PlaybookFactory

# Every third shipped example: training takes a third of the time and still learns both classes.
SHIPPED = classifier.shipped_examples()[::3]


@pytest.fixture
def small_shipped(monkeypatch: pytest.MonkeyPatch) -> list[Example]:
    monkeypatch.setattr(classifier, "shipped_examples", lambda: list(SHIPPED))
    return SHIPPED


def label(text: str, complaint: bool, source: str = Label.Source.IMPORT, brand=None) -> Label:
    return Label.objects.create(
        text=text,
        text_key=text_key(text),
        complaint=complaint,
        source=source,
        brand=brand,
    )


# --- classifier.train with the team's labels ----------------------------------------------


def test_team_labels_weigh_more_than_shipped_examples() -> None:
    # given a domain the shipped examples never saw: the team calls "gate change" posts
    # complaints
    team = [Example(f"gate change again for flight {n}, gate {n % 9}", True) for n in range(12)]
    probe = ["gate change again for flight 77, gate 3"]
    plain = classifier.train(SHIPPED, team=team, team_weight=1.0)
    weighted = classifier.train(SHIPPED, team=team)
    # then the weighted model (weight 3, the shipped default) moves further towards them
    assert classifier.TEAM_WEIGHT == 3.0
    assert weighted.scores(probe)[0][0] > plain.scores(probe)[0][0]
    # and the version says what it was trained on: the weight changes it
    assert weighted.version != plain.version
    assert weighted.trained_on == len(SHIPPED) + len(team)


@pytest.mark.parametrize("weight", [0, -1, float("nan"), float("inf"), "3"])
def test_a_team_weight_that_is_not_a_positive_number_is_refused(weight: Any) -> None:
    with pytest.raises(ValueError, match="team_weight"):
        classifier.train(SHIPPED, team=[Example("late again", True)], team_weight=weight)


def test_kfold_scores_every_team_label_once_with_models_that_never_saw_it() -> None:
    # given 40 team labels (held-back rows) and an active model
    team = classifier.heldout_examples()[:40]
    active = classifier.train(SHIPPED)
    # when cross-validated
    first = classifier.cross_validate(SHIPPED, team, active)
    # then 5 stratified folds cover every label once, the same for the same labels
    assert first.n_folds == 5
    assert sorted(np.bincount(first.folds).tolist()) == [8, 8, 8, 8, 8]
    assert first.folds.tolist() == classifier.fold_of(first.truth, 5).tolist()
    for fold in range(5):  # each fold keeps the complaint share
        share = first.truth[first.folds == fold].mean()
        assert abs(share - first.truth.mean()) <= 0.125
    assert not np.isnan(first.new_scores).any()
    # and the active model scored the same texts, as it is
    assert np.allclose(first.active_scores, active.scores([e.text for e in team])[0])
    summary = first.summary()
    assert summary["folds"] == 5 and len(summary["per_fold"]) == 5
    assert 0 <= summary["macro_f1"] <= 1 and 0 <= summary["active_macro_f1"] <= 1


def test_the_folds_are_seeded_and_stratified() -> None:
    truth = np.array([1] * 30 + [0] * 70)
    first, again = classifier.fold_of(truth, 5), classifier.fold_of(truth, 5)
    assert first.tolist() == again.tolist()
    assert first.tolist() != classifier.fold_of(truth, 5, seed=1).tolist()
    assert [int(truth[first == f].sum()) for f in range(5)] == [6, 6, 6, 6, 6]


def test_kfold_needs_two_labels_of_each_class() -> None:
    team = [Example("late again", True), Example("love it", False), Example("so slow", True)]
    result = classifier.cross_validate(SHIPPED, team, classifier.train(SHIPPED))
    assert result.n_folds == 0
    assert result.summary() == {"n": 3, "folds": 0, "seed": classifier.CV_SEED}


def test_the_threshold_maximises_macro_f1_or_meets_a_recall_floor() -> None:
    scores = [0.9, 0.8, 0.7, 0.45, 0.4, 0.3, 0.2, 0.1]
    truth = [1, 1, 1, 0, 1, 0, 0, 0]
    best = classifier.choose_threshold(scores, truth)
    assert best is not None and 0.7 > best["threshold"] > 0.45
    assert best["recall"] == 0.75
    # a floor of every complaint moves the threshold below the missed one
    floored = classifier.choose_threshold(scores, truth, min_recall=1.0)
    assert floored is not None and 0.4 >= floored["threshold"] > 0.3
    assert floored["recall"] == 1.0
    # without both classes there is nothing to choose
    assert classifier.choose_threshold([0.2, 0.9], [1, 1]) is None
    assert classifier.choose_threshold([], []) is None


# --- train_classifier: stored inactive with its figures ------------------------------------


@pytest.mark.django_db
def test_training_stores_the_kfold_figures_and_the_labels_by_source(small_shipped) -> None:
    # given team labels from each source, some about a brand
    brand = BrandFactory(name="Northwind", kind=Brand.Kind.OWN)
    for n, example in enumerate(classifier.heldout_examples()[:60]):
        source = [Label.Source.CORRECTION, Label.Source.IMPORT, Label.Source.QUEUE][n % 3]
        label(example.text, example.complaint, source, brand=brand if n < 40 else None)
    out = StringIO()
    # when trained
    call_command("train_classifier", stdout=out)
    # then a version is stored inactive with the new and the active figures
    version = ClassifierVersion.objects.get()
    assert not version.active
    kfold = version.metrics["kfold"]
    assert kfold["folds"] == 5 and kfold["n"] == 60 and len(kfold["per_fold"]) == 5
    assert 0 <= kfold["macro_f1"] <= 1 and 0 <= kfold["active_macro_f1"] <= 1
    assert kfold["active_version"] == classifier.load_default().version
    assert kfold["active_pk"] is None  # the shipped default was active
    assert 0 < version.metrics["heldout_macro_f1"] <= 1
    assert 0 < version.metrics["active_heldout_macro_f1"] <= 1
    assert version.metrics["labels"] == {"correction": 20, "import": 20, "queue": 20}
    assert version.metrics["team_weight"] == classifier.TEAM_WEIGHT
    assert version.corrections == 20 and version.examples == len(SHIPPED) + 60
    # and a threshold for the brand with enough labels, none for unlabelled ones
    assert set(version.metrics["thresholds"]) == {str(brand.pk)}
    printed = out.getvalue()
    assert "5-fold macro-F1" in printed and "held-back rows, macro-F1" in printed
    assert "20 correction, 20 import, 20 queue" in printed and "inactive" in printed
    # the stored blob is a working model
    model = classifier.TrainedModel.from_bytes(bytes(version.blob))
    assert model.version == version.version


@pytest.mark.django_db
def test_training_twice_on_the_same_labels_stores_one_version(small_shipped) -> None:
    label("still no refund after 6 weeks", True)
    call_command("train_classifier", stdout=StringIO())
    out = StringIO()
    call_command("train_classifier", stdout=out)
    assert "stored already" in out.getvalue()
    assert ClassifierVersion.objects.count() == 1


@pytest.mark.django_db
def test_an_own_brand_recall_floor_from_the_playbook_lowers_its_threshold() -> None:
    # given out-of-fold scores of labels about our brand (one complaint scored low) and a
    # competitor's, and an own-brand playbook that asks for every complaint to be found
    own = BrandFactory(name="Northwind", kind=Brand.Kind.OWN)
    rival = BrandFactory(name="Telvana")
    PlaybookFactory(kind=PlaybookKind.OWN_BRAND, min_recall_percent=100)
    PlaybookFactory(kind=PlaybookKind.COMPETITOR)
    floors = versions.recall_floors()
    assert floors == {own.pk: 1.0}
    ours = [0.9] * 10 + [0.2] + [0.3] * 9 + [0.1] * 10  # 11 complaints, 19 not
    theirs = [0.9] * 10 + [0.6] * 5 + [0.55] * 3 + [0.1] * 12  # 15 complaints, 15 not
    scores = np.array(ours + theirs)
    truth = np.array([1] * 11 + [0] * 19 + [1] * 15 + [0] * 15)
    folds = classifier.CrossValidation(
        truth, np.zeros(60, dtype=int), scores, scores, n_folds=5, seed=17
    )
    brands = [own.pk] * 30 + [rival.pk] * 30
    # when thresholds are chosen
    chosen = versions.brand_thresholds(folds, brands, floors)
    # then our brand's threshold goes below the low complaint; the rival's maximises macro-F1
    assert chosen[str(own.pk)]["recall"] == 1.0 and chosen[str(own.pk)]["threshold"] <= 0.2
    assert chosen[str(own.pk)]["min_recall"] == 1.0
    assert chosen[str(rival.pk)]["min_recall"] is None
    assert 0.55 < chosen[str(rival.pk)]["threshold"] < 0.6
    assert chosen[str(rival.pk)]["macro_f1"] == 1.0
    # and a brand with too few labels gets none
    assert versions.brand_thresholds(folds, [own.pk] * 20 + [None] * 40, floors) == {}


# --- train_classifier --labels FILE --save-to MODEL, classify_posts --model -------------------


def write_labels(tmp_path) -> Any:
    import json

    path = tmp_path / "labels.jsonl"
    rows = [{"text": e.text, "complaint": e.complaint} for e in classifier.heldout_examples()[:30]]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.django_db
def test_training_from_a_file_writes_the_model_and_leaves_the_database_alone(
    tmp_path, small_shipped, django_assert_num_queries
) -> None:
    labels = write_labels(tmp_path)
    model_path = tmp_path / "model.bin"
    out = StringIO()
    # when trained from the file, no query at all reaches the database
    with django_assert_num_queries(0):
        call_command(
            "train_classifier", "--labels", str(labels), "--save-to", str(model_path), stdout=out
        )
    # then nothing was stored, and the file is the model, with its figures printed
    assert ClassifierVersion.objects.count() == 0 and Label.objects.count() == 0
    model = classifier.TrainedModel.from_bytes(model_path.read_bytes())
    assert model.trained_on == len(SHIPPED) + 30
    printed = out.getvalue()
    assert "5-fold macro-F1" in printed and f"wrote {model.version}" in printed


@pytest.mark.django_db
def test_classify_posts_with_a_model_file_uses_that_model(
    tmp_path, django_assert_num_queries
) -> None:
    import json

    # given a model file as train_classifier --save-to writes it
    model_path = tmp_path / "model.bin"
    team = [Example("gate change again, third time today", True)] * 3
    model_path.write_bytes(classifier.train(SHIPPED, team=team).to_bytes())
    expected = classifier.TrainedModel.from_bytes(model_path.read_bytes())
    posts = tmp_path / "posts.jsonl"
    posts.write_text(json.dumps({"id": 1, "text": "my parcel never arrived"}) + "\n")
    out = StringIO()
    with django_assert_num_queries(0):
        call_command(
            "classify_posts", "--model", str(model_path), "--jsonl", str(posts), stdout=out
        )
    (row,) = [json.loads(line) for line in out.getvalue().splitlines()]
    assert row["model"] == expected.version != classifier.load_default().version
    assert row["score"] == expected.predict(["my parcel never arrived"])[0].score


@pytest.mark.parametrize(
    "content", [b"", b"not a zip", b"PK\x03\x04 broken zip", b'{"text": "a label file"}\n']
)
def test_classify_posts_refuses_a_file_that_is_not_a_model(tmp_path, content: bytes) -> None:
    from django.core.management.base import CommandError

    path = tmp_path / "model.bin"
    path.write_bytes(content)
    posts = tmp_path / "posts.jsonl"
    posts.write_text('{"id": 1, "text": "late again"}\n')
    with pytest.raises(CommandError, match="not a model written by train_classifier"):
        call_command("classify_posts", "--model", str(path), "--jsonl", str(posts))
    with pytest.raises(CommandError, match="cannot read model"):
        call_command("classify_posts", "--model", str(tmp_path / "missing"), "--jsonl", str(posts))


@pytest.mark.django_db
def test_classify_posts_without_a_model_uses_the_active_version(monkeypatch) -> None:
    import json
    import sys

    model = classifier.train(SHIPPED)
    ClassifierVersion.objects.create(version=model.version, blob=model.to_bytes(), active=True)
    monkeypatch.setattr(sys, "stdin", StringIO('{"id": 1, "text": "late again"}\n'))
    out = StringIO()
    call_command("classify_posts", "--jsonl", "-", stdout=out)
    assert json.loads(out.getvalue())["model"] == model.version


def test_labels_and_save_to_go_together(tmp_path) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="go together"):
        call_command("train_classifier", "--labels", str(tmp_path / "x.jsonl"))
    with pytest.raises(CommandError, match="go together"):
        call_command("train_classifier", "--save-to", str(tmp_path / "model.bin"))


def test_a_label_file_with_bad_lines_trains_nothing(tmp_path) -> None:
    from django.core.management.base import CommandError

    labels = tmp_path / "labels.jsonl"
    labels.write_text('{"text": "late again", "complaint": true}\nnot json\n')
    model_path = tmp_path / "model.bin"
    err = StringIO()
    with pytest.raises(CommandError, match="bad line"):
        call_command(
            "train_classifier",
            "--labels",
            str(labels),
            "--save-to",
            str(model_path),
            stderr=err,
            stdout=StringIO(),
        )
    assert ":2:" in err.getvalue()
    assert not model_path.exists()


# --- the admin: figures side by side, confirmation before a worse version ------------------


def stored(name: str, *, team: float, heldout: float, active: ClassifierVersion | None, **extra):
    return ClassifierVersion.objects.create(
        version=name,
        blob=b"x",
        metrics={
            "kfold": {
                "folds": 5,
                "n": 200,
                "seed": 17,
                "macro_f1": team,
                "active_macro_f1": 0.80,
                "active_version": active.version if active else "lr-ngrams-default",
                "active_pk": active.pk if active else None,
            },
            "heldout_macro_f1": heldout,
            "heldout_n": 455,
            "active_heldout_macro_f1": 0.90,
            "labels": {"correction": 50, "import": 140, "queue": 10},
            "team_labels": 200,
            "thresholds": {},
            **extra,
        },
    )


def activate(client, version: ClassifierVersion, **extra: str):
    return client.post(
        reverse("admin:monitoring_classifierversion_changelist"),
        {"action": "activate", "_selected_action": [version.pk], **extra},
    )


@pytest.mark.django_db
def test_a_version_worse_on_the_team_labels_is_not_activated_without_confirmation(admin_client):
    # given an active version and a new one that scores worse on the team's labels
    current = ClassifierVersion.objects.create(version="v1", blob=b"x", active=True)
    worse = stored("v2", team=0.70, heldout=0.95, active=current)
    # when an admin activates it
    response = activate(admin_client, worse)
    # then a confirmation page shows both figures, and nothing changed
    page = response.content.decode()
    assert response.status_code == 200
    assert "worse on the team&#x27;s labels" in page or "worse on the team's labels" in page
    assert "0.700" in page and "0.800" in page and 'name="confirm" value="yes"' in page
    worse.refresh_from_db()
    assert not worse.active and ClassifierVersion.objects.get(active=True) == current
    # when confirmed, it is activated
    activate(admin_client, worse, confirm="yes")
    assert ClassifierVersion.objects.get(active=True) == worse


@pytest.mark.django_db
def test_a_version_measured_against_another_active_version_asks_too(admin_client):
    old = ClassifierVersion.objects.create(version="v0", blob=b"x")
    ClassifierVersion.objects.create(version="v1", blob=b"x", active=True)
    stale = stored("v2", team=0.95, heldout=0.95, active=old)
    response = activate(admin_client, stale)
    assert "another version than the active one" in response.content.decode()
    assert not ClassifierVersion.objects.get(pk=stale.pk).active


@pytest.mark.django_db
def test_a_better_version_is_activated_at_once_with_its_brand_thresholds(admin_client):
    # given a version better on the team's labels, with a threshold chosen for one brand
    own = BrandFactory(name="Northwind", kind=Brand.Kind.OWN)
    other = BrandFactory(name="Telvana")
    Brand.objects.filter(pk=other.pk).update(threshold=0.7)  # from the version before
    chosen = {"threshold": 0.31, "macro_f1": 0.9, "recall": 0.95, "n": 80, "min_recall": 0.9}
    better = stored("v2", team=0.85, heldout=0.90, active=None, thresholds={str(own.pk): chosen})
    # then the list and the version's page show its figures beside the active one's
    listing = admin_client.get(reverse("admin:monitoring_classifierversion_changelist"))
    assert "0.850" in listing.content.decode()
    page = admin_client.get(
        reverse("admin:monitoring_classifierversion_change", args=[better.pk])
    ).content.decode()
    assert "0.850" in page and "0.800" in page and "Threshold for Northwind" in page
    assert "50 reviewer correction, 140 bulk import, 10 label queue" in page
    # when activated, no confirmation is asked and the thresholds become the brands'
    response = activate(admin_client, better)
    assert response.status_code == 302
    assert ClassifierVersion.objects.get(active=True) == better
    assert Brand.objects.get(pk=own.pk).threshold == 0.31
    assert Brand.objects.get(pk=other.pk).threshold is None
    # and the brand's page shows its threshold
    brand_page = admin_client.get(reverse("admin:monitoring_brand_change", args=[own.pk]))
    assert "0.310" in brand_page.content.decode()


# --- the nightly tick ----------------------------------------------------------------------


@pytest.fixture
def fake_training(monkeypatch) -> None:
    """The tick is the subject here, not the training (tested above): a quick stand-in that
    gives each set of labels its own version and a threshold for every labelled brand."""
    import dataclasses

    base = classifier.train(SHIPPED[::4])

    def train_and_measure(shipped, team, active, *, brand_ids=(), recall_floors=None, **_):
        model = dataclasses.replace(base, version=f"fake-{len(team)}")
        chosen = {"threshold": 0.4, "macro_f1": 0.9, "recall": 0.9, "n": len(team)}
        thresholds = {str(b): {**chosen, "min_recall": None} for b in set(brand_ids) if b}
        metrics = {
            "kfold": {"folds": 5, "n": len(team), "macro_f1": 0.9, "active_macro_f1": 0.8},
            "heldout_macro_f1": 0.9,
            "heldout_n": 455,
            "active_heldout_macro_f1": 0.9,
            "thresholds": thresholds,
        }
        return versions.Trained(model=model, metrics=metrics)

    monkeypatch.setattr(versions, "train_and_measure", train_and_measure)


@pytest.mark.django_db
def test_the_nightly_tick_does_nothing_while_the_setting_is_zero(settings, small_shipped):
    settings.NOJACKAL_RETRAIN_MIN_NEW_LABELS = 0
    label("still no refund", True)
    assert tasks.retrain_classifier() == "off"
    assert not ClassifierVersion.objects.exists()


@pytest.mark.django_db
def test_the_nightly_tick_trains_when_enough_new_labels_arrived(settings, fake_training):
    settings.NOJACKAL_RETRAIN_MIN_NEW_LABELS = 3
    settings.NOJACKAL_RETRAIN_AUTO_ACTIVATE = False
    label("still no refund", True)
    label("love the new app", False)
    assert "fewer than 3" in tasks.retrain_classifier()
    label("the app crashes at payment", True)
    assert "inactive" in tasks.retrain_classifier()
    version = ClassifierVersion.objects.get()
    assert not version.active
    # nothing new since: no second version
    assert "fewer than 3" in tasks.retrain_classifier()


@pytest.mark.django_db
def test_the_nightly_tick_activates_only_a_better_version_when_told(
    settings, fake_training, monkeypatch
):
    settings.NOJACKAL_RETRAIN_MIN_NEW_LABELS = 1
    settings.NOJACKAL_RETRAIN_AUTO_ACTIVATE = True
    brand = BrandFactory(name="Northwind", kind=Brand.Kind.OWN)
    label("still no refund", True, brand=brand)
    figures = {"better": True}
    monkeypatch.setattr(versions.Comparison, "better", property(lambda self: figures["better"]))
    assert "activated" in tasks.retrain_classifier()
    version = ClassifierVersion.objects.get(active=True)
    assert Brand.objects.get(pk=brand.pk).threshold == pytest.approx(
        version.metrics["thresholds"][str(brand.pk)]["threshold"]
    )
    assert triage.active_model().version == version.version
    # a worse one stays inactive
    figures["better"] = False
    label("the app crashes at payment", True)
    assert "inactive" in tasks.retrain_classifier()
    assert ClassifierVersion.objects.get(active=True) == version


def test_better_needs_higher_team_figures_and_no_real_loss_on_the_held_back_rows():
    def comparison(team_new: float, heldout_new: float) -> versions.Comparison:
        return versions.Comparison(team_new, 0.80, heldout_new, 0.90, comparable=True)

    assert comparison(0.81, 0.895).better
    assert not comparison(0.81, 0.88).better  # held-back fell by more than the tolerance
    assert not comparison(0.80, 0.95).better  # equal on the team's labels is not better
    assert comparison(0.79, 0.95).worse and not comparison(0.80, 0.90).worse
    assert versions.Comparison(None, None, 0.9, 0.9, comparable=True).worse is False
    assert versions.Comparison(0.9, 0.8, 0.9, 0.9, comparable=False).worse
