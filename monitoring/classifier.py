"""Complaint classifier: is a post a complaint, how sure, its sentiment and a topic label.

Pure (no Django). The model is a logistic regression over word 1-2-gram and character 2-5-gram
TF-IDF features plus a few hand-made lexicon features (VADER sentiment, problem words, durations
such as "3 hours", thanks/praise words, question marks). It was chosen by measurement against a
VADER threshold and MiniLM sentence embeddings; `bench/classifier.py` prints the figures and
``monitoring/training/README.md`` records them with the reasons.

Training is reproducible from the shipped, hand-written examples in ``monitoring/training/``
(plus, for a stored version, the team's own labels, weighted: ``train(shipped, team=...)``;
``cross_validate`` gives the k-fold figures on them and ``choose_threshold`` a brand's
threshold) and takes about a second, so ``load_default()`` trains at first use and caches the
model in memory instead of shipping a binary artifact. ``TrainedModel.to_bytes()`` /
``from_bytes()`` serialise a model for the database-backed "active version" switch (and for
``train_classifier --save-to``) in a safe format: a zip of a JSON header and ``.npy`` arrays
(vocabularies, IDF weights, coefficients) read back with ``allow_pickle=False``; never pickle.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

TRAINING_DIR = Path(__file__).resolve().parent / "training"
EXAMPLES_PATH = TRAINING_DIR / "examples.jsonl"
HELDOUT_PATH = TRAINING_DIR / "heldout.jsonl"

MODEL_FAMILY = "lr-ngrams"
# Bump when the feature code changes: the version string must change with the features.
FEATURES_REVISION = 2
BLOB_MAGIC = "nojackal-complaint-model"
BLOB_FORMAT = 1
# Posts longer than this are cut before featurising: tweets are short, and a hostile
# multi-megabyte post must not stall a worker.
MAX_CHARS = 4000

DEFAULT_PARAMS: dict[str, Any] = {
    "word_ngrams": [1, 2],
    "char_ngrams": [2, 5],
    "char_min_df": 2,
    "lexicon_weight": 1.0,
    "C": 10.0,
    "threshold": 0.5,
}
# How much one of the team's labels weighs against one shipped example (``train``).
TEAM_WEIGHT = 3.0
# The k-fold figures on the team's labels (``cross_validate``): fixed, so they repeat.
CV_FOLDS = 5
CV_SEED = 17

TOPICS = (
    "outage",
    "billing",
    "support",
    "speed",
    "delivery",
    "app",
    "product",
    "account",
    "privacy",
    "other",
)


@dataclass(frozen=True)
class Verdict:
    """The classifier's verdict on one post."""

    complaint: bool
    score: float  # probability of "complaint", 0.0-1.0
    sentiment: float  # VADER compound, -1.0 (negative) to 1.0 (positive)
    topic: str  # one of TOPICS
    model: str  # model version


@dataclass(frozen=True)
class Example:
    """One labelled post."""

    text: str
    complaint: bool
    industry: str = ""
    topic: str = ""


# --- text preparation ---------------------------------------------------------------------

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<!\w)@\w+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _coerce(text: object) -> str:
    """Turn anything a caller may pass into bounded text (bytes decoded, None empty)."""
    if text is None:
        return ""
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8", errors="replace")
    elif not isinstance(text, str):
        text = str(text)
    return text[:MAX_CHARS]


def _prepare(text: str) -> str:
    """Normalise a post for the n-gram features: links and @handles become placeholders."""
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROL.sub(" ", text)
    text = _URL.sub(" URL ", text)
    # Handles name brands and people; replacing them keeps the model from learning brands.
    text = _MENTION.sub(" USER ", text)
    # "#fail" should count as "fail".
    return text.replace("#", " ").lower()


# --- lexicon features ---------------------------------------------------------------------

