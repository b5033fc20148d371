"""The tone guard's semantic layer: with and without it, in and out of sample, and its cost.

    nice -n 19 python bench/tone_semantic.py [--quick]

Prints, for ``tests/outreach/tone_eval.jsonl``: bad replies blocked and good replies
wrongly blocked by the patterns alone, by patterns + the shipped model (trained on
that set, so in sample), and by patterns + a model that did not see the reply (5
folds: trained on the training file and the other folds); the same 5-fold figures
for ``outreach/tone/training/replies.jsonl`` per kind of reply (paraphrases,
languages, long replies); and the speed of ``check_reply`` (replies per CPU-second,
one at a time as the live check calls it) with and without the layer, the encoder's
batched speed, and the process's peak RSS. ``--encoders`` compares the model alone over
MiniLM and over multilingual-e5-small (the optional extra ``encoder``). Never run on the
blind set.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from outreach.tone import ReplyContext, check_reply  # noqa: E402
from outreach.tone import semantic as sem  # noqa: E402

EVAL_FILE = REPO / "tests" / "outreach" / "tone_eval.jsonl"
# The brand table the evaluation set is written for; the training file's replies use it too.
OWN = ["Northwind", "Northwind Fibre", "Northwind Go", "NW Unlimited"]
COMPETITORS = ["Telvana", "Orbix", "Orbix Flex", "Zephyrline", "ZephyrNet"]


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def context(row: dict) -> ReplyContext:
    return ReplyContext(
        playbook=row["playbook"],
        own_terms=row.get("own_terms", OWN),
        competitor_terms=row.get("competitor_terms", COMPETITORS),
        post_text=row.get("post_text", ""),
        max_length=row.get("max_length", 500),
        length_unit=row.get("length_unit", "characters"),
        first_reply=row.get("first_reply", True),
    )


def is_bad(row: dict) -> bool:
    return not row["expect_ok"] if "expect_ok" in row else bool(row["codes"])


def expected(row: dict) -> set[str]:
    return set(row["codes"] if "codes" in row else row["expect_blocking"])


WARNED: dict[int, set[str]] = {}  # id(blocking set) -> the codes of every finding


def blocked(row: dict, **kwargs: object) -> set[str]:
    """The codes that block ``row``'s reply (model codes marked with a star)."""
    findings = check_reply(row["text"], context(row), **kwargs)
    codes = {f.code + ("*" if f.source == "model" else "") for f in findings if f.blocking}
    WARNED[id(codes)] = {f.code for f in findings}
    return codes


def summary(label: str, judged: list[tuple[dict, set[str]]]) -> None:
    """Bad replies blocked at all and for their own code; good replies blocked."""
    bad = [(r, b) for r, b in judged if is_bad(r)]
    good = [b for r, b in judged if not is_bad(r)]
    own = [bool(expected(r) & {c.rstrip("*") for c in b}) for r, b in bad]
    found = [bool(expected(r) & WARNED.get(id(b), set())) for r, b in bad]
    good_warned = [bool(WARNED.get(id(b))) and not b for r, b in judged if not is_bad(r)]
    share = lambda xs: f"{sum(map(bool, xs)) / len(xs):6.1%}" if xs else "     -"  # noqa: E731
    print(
        f"  {label:44} bad blocked {share([b for _, b in bad])}, for its code {share(own)},"
        f" its code found (block or warning) {share(found)} ({len(bad):3})"
        f"   good blocked {share(good)}, only warned {share(good_warned)} ({len(good):3})"
    )
    wrong = [f"{r.get('id')} {sorted(b)}" for r, b in judged if not is_bad(r) and b]
    if wrong:
        print("    good blocked:", "; ".join(wrong))


def fold_models(
    train_examples: list[sem.Example],
    train_vectors: sem.Embedded,
    held: list[sem.Example],
    held_vectors: sem.Embedded,
) -> list[sem.Model]:
    """One model per fold of ``held``, trained on ``train_examples`` and the other folds."""
    folds = sem._folds(len(held))
    models = []
    for k in range(sem.FOLDS):
        keep = folds != k
        examples = train_examples + [e for e, kept in zip(held, keep, strict=True) if kept]
        models.append(sem.train(examples, train_vectors + held_vectors.subset(keep)))
    return models


