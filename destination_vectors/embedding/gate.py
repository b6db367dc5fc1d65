"""The quality gate behind `embedding.backend: auto`, measured on this CPU, never assumed.

Int8 arithmetic differs between CPUs (AVX2 vs VNNI kernels), so the gate runs once per model and kind of CPU, in the
export's child process (it needs torch for the reference vectors), and its result is cached beside the model:
every ONNX backend is compared with sentence-transformers on torch over `gate_texts.json` (every chunk of the sample
site plus neighbouring chunks joined up to 256 tokens), timed in interleaved rounds, and `auto` takes the fastest
backend whose worst chunk still reaches its threshold.

    python -m destination_vectors.embedding.gate MODEL_FOLDER ONNX_FOLDER
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import time
from importlib.metadata import version as package_version
from pathlib import Path

import numpy as np

from destination_vectors.embedding.cache import ONNX_FILES, read_json, write_json_atomic

logger = logging.getLogger("airbyte")

# Worst-chunk cosine to torch a backend must reach to be chosen by `auto`.
THRESHOLDS = {"torch": 1.0, "onnx": 0.9999, "onnx-int8": 0.99}
ROUNDS = 3
TIE = 1.10
PREFERENCE = ("onnx-int8", "onnx", "torch")
_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_int8", "asimddp", "i8mm")


def cpu_key() -> str:
    """What decides int8 numerics and speed: the architecture, the SIMD features, the onnxruntime version."""
    flags: set[str] = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    present = "-".join(f for f in _FLAGS if f in flags) or "baseline"
    return f"{platform.machine()}-{present}-ort{package_version('onnxruntime')}"


def gate_file(onnx_folder: Path) -> Path:
    return onnx_folder / f"gate-{cpu_key()}.json"


def read_gate(onnx_folder: Path) -> dict | None:
    result = read_json(gate_file(onnx_folder))
    return result if result.get("choice") in THRESHOLDS else None


def gate_texts() -> list[str]:
    return json.loads((Path(__file__).with_name("gate_texts.json")).read_text(encoding="utf-8"))["texts"]


def choose(min_cosine: dict[str, float], chunks_per_s: dict[str, float]) -> str:
    """The fastest backend whose worst chunk passes (torch, the reference, always passes). Speeds within 10 % of the
    fastest count as a tie, broken toward onnx-int8, then onnx: on a busy machine such gaps are noise, and the ONNX
    backends start without torch."""
    passing = [b for b in chunks_per_s if b == "torch" or min_cosine.get(b, 0.0) >= THRESHOLDS[b]]
    fastest = max(chunks_per_s[b] for b in passing)
    near = [b for b in passing if chunks_per_s[b] >= fastest / TIE]
    return min(near, key=PREFERENCE.index)


def run_gate(model_folder: Path, onnx_folder: Path, texts: list[str] | None = None) -> dict:
    """Measures every backend on this CPU and caches the result; needs torch (for the reference vectors)."""
    from destination_vectors.embedding.model import resolve_model
    from destination_vectors.embedding.onnx_backend import OnnxEmbedder
    from destination_vectors.embedding.pooling import read_pooling
    from destination_vectors.embedding.torch_backend import TorchEmbedder

    texts = texts or gate_texts()
    info = resolve_model(str(model_folder))
    spec = read_pooling(info.path)
    embedders = {"torch": TorchEmbedder(info, device="cpu", batch_size=32)}
    for backend, name in ONNX_FILES.items():
        embedders[backend] = OnnxEmbedder(onnx_folder / name, info.path, spec, info.max_seq_length)
    vectors: dict[str, np.ndarray] = {}
    best = {backend: float("inf") for backend in embedders}
    for embedder in embedders.values():
        embedder.embed(texts[:2])  # first-call warm-up is not speed
    for _ in range(ROUNDS):  # interleaved, so a burst of load on a shared machine hits every backend alike
        for backend, embedder in embedders.items():
            started = time.perf_counter()
            vectors[backend] = embedder.embed(texts)
            best[backend] = min(best[backend], time.perf_counter() - started)
    reference = vectors["torch"]
    min_cosine = {b: float((v * reference).sum(axis=1).min()) for b, v in vectors.items()}
    speed = {backend: len(texts) / seconds for backend, seconds in best.items()}
    result = {
        "cpu": cpu_key(),
        "texts": len(texts),
        "min_cosine": min_cosine,
        "thresholds": THRESHOLDS,
        "chunks_per_s": speed,
        "choice": choose(min_cosine, speed),
    }
    write_json_atomic(gate_file(onnx_folder), result)
    logger.info(f"quality gate on this CPU: {json.dumps(result)}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_folder", type=Path)
    parser.add_argument("onnx_folder", type=Path)
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    run_gate(options.model_folder, options.onnx_folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
