"""What a sync takes over from the live snapshot: vectors by content hash, and pages carried over as they are.

Read with Lance alone, pinned to the version that was live when the sync began (store/snapshot.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import lance
import numpy as np
import pyarrow as pa

from destination_vectors.store.snapshot import quote


class VectorLookup:
    """Vectors of the live snapshot by content hash, pinned to the version that was live when the sync began."""

    def __init__(self, dataset: lance.LanceDataset | None, model_name: str) -> None:
        self._dataset = dataset
        self._model = model_name
        if self._dataset is not None and "embedding_model" not in self._dataset.schema.names:
            self._dataset = None

    def __call__(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        if self._dataset is None or not hashes:
            return {}
        wanted = ", ".join(quote(h) for h in hashes)
        found = self._dataset.to_table(
            columns=["content_hash", "vector"],
            filter=f"content_hash IN ({wanted}) AND embedding_model = {quote(self._model)}",
        )
        vectors = found.column("vector").combine_chunks()
        if len(vectors) == 0:
            return {}
        matrix = vectors.flatten().to_numpy(zero_copy_only=False).reshape(len(vectors), -1)
        return dict(zip(found.column("content_hash").to_pylist(), matrix, strict=False))


class CarriedPages:
    """Pages whose every input (text, metadata, access, model, chunking) is unchanged since the live snapshot.

    Their rows are copied from the snapshot as they are, so an unchanged page is neither converted, chunked nor
    embedded again: a full re-pull where little changed costs little more than reading its input. Only the page
    columns (stream, page_id, page_hash) are read up front; the rows themselves only when a commit needs them.
    """

    def __init__(self, dataset: lance.LanceDataset | None, schema: pa.Schema) -> None:
        self._schema = schema
        self._dataset = dataset if dataset is not None and dataset.schema == schema else None
        self._known: dict[tuple[str, str], tuple[str, int]] = {}
        if self._dataset is not None:
            pages = self._dataset.to_table(columns=["stream", "page_id", "page_hash"])
            for stream, page_id, page_hash in zip(
                *(pages.column(n).to_pylist() for n in pages.column_names), strict=False
            ):
                _, count = self._known.get((stream, page_id), (page_hash, 0))
                self._known[(stream, page_id)] = (page_hash, count + 1)

    def chunks_if_unchanged(self, stream: str, page_id: str, page_hash: str) -> int:
        """The page's chunk count when its rows can be carried over, else 0."""
        known = self._known.get((stream, page_id))
        return known[1] if known is not None and known[0] == page_hash else 0

    def rows(self, stream: str, page_ids: Sequence[str]) -> pa.Table:
        assert self._dataset is not None
        ids = ", ".join(quote(page) for page in page_ids)
        found = self._dataset.to_table(
            columns=self._schema.names, filter=f"stream = {quote(stream)} AND page_id IN ({ids})"
        )
        return found.cast(self._schema)

    def unchanged_by(
        self, carried: Mapping[str, Sequence[str]], replace: Sequence[str], dedup: Mapping[str, set[str]]
    ) -> bool:
        """True when a commit of only these carried pages would leave the snapshot as it is: every live page of a
        replaced stream and every re-sent live page of an append_dedup stream was carried (so nothing is deleted),
        and carried rows are the snapshot's own rows (so nothing is inserted or updated)."""
        if self._dataset is None:
            return False  # no table yet, or a table of other columns: the commit creates or rebuilds it
        live: dict[str, set[str]] = {}
        for stream, page_id in self._known:
            live.setdefault(stream, set()).add(page_id)
        kept = {stream: set(page_ids) for stream, page_ids in carried.items()}
        for stream in replace:
            if not live.get(stream, set()) <= kept.get(stream, set()):
                return False
        return all(pages & live.get(stream, set()) <= kept.get(stream, set()) for stream, pages in dedup.items())
