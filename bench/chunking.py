"""Chunking a large page: the chunker's per-page token-count memo beside the same chunker counting every text again,
measured alternately in one run (CPU seconds: a loaded machine stretches them less than wall time).

    python -m bench.chunking [--megabytes 5] [--rounds 2]

The page is the hostile-records test's: paragraphs of 120 words, each over the chunk budget, so every paragraph is
counted as a block, as a line and as a sentence before it is cut on token boundaries.
"""

from __future__ import annotations

import argparse
import hashlib
import time

from destination_vectors.embedding.model import load_tokenizer
from destination_vectors.text import chunks
from destination_vectors.text.chunks import chunk_sections
from destination_vectors.text.documents import storage_to_sections


def _uncached(self: chunks._Chunker, texts: list[str]) -> list[int]:  # noqa: SLF001 - the baseline being measured
    return [count - self.special for count in self.tokenizer.count_many(texts)] if texts else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    paragraph = "<p>" + " ".join(f"word{n % 997}" for n in range(120)) + "</p>"
    body = paragraph * (int(args.megabytes * 1024 * 1024) // len(paragraph) + 1)
    sections, tokenizer = storage_to_sections(body), load_tokenizer()
    memo = chunks._Chunker.counts  # noqa: SLF001
    seconds: dict[str, list[float]] = {"memo": [], "no memo": []}
    outputs: dict[str, str] = {}
    for _ in range(args.rounds):
        for variant, counts in (("no memo", _uncached), ("memo", memo)):
            chunks._Chunker.counts = counts  # type: ignore[method-assign]  # noqa: SLF001
            started = time.process_time()
            result = chunk_sections("Large page", sections, tokenizer, 256, 32)
            seconds[variant].append(time.process_time() - started)
            outputs[variant] = hashlib.sha256(repr(result).encode()).hexdigest()
    chunks._Chunker.counts = memo  # type: ignore[method-assign]  # noqa: SLF001
    best = {variant: min(values) for variant, values in seconds.items()}
    print(f"{args.megabytes:g} MB page, {len(result)} chunks, best of {args.rounds} (CPU s):")
    for variant in ("no memo", "memo"):
        print(f"  {variant:8s} {best[variant]:6.2f} s")
    print(
        f"  memo is {best['no memo'] / best['memo']:.2f}x faster; same chunks: {outputs['memo'] == outputs['no memo']}"
    )


if __name__ == "__main__":
    main()
