"""Embedding with onnxruntime and the `tokenizers` library: the model's own tokens, its graph, its pooling; no torch.

Texts are tokenized once, sorted by length and batched, so a batch pads only to its own longest text (what
sentence-transformers does too); vectors come back in the caller's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from destination_vectors.embedding.pooling import PoolingSpec, pool

# Tokens per model call: 16 chunks of 256 tokens. onnxruntime's CPU arena keeps the largest call's memory, and
# attention memory grows with rows x tokens^2: 32 x 256 tokens took a process to 1,031 MB, this budget to 558 MB.
TOKENS_PER_RUN = 4096


class OnnxEmbedder:
    def __init__(
        self,
        onnx_file: Path,
        model_folder: Path,
        pooling: PoolingSpec,
        max_seq_length: int,
        batch_size: int = 32,
        providers: Sequence[str] = ("CPUExecutionProvider",),
    ) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # warnings about unused initializers are noise in a sync log
        # No busy-waiting after a run: spinning intra-op threads keep the cores busy for the search that follows a
        # query embedding (LanceDB's own threads then wait); bench/search_latency.py measures the difference.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(str(onnx_file), options, providers=list(providers))
        self._inputs = [i.name for i in self._session.get_inputs()]
        self._tokenizer = Tokenizer.from_file(str(model_folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=max_seq_length)
        self._pooling = pooling
        self.dimension = pooling.dimension
        self.max_seq_length = max_seq_length
        self.batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=True)
        order = sorted(range(len(texts)), key=lambda row: len(encodings[row].ids))
        start = 0
        while start < len(order):
            rows = order[start : start + self._rows_for(len(encodings[order[start]].ids))]
            rows = rows[: self._rows_for(len(encodings[rows[-1]].ids))]  # sorted: the last one is the longest
            out[rows] = self._run([encodings[row] for row in rows])
            start += len(rows)
        return out

    def _rows_for(self, tokens: int) -> int:
        """batch_size, fewer for long texts: attention memory grows with rows x tokens^2."""
        return max(1, min(self.batch_size, TOKENS_PER_RUN // max(tokens, 1)))

    def _run(self, encodings: list) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        feeds = {name: np.zeros((len(encodings), width), dtype=np.int64) for name in self._inputs}
        for row, encoding in enumerate(encodings):
            length = len(encoding.ids)
            feeds["input_ids"][row, :length] = encoding.ids
            feeds["attention_mask"][row, :length] = 1
            if "token_type_ids" in feeds:
                feeds["token_type_ids"][row, :length] = encoding.type_ids
        (tokens,) = self._session.run(None, feeds)
        return pool(tokens, feeds["attention_mask"], self._pooling)
