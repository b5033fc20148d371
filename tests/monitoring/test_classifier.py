"""Complaint classifier: quality floor, determinism, serialisation, odd input, training data."""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path

import pytest

from monitoring import classifier
from monitoring.classifier import Example, TrainedModel, Verdict

# Measured on monitoring/training/heldout.jsonl with the shipped examples: macro-F1 0.903 on
# 455 posts; 0.894 on 501 after issue #17's rows (the first 455: still 0.903). The floor is about
# 0.05 below: a change that loses more fails here.
HELDOUT_MACRO_F1_FLOOR = 0.85


@pytest.fixture(scope="module")
def model() -> TrainedModel:
    return classifier.load_default()


@pytest.fixture(scope="module")
def heldout() -> list[Example]:
    return classifier.heldout_examples()


def test_quality_on_the_held_back_slice_stays_above_the_floor(
    model: TrainedModel, heldout: list[Example]
) -> None:
    # given the held-back examples, never used for training
    assert len(heldout) == 501
    # when the default model is evaluated on them
    report = classifier.evaluate(model, heldout)
    # then macro-F1 stays above the floor, and neither class collapses
    assert report["macro_f1"] >= HELDOUT_MACRO_F1_FLOOR
    assert report["complaint"]["recall"] >= 0.7
    assert report["not_complaint"]["recall"] >= 0.7


def test_the_floor_catches_a_much_worse_model(heldout: list[Example]) -> None:
    # given a model trained on a sliver of the data (what a broken data load would give)
    sliver = classifier.shipped_examples()[::40]
    weak = classifier.train(sliver)
    # then the quality floor above would reject it
    assert classifier.evaluate(weak, heldout)["macro_f1"] < HELDOUT_MACRO_F1_FLOOR


def test_clear_cases_go_the_right_way(model: TrainedModel) -> None:
    complaint, praise = model.predict(
        [
            "@orbitel internet down for 3 days and still no engineer. useless",
            "thank you @orbitel, the engineer was lovely and fixed it in 10 minutes",
        ]
    )
    assert complaint.complaint and complaint.score > 0.5
    assert not praise.complaint and praise.score < 0.5
    assert praise.sentiment > 0.5 > complaint.sentiment


def test_verdict_carries_score_sentiment_topic_and_version(model: TrainedModel) -> None:
    (verdict,) = model.predict(["charged twice for my bill this month, want a refund"])
    assert isinstance(verdict, Verdict)
    assert 0.0 <= verdict.score <= 1.0
    assert -1.0 <= verdict.sentiment <= 1.0
    assert verdict.topic == "billing"
    assert verdict.model == model.version
    assert verdict.model.startswith("lr-ngrams-") and len(verdict.model) == len("lr-ngrams-") + 8


def test_same_version_gives_the_same_verdicts(model: TrainedModel, heldout: list[Example]) -> None:
    # given the same training data trained a second time
    again = classifier.train(classifier.shipped_examples())
    texts = [e.text for e in heldout[:50]]
    # then the version string and every verdict are the same
    assert again.version == model.version
    assert again.predict(texts) == model.predict(texts)
    assert model.predict(texts) == model.predict(texts)


def test_version_changes_with_the_training_data_or_params() -> None:
    examples = [Example("it broke again", True), Example("love it", False)]
    base = classifier.model_version(examples, classifier.DEFAULT_PARAMS)
    more = classifier.model_version([*examples, Example("ok", False)], classifier.DEFAULT_PARAMS)
    other = classifier.model_version(examples, {**classifier.DEFAULT_PARAMS, "C": 1.0})
    assert len({base, more, other}) == 3


def test_model_survives_a_round_trip_through_bytes(
    model: TrainedModel, heldout: list[Example]
) -> None:
    # when the model is serialised and loaded back
    loaded = TrainedModel.from_bytes(model.to_bytes())
    # then it is the same model
    texts = [e.text for e in heldout]
    assert loaded.version == model.version
    assert loaded.predict(texts) == model.predict(texts)


def test_blob_holds_no_pickle(model: TrainedModel) -> None:
    with zipfile.ZipFile(io.BytesIO(model.to_bytes())) as archive:
        names = sorted(archive.namelist())
        assert "header.json" in names
        for name in names:
            if name.endswith(".npy"):
                # a pickled numpy array has dtype object ('|O'); ours are numbers and str
                assert b"'descr': '|O'" not in archive.read(name)[:200]


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"not a zip at all",
        pickle.dumps({"magic": "nojackal-complaint-model"}),
    ],
)
def test_from_bytes_refuses_anything_that_is_not_a_model(blob: bytes) -> None:
    with pytest.raises(ValueError, match="not a complaint model blob"):
        TrainedModel.from_bytes(blob)