# The word lists cover English, French, Spanish, German and Portuguese (COVERED_LANGUAGES in
# monitoring/language.py): VADER reads English only, so in the other four these lists and the
# n-grams carry the sentiment.
_PROBLEM = re.compile(
    r"\b(?:broke|broken|down|outage|delay\w*|cancel\w*|refund\w*|lost|missing|charged|"
    r"overcharg\w*|fees?|still|waiting|waited|never|worst|again|hold|stuck|stranded|rude|"
    r"useless|crash\w*|error|fail\w*|wrong|late|damaged|terrible|awful|horrible|ridiculous|"
    r"unacceptable|disappoint\w*|frustrat\w*|annoy\w*|issues?|problems?|complain\w*|nobody|"
    r"no one|can'?t|cannot|won'?t|doesn'?t|didn'?t|isn'?t|not working|fix)\b"
    # A promise not kept: "it was not fixed", "never turned up", "still not sorted".
    r"|\b(?:(?:not|n't|never) (?:been )?(?:fixed|sorted|resolved|repaired|solved)|"
    r"never (?:arrived|came|turned up|showed up|called back|rang back)|no[- ]show)\b"
    # French
    r"|\b(?:panne|coupure|coupé\w*|plant\w*|bug\w*|rembours\w*|attend\w*|toujours pas|"
    r"jamais|encore|personne|prélev\w*|factur\w*|annul\w*|retard\w*|cassé\w*|impossible|"
    r"inadmissible|honteu\w*|nul(?:le)?|marre|arnaque|aucune? (?:réponse|nouvelle|info\w*)|"
    r"ne (?:marche|fonctionne) (?:pas|plus))\b"
    # Spanish
    r"|\b(?:caíd\w*|se cae|sin (?:internet|servicio|cobertura|señal|luz|datos)|reembols\w*|"
    r"devoluci\w+|esperando|cobr\w*|cancel\w*|retras\w*|rot[oa]s?|nadie|nunca|sigue|"
    r"otra vez|no funciona|fatal|vergüenza|vergonzoso|estafa|queja\w*|colgad[oa]|bloque\w*)\b"
    # German
    r"|\b(?:ausfall|ausgefallen|abgestürzt|stürzt|hängt|erstattung|warte\w*|immer noch|"
    r"schon wieder|nie|niemand|kaputt|abgebucht|gekündigt|verspät\w*|funktioniert nicht|"
    r"kein (?:netz|internet|empfang)|störung|frechheit|unverschämt|beschwerde|gesperrt)\b"
    # Portuguese
    r"|\b(?:caiu|queda|trava\w*|reembolso|esperando|ainda|de novo|ninguém|cobr\w*|"
    r"cancel\w*|atras\w*|quebrad[oa]|não funciona|sem (?:sinal|internet|rede|luz)|"
    r"vergonha|absurdo|golpe|reclama\w*|bloque\w*|fora do ar)\b"
)
# Phrases that look like problems to the word lists but say the opposite ("can't wait",
# "hasn't dropped once", "not a single outage"): each cancels one problem word.
_NO_PROBLEM = re.compile(
    r"\b(?:can'?t wait|cannot wait|no (?:issues?|problems?|complaints?|delays?|hassle|fuss|"
    r"drama|downtime)|zero (?:issues|problems|complaints|downtime)|"
    r"not (?:a single|one|any) (?:issue|problem|fault|buffer|crash|dropout|outage|drop)|"
    r"never (?:had|been) (?:an? |any )?(?:issues?|problems?)|"
    r"without (?:any )?(?:issues?|problems?|questions?|fuss|hassle)|"
    r"(?:has|have|did|does|is)(?:n'?t| not) (?:\w+ ){0,2}?(?:dropped|dropped out|failed|"
    r"crashed|gone down|been down|missed|skipped|lost|broken|let (?:me|us) down|died|"
    r"cut out|buffered)|"
    r"(?:didn'?t|did not|never) (?:lose|miss|skip|drop|crash|fail|buffer|wait)|"
    r"not (?:once|even once)|nothing (?:went|has gone) wrong|faultless|flawless)\b"
    # French, Spanish, German, Portuguese
    r"|\b(?:aucune? (?:coupure|panne|souci|problème|bug)|"
    r"pas (?:une? )?seule? (?:fois|panne|coupure)|(?:n'a|n'ai) (?:jamais|pas) (?:eu|planté|coupé)|"
    r"jamais eu (?:de|le moindre) (?:problème|souci)|"
    r"sans (?:aucun )?(?:problème|souci)|rien à (?:redire|signaler)|"
    r"ni una vez|ni un solo (?:corte|problema|fallo)|ningún (?:problema|corte|fallo)|"
    r"sin (?:ningún )?(?:problema|corte)|nada que (?:objetar|reprochar)|no se ha (?:caído|colgado)|"
    r"nicht einmal|kein einziger|keine probleme|nie (?:ein )?problem|ohne (?:jedes |ein )?problem|"
    r"nichts zu (?:meckern|beanstanden)|"
    r"nenhuma (?:queda|vez)|nenhum problema|sem (?:nenhum )?problema|nada a reclamar|"
    r"não (?:caiu|travou) nenhuma vez)\b"
)
_DURATION = re.compile(
    r"\b\d+\s*(?:\+\s*)?(?:min\w*|hrs?|hours?|days?|weeks?|months?|heures?|jours?|semaines?|"
    r"mois|horas?|días|dias|semanas?|meses|stunden|tagen?|wochen|monaten?)\b"
)
_POLITE = re.compile(
    r"\b(?:thanks?|thank you|thx|love|great|amazing|awesome|best|appreciate\w*|kudos|"
    r"shout ?out|excellent|wonderful|lovely)\b"
    r"|\b(?:merci|génial|parfait\w*|top|ravi\w*|contente?|gracias|encantad[oa]|perfect[oa]|"
    r"genial|estupendo|danke|klasse|zufrieden|begeistert|perfekt|empfehl\w*|obrigad[oa]|"
    r"ótimo|perfeit[oa]|recomendo|recommande|recomiendo|excelente|incrível)\b"
)