def held_out(label: str, data: list[dict], models: list[sem.Model], by: str | None) -> None:
    folds = sem._folds(len(data))
    patterns = [(r, blocked(r, semantic=False)) for r in data]
    layered = [(r, blocked(r, model=models[folds[i]])) for i, r in enumerate(data)]
    print(f"{label}:")
    summary("patterns alone", patterns)
    summary("patterns + model (5-fold, reply not seen)", layered)
    if by:
        groups: dict[str, list[int]] = defaultdict(list)
        for i, r in enumerate(data):
            groups[r[by]].append(i)
        print(f"  per {by} (patterns alone -> with the held-out model):")
        for name, index in sorted(groups.items()):

            def caught(judged: list[tuple[dict, set[str]]], i: int) -> bool:
                codes = {c.rstrip("*") for c in judged[i][1]}
                return bool(expected(data[i]) & codes) if is_bad(data[i]) else bool(codes)

            p = sum(caught(patterns, i) for i in index)
            m = sum(caught(layered, i) for i in index)
            what = "caught with its code" if is_bad(data[index[0]]) else "blocked"
            print(f"    {name:16} {len(index):3} replies, {what} {p:3} -> {m:3}")


def speed(data: list[dict], semantic: bool) -> float:
    checks = [(r["text"], context(r)) for r in data]
    start = time.process_time()
    for text, ctx in checks:
        check_reply(text, ctx, semantic=semantic)
    return len(checks) / (time.process_time() - start)


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return float("nan")


def compare_encoders() -> None:
    """The model alone over each encoder, out of fold on every labelled reply: the share of
    good replies it would flag and of bad replies it finds with their own code, per
    threshold; and each encoder's replies per CPU-second, one at a time."""
    sys.path.insert(0, str(REPO / "bench"))
    from learning_curve import E5Nano  # the optional extra `encoder`

    examples = sem.default_examples()
    labels = np.array([[c in e.codes for c in sem.SEMANTIC_CODES] for e in examples])
    good = np.array([not e.codes for e in examples])
    bad = labels.any(axis=1)
    texts = [e.text for e in examples]
    for name, enc in (("minilm", sem.encoder()), ("e5", E5Nano())):
        start = time.process_time()
        for text in texts[:200]:
            enc.embed([text])
        per_second = 200 / (time.process_time() - start)
        # Whole replies only: the sentence split is the same for both encoders.
        embedded = sem.Embedded(
            np.asarray(enc.embed(texts)),
            tuple(np.zeros((0, 384)) for _ in texts),
            np.zeros((len(texts), len(sem.CONTEXT_FEATURES))),
        )
        oof = np.zeros(labels.shape)
        for j, code in enumerate(sem.SEMANTIC_CODES):
            rows = np.array([i for i, e in enumerate(examples) if e.checked(code)])
            oof[rows, j] = sem.out_of_fold(embedded, labels[rows, j], rows, code)
        print(f"{name}: {per_second:.0f} replies/s one at a time (encoder only)")
        for t in (0.6, 0.7, 0.8, 0.9):
            flag = oof >= t
            print(
                f"  threshold {t}: good flagged {flag[good].any(axis=1).mean():6.1%},"
                f" bad found with its code {(flag & labels)[bad].any(axis=1).mean():6.1%}"
            )


