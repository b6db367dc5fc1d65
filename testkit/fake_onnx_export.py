"""A stand-in for `destination_vectors.embedding.export` that tests of the export cache run instead of torch:
same command line, same files and manifest, made in a second; it sleeps between files so that two exporters
started together overlap, and it appends a line to $FAKE_EXPORT_LOG per run so a test can count exports."""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

from destination_vectors.embedding.cache import write_manifest

FILES = ("model.onnx", "model-int8.onnx")


def main() -> int:
    model_folder, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    seed = hashlib.sha256(str(model_folder).encode()).digest()
    for name in FILES:
        (out / name).write_bytes(seed * 4096)
        time.sleep(float(os.environ.get("FAKE_EXPORT_SLEEP", "0.5")))
    write_manifest(out, list(FILES), {"inputs": ["input_ids", "attention_mask"], "fake": True})
    log = os.environ.get("FAKE_EXPORT_LOG")
    if log:
        with open(log, "a") as handle:
            handle.write(f"{os.getpid()}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