_WHY = re.compile(r"(?<!\w)(?:why|pourquoi|por ?qu[eé]|warum|wieso)(?!\w)")


@functools.lru_cache(maxsize=1)
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def _sentiment(text: str) -> dict[str, float]:
    try:
        return _vader().polarity_scores(text)
    except Exception:  # VADER on odd input must not fail a batch; neutral is the safe guess
        return {"compound": 0.0, "neg": 0.0, "pos": 0.0, "neu": 1.0}


def _lexicon_row(text: str, scores: dict[str, float]) -> list[float]:
    lower = text.lower()
    reassured = len(_NO_PROBLEM.findall(lower))
    problems = max(len(_PROBLEM.findall(lower)) - reassured, 0)
    return [
        scores["compound"],
        scores["neg"],
        scores["pos"],
        min(problems, 5) / 5,
        min(reassured, 2) / 2,
        min(len(_DURATION.findall(lower)), 3) / 3,
        min(len(_POLITE.findall(lower)), 3) / 3,
        float("?" in lower),
        float("!" in lower),
        float(bool(_WHY.search(lower))),
    ]


# --- topic --------------------------------------------------------------------------------

_TOPIC_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (topic, re.compile(pattern))
    for topic, pattern in (
        (
            "privacy",
            r"\b(?:privacy|data breach|breach|my data|tracking|tracked|consent|"
            r"gdpr|sold my|sharing my|shared my|permission|cookies?|location data)\b",
        ),
        (
            "outage",
            r"\b(?:outage|down|offline|no (?:signal|service|internet|wifi|power|water)|"
            r"not loading|servers?|power cut|blackout|status page|dead)\b",
        ),
        (
            "billing",
            r"\b(?:bill\w*|charg\w*|refund\w*|fees?|price|prices|pric\w+|paid|pay|"
            r"payment\w*|overcharg\w*|invoice\w*|subscription|money|debit|£|\$|€)\b|[£$€]",
        ),
        (
            "delivery",
            r"\b(?:deliver\w*|parcel|package|courier|driver|shipping|shipped|"
            r"tracking|arriv\w*|dispatch\w*|order)\b",
        ),
        ("speed", r"\b(?:slow\w*|speed|mbps|lag\w*|buffering|latency|ping|takes forever)\b"),
        (
            "app",
            r"\b(?:app|update|crash\w*|bug\w*|error|website|site|login|log in|glitch\w*|"
            r"version|patch)\b",
        ),
        (
            "account",
            r"\b(?:account|password|locked out|hacked|banned|suspended|2fa|"
            r"verify|verification|username|profile)\b",
        ),
        (
            "support",
            r"\b(?:support|customer service|on hold|hold for|agent|call ?back|"
            r"complaint|ticket|manager|rude|staff|helpline|chat)\b",
        ),
        (
            "product",
            r"\b(?:broke|broken|faulty|defect\w*|quality|stopped working|battery|"
            r"screen|damaged|leak\w*|missing|wrong)\b",
        ),
    )
)


