"""Model folder -> ONNX files, offline: the one step that needs torch, run once per model in a child process.

    python -m destination_vectors.embedding.export MODEL_FOLDER OUT_FOLDER

writes `model.onnx` (fp32, the transformer up to its token vectors) and `model-int8.onnx` (onnxruntime dynamic
quantization) into OUT_FOLDER. The caller (cache.py) gives a fresh temporary folder and renames it into place, so a
crash or a second exporter never leaves a half-written file where a reader looks.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from pathlib import Path

from destination_vectors.embedding.cache import EXPORT_RECIPE, ONNX_FILES, write_manifest

OPSET = 17
FP32_FILE = ONNX_FILES["onnx"]
INT8_FILE = ONNX_FILES["onnx-int8"]
# Dynamic int8 on MatMul weights only, per output channel, 7-bit weights (reduce_range: on CPUs without VNNI the AVX2
# u8s8 kernels saturate with full-range weights). Left in fp32: embeddings (Gather), activation x activation
# products, and the two projections whose inputs have the widest range (attention output and feed-forward output,
# `.../output/dense/MatMul`). Measured on the sample site and shared fixtures (AVX2, no VNNI): worst-chunk cosine to
# torch 0.868 with the defaults, 0.984 with MatMul per channel + reduce_range, 0.990 with these exclusions.
INT8_OPTIONS = {"op_types": ["MatMul"], "per_channel": True, "reduce_range": True, "exclude": r"/output/dense/"}


def export_fp32(model_folder: Path, out: Path) -> list[str]:
    """Exports the transformer with dynamic batch and sequence axes; returns the graph's input names."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import inspect

    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_folder), local_files_only=True)
    model.eval()
    accepted = inspect.signature(model.forward).parameters
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in accepted]

    class ByKeyword(torch.nn.Module):
        """BertModel.forward takes other arguments positionally: pass the inputs by name (see NOTES)."""

        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, *inputs):
            return self.inner(**dict(zip(names, inputs, strict=True))).last_hidden_state

    sample = tuple(torch.ones((2, 8), dtype=torch.long) for _ in names)
    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    axes["token_vectors"] = {0: "batch", 1: "sequence"}
    with torch.no_grad():
        torch.onnx.export(
            ByKeyword(),
            sample,
            str(out),
            input_names=names,
            output_names=["token_vectors"],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )
    return names


def quantize_int8(fp32: Path, out: Path, options: dict | None = None) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    options = options or INT8_OPTIONS
    quantize_dynamic(
        str(fp32),
        str(out),
        op_types_to_quantize=options["op_types"],
        per_channel=options["per_channel"],
        reduce_range=options["reduce_range"],
        weight_type=QuantType.QInt8,
        nodes_to_exclude=_matching_nodes(fp32, options.get("exclude")),
    )


def _matching_nodes(model_file: Path, pattern: str | None) -> list[str]:
    if not pattern:
        return []
    import onnx

    graph = onnx.load(str(model_file), load_external_data=False).graph
    return [node.name for node in graph.node if re.search(pattern, node.name)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_folder", type=Path)
    parser.add_argument("out_folder", type=Path)
    parser.add_argument("--gate", action="store_true", help="also run the quality gate on this CPU")
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    out = options.out_folder
    out.mkdir(parents=True, exist_ok=True)
    inputs = export_fp32(options.model_folder, out / FP32_FILE)
    quantize_int8(out / FP32_FILE, out / INT8_FILE)
    import onnxruntime
    import torch

    extra = {"inputs": inputs, "opset": OPSET, "int8": INT8_OPTIONS, "recipe": EXPORT_RECIPE}
    extra["versions"] = {"torch": torch.__version__, "onnxruntime": onnxruntime.__version__}
    write_manifest(out, [FP32_FILE, INT8_FILE], extra)
    if options.gate:  # the caller will need the gate too: measure it while torch is loaded anyway
        from destination_vectors.embedding.gate import run_gate

        run_gate(options.model_folder, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
