import numpy as np

from destination_vectors.embedding.embedder import HashEmbedder
from destination_vectors.embedding.model import resolve_model
from destination_vectors.write.vectors import EmbedCounts, chunk_content_hash, embed_with_reuse


class CountingEmbedder(HashEmbedder):
    def __init__(self):
        super().__init__(resolve_model(), dimension=16)
        self.calls: list[list[str]] = []

    def embed(self, texts):
        self.calls.append(list(texts))
        return super().embed(texts)


def test_reused_vectors_skip_the_model_and_duplicates_embed_once():
    embedder = CountingEmbedder()
    stored = {chunk_content_hash("m", "old"): np.ones(16, dtype=np.float32)}
    texts = ["old", "new", "new"]
    hashes = [chunk_content_hash("m", t) for t in texts]
    counts = EmbedCounts()
    vectors = embed_with_reuse(texts, hashes, embedder, lambda hs: {h: stored[h] for h in hs if h in stored}, counts)
    assert embedder.calls == [["new"]], "only the one new distinct text may reach the model"
    assert (counts.embedded, counts.reused) == (1, 2)
    assert np.allclose(vectors[0], 1.0) and np.allclose(vectors[1], vectors[2])


def test_content_hash_depends_on_model_and_text():
    assert chunk_content_hash("a", "x") != chunk_content_hash("b", "x")
    assert chunk_content_hash("a", "x") == chunk_content_hash("a", "x")


def test_wrong_dimension_stored_vector_is_reembedded():
    embedder = CountingEmbedder()
    counts = EmbedCounts()
    embed_with_reuse(["t"], ["h"], embedder, lambda hs: {"h": np.ones(3, dtype=np.float32)}, counts)
    assert counts.embedded == 1