def topic_of(text: str) -> str:
    """Return a short topic label from a keyword lexicon (first best match, else "other")."""
    lower = _coerce(text).lower()
    best, best_hits = "other", 0
    for topic, pattern in _TOPIC_PATTERNS:
        hits = len(pattern.findall(lower))
        if hits > best_hits:
            best, best_hits = topic, hits
    return best


# --- the model ----------------------------------------------------------------------------


def _word_vectorizer(params: dict[str, Any], vocabulary: dict[str, int] | None = None) -> Any:
    return TfidfVectorizer(
        preprocessor=_prepare,
        ngram_range=tuple(params["word_ngrams"]),
        sublinear_tf=True,
        token_pattern=r"(?u)\b\w+\b|[!?]",  # noqa: S106 (a regex, not a password)
        vocabulary=vocabulary,
        dtype=np.float64,
    )


def _char_vectorizer(params: dict[str, Any], vocabulary: dict[str, int] | None = None) -> Any:
    return TfidfVectorizer(
        preprocessor=_prepare,
        analyzer="char_wb",
        ngram_range=tuple(params["char_ngrams"]),
        min_df=params["char_min_df"] if vocabulary is None else 1,
        sublinear_tf=True,
        vocabulary=vocabulary,
        dtype=np.float64,
    )


