"""Benchmark the complaint classifier and the brand matcher (run by hand; prints figures).

    .venv/bin/python bench/classifier.py [--minilm-dir DIR]

1. Quality: macro-F1 of each candidate on the airline evaluation set
   (../shared/data/complaints/, evaluation only, never trained on) and on our held-back set.
   Every candidate is trained on monitoring/training/examples.jsonl only; thresholds and
   hyper-parameters are never chosen on the airline set.
2. Speed on ONE core (CPU affinity and BLAS threads pinned to 1): posts/second through the
   brand matcher, through the shipped classifier, through the language step
   (monitoring/language.py) and through VADER alone on the same posts, with the ratios, plus
   peak memory (tracemalloc peak of the stage, and process max RSS).

The MiniLM candidate (all-MiniLM-L6-v2 sentence embeddings + logistic regression) needs the
model files (config.json, model.safetensors, tokenizer.json) in --minilm-dir and the
`tokenizers` package importable; it runs the transformer in numpy (no PyTorch). It is a
measured candidate only, not a shipped dependency; without them it is skipped.
"""

from __future__ import annotations

import os

# Before numpy is imported: one BLAS thread, so "per core" means one core.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import html  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import struct  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.pipeline import make_pipeline, make_union  # noqa: E402
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # noqa: E402

from monitoring import classifier, language  # noqa: E402
from monitoring.detection import BrandMatcher, BrandTerms  # noqa: E402

SHARED = Path(os.environ.get("NOJACKAL_SHARED_DIR", REPO.parent / "shared"))
AIRLINE_DIR = SHARED / "data" / "complaints"