def _forged(model: TrainedModel, *, header: dict | None = None, drop: str = "") -> bytes:
    """A copy of the model blob with its header replaced or one member left out."""
    source = zipfile.ZipFile(io.BytesIO(model.to_bytes()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as forged:
        for name in source.namelist():
            if name == drop:
                continue
            data = source.read(name)
            if name == "header.json" and header is not None:
                data = json.dumps({**json.loads(data), **header}).encode()
            forged.writestr(name, data)
    return buffer.getvalue()


def test_from_bytes_refuses_a_zip_with_the_wrong_magic(model: TrainedModel) -> None:
    with pytest.raises(ValueError, match="wrong magic"):
        TrainedModel.from_bytes(_forged(model, header={"magic": "something-else"}))


@pytest.mark.parametrize(
    ("header", "drop"),
    [
        ({"params": None}, ""),
        ({"intercept": "abc"}, ""),
        (None, "coef.npy"),
        (None, "char_terms.npy"),
    ],
)
def test_from_bytes_refuses_a_damaged_model(
    model: TrainedModel, header: dict | None, drop: str
) -> None:
    with pytest.raises(ValueError, match="not a complaint model blob"):
        TrainedModel.from_bytes(_forged(model, header=header, drop=drop))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "x" * 1_000_000,
        "\x00\x01\x02\xff\ufffd\u202e" * 500,
        "el vuelo se retrasó cinco horas y nadie nos dijo nada",
        "配達が遅れています。まだ届きません",
        "🙃🔥💀" * 200,
        "<script>alert(1)</script><b>bold</b>&amp;",
    ],
)
def test_odd_text_gets_a_valid_verdict(model: TrainedModel, text: str) -> None:
    (verdict,) = model.predict([text])
    assert 0.0 <= verdict.score <= 1.0
    assert verdict.topic in classifier.TOPICS


def test_non_text_values_are_coerced_not_raised(model: TrainedModel) -> None:
    verdicts = model.predict([b"\xff\xfe binary \x00 garbage", None, 12345])
    assert len(verdicts) == 3
    assert all(0.0 <= v.score <= 1.0 for v in verdicts)


def test_empty_batch_gives_no_verdicts(model: TrainedModel) -> None:
    assert model.predict([]) == []


def test_module_predict_uses_the_default_model(model: TrainedModel) -> None:
    (verdict,) = classifier.predict(["my parcel never arrived"])
    assert verdict.model == model.version


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("wifi down since 6am, no internet at all", "outage"),
        ("charged twice, want my money back", "billing"),
        ("on hold for 2 hours, agent hung up", "support"),
        ("speeds are so slow, 2 mbps", "speed"),
        ("parcel not delivered, courier left", "delivery"),
        ("the app crashes after the update", "app"),
        ("locked out of my account, password reset broken", "account"),
        ("who sold my data? privacy breach", "privacy"),
        ("headphones broke, faulty battery", "product"),
        ("nice weather today", "other"),
    ],
)
def test_topic_comes_from_the_keyword_lexicon(text: str, topic: str) -> None:
    assert classifier.topic_of(text) == topic


def test_training_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="both"):
        classifier.train([Example("bad", True), Example("worse", True)])


def test_evaluate_reports_macro_f1_and_confusion(model: TrainedModel) -> None:
    report = classifier.evaluate(
        model, [Example("internet down again for 3 days, useless", True), Example("ok", False)]
    )
    assert report["n"] == 2
    assert report["confusion"]["true_positive"] + report["confusion"]["false_negative"] == 1
    assert 0.0 <= report["macro_f1"] <= 1.0


def test_bad_training_line_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "fine", "complaint": false}\n{"text": "no label"}\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl:2"):
        classifier.load_examples(path)


def test_shipped_data_is_large_varied_and_kept_apart_from_the_held_back_set(
    heldout: list[Example],
) -> None:
    training = classifier.shipped_examples()
    assert len(training) + len(heldout) >= 1600
    assert 0.12 <= len(heldout) / (len(training) + len(heldout)) <= 0.18
    assert not {e.text for e in training} & {e.text for e in heldout}
    for examples in (training, heldout):
        share = sum(e.complaint for e in examples) / len(examples)
        assert 0.35 <= share <= 0.65
    industries = {e.industry for e in training}
    assert {"telecom", "airlines", "retail", "banking", "software", "electronics"} <= industries
    assert {"food delivery", "games", "utilities", "insurance", "streaming", "travel"} <= industries