@dataclass
class TrainedModel:
    """A fitted complaint model: vectorisers, coefficients, threshold and version string."""

    version: str
    params: dict[str, Any]
    word: Any  # fitted TfidfVectorizer
    char: Any  # fitted TfidfVectorizer
    coef: np.ndarray
    intercept: float
    trained_on: int = 0

    def scores(self, texts: Sequence[object]) -> tuple[np.ndarray, list[float]]:
        """Return complaint probabilities and VADER compound sentiments for ``texts``."""
        clean = [_coerce(t) for t in texts]
        if not clean:
            return np.zeros(0), []
        sentiments = [_sentiment(t) for t in clean]
        features = _features(self.word, self.char, clean, sentiments, self.params)
        logits = features @ self.coef + self.intercept
        probabilities = 1.0 / (1.0 + np.exp(-np.clip(logits, -50, 50)))
        return probabilities, [s["compound"] for s in sentiments]

    def predict(self, texts: Sequence[object]) -> list[Verdict]:
        """Classify a batch of posts."""
        probabilities, sentiments = self.scores(texts)
        threshold = float(self.params["threshold"])
        return [
            Verdict(
                complaint=bool(p >= threshold),
                score=round(float(p), 6),
                sentiment=round(float(s), 4),
                topic=topic_of(_coerce(t)),
                model=self.version,
            )
            for t, p, s in zip(texts, probabilities, sentiments, strict=True)
        ]

    def to_bytes(self) -> bytes:
        """Serialise without pickle: a zip of a JSON header and plain numeric/str arrays."""
        header = {
            "magic": BLOB_MAGIC,
            "format": BLOB_FORMAT,
            "version": self.version,
            "params": self.params,
            "intercept": self.intercept,
            "trained_on": self.trained_on,
        }
        arrays = {
            "coef": self.coef,
            "word_terms": _terms(self.word.vocabulary_),
            "word_idf": self.word.idf_,
            "char_terms": _terms(self.char.vocabulary_),
            "char_idf": self.char.idf_,
        }
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("header.json", json.dumps(header, sort_keys=True))
            for name, array in arrays.items():
                array_buffer = io.BytesIO()
                np.save(array_buffer, array, allow_pickle=False)
                archive.writestr(f"{name}.npy", array_buffer.getvalue())
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> TrainedModel:
        """Load a model written by ``to_bytes``; raises ValueError on anything else."""
        try:
            return cls._from_bytes(blob)
        except ValueError as error:
            if str(error).startswith("not a complaint model blob"):
                raise
            raise ValueError(f"not a complaint model blob: {error}") from error
        except (zipfile.BadZipFile, KeyError, TypeError, AttributeError, OSError) as error:
            raise ValueError(f"not a complaint model blob: {error!r}") from error

    @classmethod
    def _from_bytes(cls, blob: bytes) -> TrainedModel:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            header = json.loads(archive.read("header.json"))
            if header.get("magic") != BLOB_MAGIC or header.get("format") != BLOB_FORMAT:
                raise ValueError("not a complaint model blob: wrong magic or format")
            arrays = {
                name: np.load(io.BytesIO(archive.read(f"{name}.npy")), allow_pickle=False)
                for name in ("coef", "word_terms", "word_idf", "char_terms", "char_idf")
            }
        params = {**DEFAULT_PARAMS, **header["params"]}
        word = _restore(_word_vectorizer, params, arrays["word_terms"], arrays["word_idf"])
        char = _restore(_char_vectorizer, params, arrays["char_terms"], arrays["char_idf"])
        coef = arrays["coef"].astype(np.float64)
        if coef.shape != (len(word.idf_) + len(char.idf_) + _LEXICON_WIDTH,):
            raise ValueError("not a complaint model blob: coefficient shape mismatch")
        return cls(
            version=str(header["version"]),
            params=params,
            word=word,
            char=char,
            coef=coef,
            intercept=float(header["intercept"]),
            trained_on=int(header.get("trained_on", 0)),
        )


_LEXICON_WIDTH = len(_lexicon_row("", {"compound": 0.0, "neg": 0.0, "pos": 0.0}))


def _terms(vocabulary: dict[str, int]) -> np.ndarray:
    ordered = sorted(vocabulary, key=vocabulary.__getitem__)
    return np.array(ordered, dtype=str)


def _restore(factory: Any, params: dict[str, Any], terms: np.ndarray, idf: np.ndarray) -> Any:
    vocabulary = {str(term): index for index, term in enumerate(terms.tolist())}
    vectorizer = factory(params, vocabulary=vocabulary)
    vectorizer.idf_ = idf.astype(np.float64)
    return vectorizer


def _features(
    word: Any,
    char: Any,
    texts: list[str],
    sentiments: list[dict[str, float]],
    params: dict[str, Any],
) -> sp.csr_matrix:
    lexicon = np.array(
        [_lexicon_row(t, s) for t, s in zip(texts, sentiments, strict=True)], dtype=np.float64
    ) * float(params["lexicon_weight"])
    return sp.hstack(
        [word.transform(texts), char.transform(texts), sp.csr_matrix(lexicon)], format="csr"
    )


def model_version(
    examples: Sequence[Example],
    params: dict[str, Any],
    team: Sequence[Example] = (),
    team_weight: float = 1.0,
) -> str:
    """Return "lr-ngrams-<8 hex>": a hash of the training data, the params and the features.

    The team's labels and their weight count only when there are some, so a model trained on
    the shipped examples alone keeps the version it always had.
    """
    digest = hashlib.sha256()
    digest.update(
        json.dumps({"features": FEATURES_REVISION, "params": params}, sort_keys=True).encode()
    )
    for example in examples:
        digest.update(json.dumps([example.text, bool(example.complaint)]).encode())
        digest.update(b"\n")
    if team:
        digest.update(json.dumps({"team_weight": float(team_weight)}).encode())
        for example in team:
            digest.update(json.dumps(["team", example.text, bool(example.complaint)]).encode())
            digest.update(b"\n")
    return f"{MODEL_FAMILY}-{digest.hexdigest()[:8]}"