def load_airline() -> tuple[list[str], list[int]]:
    """Read the airline evaluation set in place (HTML-unescaped); 1 = complaint."""
    texts: list[str] = []
    labels: list[int] = []
    for name, label in (("complaint1700.csv", 1), ("noncomplaint1700.csv", 0)):
        with open(AIRLINE_DIR / name, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                texts.append(html.unescape(row["tweet"]))
                labels.append(label)
    return texts, labels


def macro_f1(truth: Sequence[int], predicted: Sequence[int]) -> float:
    return float(f1_score(truth, predicted, average="macro", labels=[0, 1]))


# --- candidates: each is fit(train_texts, train_labels) -> predict(texts) -> list[int] --------

Predictor = Callable[[list[str]], list[int]]


def vader_threshold(texts: list[str], labels: list[int]) -> Predictor:
    """Complaint when VADER compound < t, with t chosen on the TRAINING examples."""
    analyzer = SentimentIntensityAnalyzer()
    train_scores = np.array([analyzer.polarity_scores(t)["compound"] for t in texts])
    best = max(
        np.arange(-0.8, 0.81, 0.05),
        key=lambda t: macro_f1(labels, (train_scores < t).astype(int).tolist()),
    )
    print(f"    (VADER threshold chosen on training data: compound < {best:.2f})")

    def predict(batch: list[str]) -> list[int]:
        return [int(analyzer.polarity_scores(t)["compound"] < best) for t in batch]

    return predict


def tfidf_lr(char: bool) -> Callable[[list[str], list[int]], Predictor]:
    def fit(texts: list[str], labels: list[int]) -> Predictor:
        word = TfidfVectorizer(
            preprocessor=classifier._prepare, ngram_range=(1, 2), sublinear_tf=True
        )
        features: Any = word
        if char:
            chars = TfidfVectorizer(
                preprocessor=classifier._prepare,
                analyzer="char_wb",
                ngram_range=(2, 5),
                min_df=2,
                sublinear_tf=True,
            )
            features = make_union(word, chars)
        pipeline = make_pipeline(features, LogisticRegression(C=10.0, max_iter=5000))
        pipeline.fit(texts, labels)
        return lambda batch: pipeline.predict(batch).tolist()

    return fit


def shipped(texts: list[str], labels: list[int]) -> Predictor:
    model = classifier.train(
        [classifier.Example(t, bool(y)) for t, y in zip(texts, labels, strict=True)]
    )
    return lambda batch: [int(v.complaint) for v in model.predict(batch)]


class MiniLM:
    """all-MiniLM-L6-v2 in numpy: BERT encoder, mean pooling, L2 normalisation."""

    def __init__(self, model_dir: Path) -> None:
        from tokenizers import Tokenizer  # only needed for this measured candidate

        config = json.loads((model_dir / "config.json").read_text())
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.hidden = int(config["hidden_size"])
        self.weights = self._load_safetensors(model_dir / "model.safetensors")
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(128)
        self.tokenizer.enable_padding()
        self._transposed: dict[str, np.ndarray] = {}
        self._cache: dict[str, np.ndarray] = {}

    def cached(self, texts: list[str]) -> np.ndarray:
        """Embeddings, computed once per text (the two MiniLM candidates share them)."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            self._cache.update(zip(missing, self.embed(missing), strict=True))
        return np.vstack([self._cache[t] for t in texts])

    @staticmethod
    def _load_safetensors(path: Path) -> dict[str, np.ndarray]:
        raw = path.read_bytes()
        (size,) = struct.unpack("<Q", raw[:8])
        header = json.loads(raw[8 : 8 + size])
        dtypes = {"F32": np.float32, "I64": np.int64}
        tensors = {}
        for name, meta in header.items():
            if name == "__metadata__":
                continue
            start, end = meta["data_offsets"]
            data = raw[8 + size + start : 8 + size + end]
            # copy(): an unaligned view of the file buffer makes BLAS fall back to slow loops
            array = np.frombuffer(data, dtype=dtypes[meta["dtype"]]).reshape(meta["shape"])
            tensors[name] = array.copy()
        return tensors

    def _norm(self, x: np.ndarray, prefix: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        scaled = (x - mean) / np.sqrt(var + 1e-12)
        return scaled * self.weights[prefix + ".weight"] + self.weights[prefix + ".bias"]

    def _linear(self, x: np.ndarray, prefix: str) -> np.ndarray:
        if prefix not in self._transposed:
            self._transposed[prefix] = np.ascontiguousarray(self.weights[prefix + ".weight"].T)
        shape = x.shape
        flat = x.reshape(-1, shape[-1]) @ self._transposed[prefix] + self.weights[prefix + ".bias"]
        return flat.reshape(*shape[:-1], -1)

    def embed(self, texts: list[str], batch: int = 64) -> np.ndarray:
        from scipy.special import erf

        out = []
        head_dim = self.hidden // self.heads
        w = self.weights
        for i in range(0, len(texts), batch):
            encoded = self.tokenizer.encode_batch([t or " " for t in texts[i : i + batch]])
            ids = np.array([e.ids for e in encoded])
            mask = np.array([e.attention_mask for e in encoded], dtype=np.float32)
            b, t = ids.shape
            x = (
                w["embeddings.word_embeddings.weight"][ids]
                + w["embeddings.position_embeddings.weight"][:t]
                + w["embeddings.token_type_embeddings.weight"][0]
            )
            x = self._norm(x, "embeddings.LayerNorm")
            bias = ((1.0 - mask)[:, None, None, :] * -1e9).astype(np.float32)
            for layer in range(self.layers):
                p = f"encoder.layer.{layer}."

                q, k, v = (
                    self._linear(x, p + "attention.self." + name)
                    .reshape(b, t, self.heads, head_dim)
                    .transpose(0, 2, 1, 3)
                    for name in ("query", "key", "value")
                )
                scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head_dim) + bias
                scores = np.exp(scores - scores.max(-1, keepdims=True))
                scores /= scores.sum(-1, keepdims=True)
                context = (scores @ v).transpose(0, 2, 1, 3).reshape(b, t, self.hidden)
                attended = self._linear(context, p + "attention.output.dense")
                x = self._norm(x + attended, p + "attention.output.LayerNorm")
                inner = self._linear(x, p + "intermediate.dense")
                inner = 0.5 * inner * (1.0 + erf(inner / np.sqrt(2.0)))
                x = self._norm(x + self._linear(inner, p + "output.dense"), p + "output.LayerNorm")
            pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
            out.append(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
        return np.vstack(out)


def minilm_lr(encoder: MiniLM) -> Callable[[list[str], list[int]], Predictor]:
    def fit(texts: list[str], labels: list[int]) -> Predictor:
        regression = LogisticRegression(C=1.0, max_iter=5000)
        regression.fit(encoder.cached(texts), labels)
        return lambda batch: regression.predict(encoder.cached(batch)).tolist()

    return fit


def minilm_plus_shipped(encoder: MiniLM) -> Callable[[list[str], list[int]], Predictor]:
    """The shipped features (TF-IDF + lexicon) with the sentence embedding appended."""

    def features(model: classifier.TrainedModel, batch: list[str]) -> Any:
        import scipy.sparse as sp

        sentiments = [classifier._sentiment(t) for t in batch]
        shipped = classifier._features(model.word, model.char, batch, sentiments, model.params)
        return sp.hstack([shipped, sp.csr_matrix(encoder.cached(batch))], format="csr")

    def fit(texts: list[str], labels: list[int]) -> Predictor:
        model = classifier.train(
            [classifier.Example(t, bool(y)) for t, y in zip(texts, labels, strict=True)]
        )
        regression = LogisticRegression(C=1.0, max_iter=5000)
        regression.fit(features(model, texts), labels)
        return lambda batch: regression.predict(features(model, batch)).tolist()

    return fit


# --- speed and memory -------------------------------------------------------------------


def timed(label: str, work: Callable[[], Any], posts: int) -> float:
    """Print posts/s of ``work`` (untraced run) and its peak allocation (second, traced run)."""
    started = time.perf_counter()
    work()
    rate = posts / (time.perf_counter() - started)
    # tracemalloc slows Python down several times, so memory is measured in a separate run.
    tracemalloc.start()
    work()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  {label:<44} {rate:>10,.0f} posts/s   peak +{peak / 2**20:6.1f} MiB (tracemalloc)")
    return rate


def bench_brands(count: int) -> list[BrandTerms]:
    """The airline brands of the evaluation set, plus ``count`` made-up brands."""
    brands = [
        BrandTerms("united", names=["United", "United Airlines"], handles=["@united"]),
        BrandTerms("southwest", names=["Southwest"], handles=["@SouthwestAir"]),
        BrandTerms(
            "american", names=["American Airlines"], aliases=["AA"], handles=["@AmericanAir"]
        ),
        BrandTerms("delta", names=["Delta"], handles=["@Delta", "@DeltaAssist"]),
        BrandTerms("jetblue", names=["JetBlue"], handles=["@JetBlue"]),
        BrandTerms("virgin", names=["Virgin America"], handles=["@VirginAmerica"]),
        BrandTerms("alaska", names=["Alaska Air"], handles=["@AlaskaAir"]),
    ]
    syllables = ["tel", "va", "na", "or", "bix", "zen", "quo", "lum", "dra", "kor", "pix", "mo"]
    for i in range(count):
        name = syllables[i % 12] + syllables[(i // 12) % 12] + syllables[(i // 144) % 12] + str(i)
        brands.append(
            BrandTerms(
                f"b{i}",
                names=[name.title()],
                aliases=[f"{name} group"],
                products=[f"{name} one", f"{name} max"],
                handles=[f"@{name}_help"],
                exclusions=[f"{name} street"],
            )
        )
    return brands


def naive_alternation(brands: list[BrandTerms]) -> Callable[[str], list[Any]]:
    """Comparison only: one flat alternation of every escaped term, longest first."""
    import re

    from monitoring.detection import normalise

    terms = sorted(
        {
            normalise(t).lstrip("@")
            for b in brands
            for t in [*b.names, *b.aliases, *b.products, *b.handles]
        },
        key=len,
        reverse=True,
    )
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, terms)) + r")(?!\w)")
    return lambda text: pattern.findall(normalise(text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minilm-dir", type=Path, default=None)
    parser.add_argument("--brands", type=int, default=500, help="made-up brands in the matcher")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    train = classifier.shipped_examples()
    heldout = classifier.heldout_examples()
    train_x = [e.text for e in train]
    train_y = [int(e.complaint) for e in train]
    held_x = [e.text for e in heldout]
    held_y = [int(e.complaint) for e in heldout]
    air_x, air_y = load_airline()
    print(f"training {len(train)} (ours), held-back {len(heldout)} (ours), airline {len(air_x)}")

    candidates: list[tuple[str, Callable[[list[str], list[int]], Predictor]]] = [
        ("VADER compound threshold", vader_threshold),
        ("LR word 1-2 TF-IDF", tfidf_lr(char=False)),
        ("LR word 1-2 + char 2-5 TF-IDF", tfidf_lr(char=True)),
        ("LR word + char + lexicon (SHIPPED)", shipped),
    ]
    encoder = None
    if args.minilm_dir is not None:
        try:
            encoder = MiniLM(args.minilm_dir)
        except (ImportError, OSError) as error:
            print(f"MiniLM candidate skipped: {error}")
    if encoder is not None:
        candidates.append(("MiniLM-L6 embeddings + LR (numpy)", minilm_lr(encoder)))
        candidates.append(("MiniLM-L6 + word + char + lexicon, LR", minilm_plus_shipped(encoder)))
    elif args.minilm_dir is None:
        print("MiniLM candidate skipped (give --minilm-dir and install `tokenizers` to run it)")

    print("\nmacro-F1 (trained on our examples only)")
    print(f"  {'candidate':<38} {'airline':>8} {'held-back':>10} {'fit s':>7}")
    for name, fit in candidates:
        started = time.perf_counter()
        predict = fit(train_x, train_y)
        fit_seconds = time.perf_counter() - started
        air = macro_f1(air_y, predict(air_x))
        held = macro_f1(held_y, predict(held_x))
        print(f"  {name:<38} {air:>8.3f} {held:>10.3f} {fit_seconds:>7.1f}")

    print(
        "\nspeed on one core, same posts (airline set + held-back, "
        f"{len(air_x) + len(held_x)} posts)"
    )
    posts = air_x + held_x
    analyzer = SentimentIntensityAnalyzer()
    started = time.perf_counter()
    classifier.load_default.cache_clear()
    model = classifier.load_default()
    print(
        f"  default model: {model.version}, trained at first use in "
        f"{time.perf_counter() - started:.2f} s; blob {len(model.to_bytes()) / 1024:.0f} KiB"
    )
    brands = bench_brands(args.brands)
    started = time.perf_counter()
    matcher = BrandMatcher(brands)
    print(f"  matcher: {len(brands)} brands compiled in {time.perf_counter() - started:.2f} s")
    vader = timed("VADER alone", lambda: [analyzer.polarity_scores(p) for p in posts], len(posts))
    match = timed(
        "brand matcher (trie regex)", lambda: [matcher.find(p) for p in posts], len(posts)
    )
    naive = naive_alternation(brands)
    timed("  for comparison: flat alternation regex", lambda: [naive(p) for p in posts], len(posts))
    clf = timed(
        "classifier (shipped, batches of 256)",
        lambda: [model.predict(posts[i : i + 256]) for i in range(0, len(posts), 256)],
        len(posts),
    )
    language.detect("warm up")  # loads py3langid's model (about 2 s), outside the timing
    detect = timed(
        "language, detected (no platform code)",
        lambda: [language.language_of(p) for p in posts],
        len(posts),
    )
    given = timed(
        "language, platform code given",
        lambda: [language.language_of(p, "en") for p in posts],
        len(posts),
    )
    if encoder is not None:
        timed("  MiniLM embeddings alone (batches of 64)", lambda: encoder.embed(posts), len(posts))
    print(f"\n  ratio matcher / VADER    = {match / vader:5.2f}x")
    print(f"  ratio classifier / VADER = {clf / vader:5.2f}x")
    # Detection runs the classifier and the language step on every post: the share of time
    # the language step adds, with and without a code from the platform.
    print(f"  language step adds {clf / detect:5.1%} (detected), {clf / given:5.1%} (code given)")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  process peak RSS (ru_maxrss, whole run incl. all candidates) = {rss:.0f} MiB")


if __name__ == "__main__":
    main()