def dev_choice() -> None:
    """What the development set chooses: C and whether the context features help, each
    measured by the dev set's two halves in turn (blocking levels chosen on one half, the
    whole guard measured on the other), then the shipped model's levels."""
    examples = sem.default_examples()
    dev = sem.default_dev()
    if not dev:
        print(f"no development set ({sem.DEV_FILE})")
        return
    embedded = sem.embed_examples(examples)
    dev_embedded = sem.embed_examples(dev)
    half = np.arange(len(dev)) % 2
    bad = np.array([bool(e.codes) for e in dev])
    print(f"{len(examples)} training replies, {len(dev)} development ({bad.sum()} bad)")

    def without_context(e: sem.Embedded) -> sem.Embedded:
        return sem.Embedded(e.whole, e.parts, np.zeros_like(e.context))

    for with_context in (True, False):
        train_e = embedded if with_context else without_context(embedded)
        dev_e = dev_embedded if with_context else without_context(dev_embedded)
        for c in (2.0, 8.0, 32.0):
            model = sem.train(examples, train_e, c=c)
            judged = sem.judge(model, dev, dev_e)
            blocked = np.zeros(len(dev), dtype=bool)
            for k in (0, 1):
                chosen = [j for j, h in zip(judged, half, strict=True) if h == k]
                levels = sem.choose_levels(chosen, len(model.codes), floor=model.threshold)
                other = [j for j, h in zip(judged, half, strict=True) if h != k]
                blocked[half != k] = sem.blocked_by(other, *levels)
            never = np.full(len(model.codes), sem.NEVER)
            patterns = sem.blocked_by(judged, never, np.zeros(len(model.codes)))
            print(
                f"  context features {'on ' if with_context else 'off'} C={c:4}:"
                f" bad blocked {blocked[bad].mean():6.1%}, good blocked {blocked[~bad].mean():5.1%}"
                f"  (patterns alone {patterns[bad].mean():6.1%} / {patterns[~bad].mean():5.1%})"
            )
    model = sem.default_model()
    print("shipped model's levels (blocks from / doubts a pattern below):")
    for c, b, v in zip(model.codes, model.block, model.veto, strict=True):
        print(f"  {c:26} {'-' if b > 1 else f'{b:.2f}':>5} {v:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="skip the 5-fold runs")
    parser.add_argument(
        "--encoders", action="store_true", help="only compare MiniLM with e5 (needs [encoder])"
    )
    parser.add_argument(
        "--dev", action="store_true", help="only what the development set chooses (C, features)"
    )
    args = parser.parse_args()
    if args.dev:
        dev_choice()
        return
    if args.encoders:
        compare_encoders()
        return
    eval_rows = rows(EVAL_FILE)
    train_rows = rows(sem.REPLIES_FILE)
    start = time.process_time()
    sem.encoder()
    print(
        f"encoder loaded in {time.process_time() - start:.2f} CPU s, RSS {peak_rss_mib():.0f} MiB"
    )
    model = sem.default_model()
    print(
        f"model: {'shipped ' + sem.MODEL_FILE.name if sem.MODEL_FILE.exists() else 'trained now'},"
        f" digest {model.digest}"
    )
    print(
        "thresholds:",
        ", ".join(f"{c} {b:.2f}" for c, b in zip(model.codes, model.threshold, strict=True)),
    )
    print()
    print("tone_eval.jsonl:")
    summary("patterns alone", [(r, blocked(r, semantic=False)) for r in eval_rows])
    summary("patterns + shipped model (in sample)", [(r, blocked(r)) for r in eval_rows])
    if not args.quick:
        train_ex = sem.read_jsonl(sem.REPLIES_FILE, "training")
        eval_ex = sem.read_jsonl(EVAL_FILE, "tone_eval")
        train_vec = sem.embed_examples(train_ex)
        eval_vec = sem.embed_examples(eval_ex)
        print()
        held_out(
            "tone_eval.jsonl, 5-fold",
            eval_rows,
            fold_models(train_ex, train_vec, eval_ex, eval_vec),
            None,
        )
        print()
        held_out(
            "training/replies.jsonl, 5-fold",
            train_rows,
            fold_models(eval_ex, eval_vec, train_ex, train_vec),
            "kind",
        )
    print()
    both = eval_rows + train_rows
    without = speed(both, semantic=False)
    with_layer = speed(both, semantic=True)
    texts = [r["text"] for r in both]
    start = time.process_time()
    sem.encoder().embed(texts, batch=16)
    batched = len(texts) / (time.process_time() - start)
    print(f"speed, replies per CPU-second, one at a time ({len(both)} replies):")
    print(f"  patterns alone {without:7.0f}")
    print(f"  with the layer {with_layer:7.0f}")
    print(f"  encoder alone, batches of 16: {batched:.0f}")
    print(f"peak RSS {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