def train(
    examples: Iterable[Example],
    params: dict[str, Any] | None = None,
    *,
    team: Iterable[Example] = (),
    team_weight: float = TEAM_WEIGHT,
) -> TrainedModel:
    """Fit a model on labelled examples (needs both classes); deterministic for the same input.

    ``examples`` are the shipped ones; ``team`` the team's own labels, each weighing
    ``team_weight`` shipped rows in the regression (a ``sample_weight``), so a few hundred of
    them move the model. Weight 3 was chosen by ``bench/learning_curve.py``
    (``bench/LEARNING_CURVE.md``): it helps on another domain's posts at every number of labels
    and costs nothing when the team's posts look like ours, where 10 and 30 cost a little. The
    vocabularies are fitted on both sets, unweighted.
    """
    merged = {**DEFAULT_PARAMS, **(params or {})}
    if not (
        isinstance(team_weight, int | float) and math.isfinite(team_weight) and team_weight > 0
    ):
        raise ValueError(f"team_weight must be a positive number, not {team_weight!r}")
    rows = [e for e in examples if _coerce(e.text).strip()]
    team_rows = [e for e in team if _coerce(e.text).strip()]
    everything = [*rows, *team_rows]
    labels = np.array([int(bool(e.complaint)) for e in everything])
    if len(set(labels.tolist())) < 2:
        raise ValueError("training needs examples of both complaints and non-complaints")
    texts = [_coerce(e.text) for e in everything]
    word = _word_vectorizer(merged).fit(texts)
    char = _char_vectorizer(merged).fit(texts)
    sentiments = [_sentiment(t) for t in texts]
    features = _features(word, char, texts, sentiments, merged)
    weights = None
    if team_rows:
        weights = np.array([1.0] * len(rows) + [float(team_weight)] * len(team_rows))
    # lbfgs is deterministic for the same data; no random_state-dependent solver is used.
    regression = LogisticRegression(C=float(merged["C"]), max_iter=5000, solver="lbfgs")
    regression.fit(features, labels, sample_weight=weights)
    return TrainedModel(
        version=model_version(rows, merged, team_rows, team_weight),
        params=merged,
        word=word,
        char=char,
        coef=regression.coef_[0].astype(np.float64),
        intercept=float(regression.intercept_[0]),
        trained_on=len(everything),
    )


def evaluate(model: TrainedModel, examples: Sequence[Example]) -> dict[str, Any]:
    """Return macro-F1, per-class precision/recall/F1, accuracy and the confusion counts."""
    truth = [int(bool(e.complaint)) for e in examples]
    if not truth:
        return {"n": 0, "macro_f1": math.nan, "accuracy": math.nan}
    predicted = [int(v.complaint) for v in model.predict([e.text for e in examples])]
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=[0, 1], zero_division=0
    )
    pairs = list(zip(truth, predicted, strict=True))
    return {
        "n": len(truth),
        "model": model.version,
        "macro_f1": macro_f1(truth, predicted),
        "accuracy": sum(t == p for t, p in pairs) / len(pairs),
        "complaint": {
            "precision": float(precision[1]),
            "recall": float(recall[1]),
            "f1": float(f1[1]),
            "support": int(support[1]),
        },
        "not_complaint": {
            "precision": float(precision[0]),
            "recall": float(recall[0]),
            "f1": float(f1[0]),
            "support": int(support[0]),
        },
        "confusion": {
            "true_positive": sum(t == 1 and p == 1 for t, p in pairs),
            "false_positive": sum(t == 0 and p == 1 for t, p in pairs),
            "true_negative": sum(t == 0 and p == 0 for t, p in pairs),
            "false_negative": sum(t == 1 and p == 0 for t, p in pairs),
        },
    }


def macro_f1(truth: Sequence[int], predicted: Sequence[int]) -> float:
    """Macro-F1 over the two classes (0 for a class that never occurs, never a warning)."""
    return float(f1_score(truth, predicted, average="macro", labels=[0, 1], zero_division=0))


# --- the team's labels: k-fold figures and thresholds --------------------------------------


@dataclass
class CrossValidation:
    """Out-of-fold scores of the team's labels, for a new model and for the active one.

    ``folds[i]`` is the fold row ``i`` of ``team`` was tested in (-1: no k-fold was possible).
    ``new_scores`` come from models trained on the shipped examples plus the OTHER folds'
    labels (so each label is scored by a model that never saw it); ``active_scores`` from
    the active model, unchanged, on the same texts.
    """

    truth: np.ndarray
    folds: np.ndarray
    new_scores: np.ndarray
    active_scores: np.ndarray
    n_folds: int
    seed: int
    threshold: float = 0.5

    def summary(self) -> dict[str, Any]:
        """The figures a version stores: pooled and per-fold macro-F1 of both models."""
        if self.n_folds < 2:
            return {"n": len(self.truth), "folds": 0, "seed": self.seed}
        new = (self.new_scores >= self.threshold).astype(int)
        active = (self.active_scores >= self.threshold).astype(int)
        per_fold_new, per_fold_active = [], []
        for fold in range(self.n_folds):
            mask = self.folds == fold
            per_fold_new.append(macro_f1(self.truth[mask].tolist(), new[mask].tolist()))
            per_fold_active.append(macro_f1(self.truth[mask].tolist(), active[mask].tolist()))
        truth = self.truth.tolist()
        return {
            "n": len(self.truth),
            "complaints": int(self.truth.sum()),
            "folds": self.n_folds,
            "seed": self.seed,
            "macro_f1": macro_f1(truth, new.tolist()),
            "per_fold": per_fold_new,
            "active_macro_f1": macro_f1(truth, active.tolist()),
            "active_per_fold": per_fold_active,
        }


def cross_validate(
    shipped: Sequence[Example],
    team: Sequence[Example],
    active: TrainedModel,
    *,
    team_weight: float = TEAM_WEIGHT,
    params: dict[str, Any] | None = None,
    folds: int = CV_FOLDS,
    seed: int = CV_SEED,
) -> CrossValidation:
    """K-fold macro-F1 on the team's labels, for the new training and for the active model.

    The exact comparison: the team's labels are split into ``folds`` stratified folds
    (shuffled with ``seed``, so the same labels give the same folds). For each fold a model
    is trained as ``train`` would (shipped examples + the other folds' labels, weighted
    ``team_weight``) and scores that fold's texts; the ACTIVE model, as it is (not retrained),
    scores the very same texts. Both are then cut at the model threshold (0.5; per-brand
    thresholds are chosen afterwards and are not part of the comparison) and macro-F1 is taken
    over every label once (pooled out-of-fold), plus per fold.

    The comparison leans towards the active model: it may have been trained on some of these
    labels (every label older than it), which it then scores in-sample, while the new model
    never scores a label it saw. A new version that scores higher is better; one that scores
    a little lower may not be worse, and the admin asks before activating it.

    With fewer than 2 labels of either class there is no k-fold: ``n_folds`` is 0.
    """
    truth = np.array([int(bool(e.complaint)) for e in team], dtype=int)
    texts = [e.text for e in team]
    found = np.full(len(team), -1, dtype=int)
    new_scores = np.full(len(team), np.nan)
    smallest = min(int(truth.sum()), int(len(truth) - truth.sum())) if len(truth) else 0
    n_folds = min(int(folds), smallest)
    active_scores = active.scores(texts)[0] if texts else np.zeros(0)
    if n_folds < 2:
        return CrossValidation(truth, found, new_scores, active_scores, 0, seed)
    found = fold_of(truth, n_folds, seed)
    for fold in range(n_folds):
        train_index = np.flatnonzero(found != fold)
        test_index = np.flatnonzero(found == fold)
        model = train(
            shipped, params, team=[team[int(i)] for i in train_index], team_weight=team_weight
        )
        new_scores[test_index] = model.scores([texts[i] for i in test_index])[0]
    threshold = float({**DEFAULT_PARAMS, **(params or {})}["threshold"])
    return CrossValidation(truth, found, new_scores, active_scores, n_folds, seed, threshold)


def fold_of(truth: np.ndarray, folds: int, seed: int = CV_SEED) -> np.ndarray:
    """The fold each label is tested in: stratified (each fold keeps the complaint share),
    shuffled with ``seed``, so the same labels in the same order always give the same folds."""
    found = np.full(len(truth), -1, dtype=int)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fold, (_, test_index) in enumerate(splitter.split(np.zeros(len(truth)), truth)):
        found[test_index] = fold
    return found


def choose_threshold(
    scores: Sequence[float] | np.ndarray,
    truth: Sequence[int] | np.ndarray,
    min_recall: float | None = None,
) -> dict[str, float] | None:
    """The threshold on ``scores`` that maximises macro-F1 (ties: the one nearest 0.5).

    With ``min_recall``, only thresholds that call at least that share of the complaints
    complaints are candidates (the lowest one, calling everything a complaint, always is).
    Returns {"threshold", "macro_f1", "recall", "n"}, or None without both classes.
    """
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(truth, dtype=int)
    positives = int(labels.sum())
    if len(labels) == 0 or positives in (0, len(labels)):
        return None
    order = np.argsort(-scores, kind="stable")
    ranked, ordered = scores[order], labels[order]
    # Cutting after position i calls the first i + 1 rows complaints; cumulative counts give
    # every cut's confusion matrix at once. Cut -1 (nothing is a complaint) comes first.
    tp = np.concatenate([[0], np.cumsum(ordered)])
    fp = np.concatenate([[0], np.cumsum(1 - ordered)])
    fn = positives - tp
    tn = (len(labels) - positives) - fp
    f1_pos = 2 * tp / np.maximum(2 * tp + fp + fn, 1)
    f1_neg = 2 * tn / np.maximum(2 * tn + fn + fp, 1)
    macro = (f1_pos + f1_neg) / 2
    recall = tp / positives
    # A cut is a threshold halfway between two different scores (or past either end).
    cuts = np.concatenate([[(ranked[0] + 1) / 2], (ranked[:-1] + ranked[1:]) / 2, [ranked[-1] / 2]])
    valid = np.concatenate([[True], ranked[:-1] > ranked[1:], [True]])
    if min_recall is not None:
        valid &= recall >= float(min_recall) - 1e-12
    best = max(np.flatnonzero(valid), key=lambda i: (round(macro[i], 12), -abs(cuts[i] - 0.5)))
    return {
        "threshold": round(float(cuts[best]), 6),
        "macro_f1": float(macro[best]),
        "recall": float(recall[best]),
        "n": len(labels),
    }


def load_examples(path: Path | str) -> list[Example]:
    """Read labelled examples from a JSONL file of {"text", "complaint", "industry", "topic"}."""
    examples: list[Example] = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                examples.append(
                    Example(
                        text=str(row["text"]),
                        complaint=bool(row["complaint"]),
                        industry=str(row.get("industry", "")),
                        topic=str(row.get("topic", "")),
                    )
                )
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(f"{path}:{number}: bad example: {error}") from error
    return examples


def shipped_examples() -> list[Example]:
    """Return the hand-written training examples shipped with the project."""
    return load_examples(EXAMPLES_PATH)


def heldout_examples() -> list[Example]:
    """Return the hand-written held-back examples (never used for training)."""
    return load_examples(HELDOUT_PATH)


@functools.lru_cache(maxsize=1)
def load_default() -> TrainedModel:
    """Return the default model, trained on the shipped examples at first use (about 1 s)."""
    return train(shipped_examples())


def predict(texts: Sequence[object]) -> list[Verdict]:
    """Classify posts with the default model."""
    return load_default().predict(texts)
