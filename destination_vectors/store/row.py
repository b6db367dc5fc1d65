"""The chunk row, declared once: every column of the chunk table with its Arrow type, where its value comes from, and
whether search returns it.

Everything else derives from `COLUMNS`: the Arrow schema (`chunk_schema`), which record fields the record reader
copies (`records.to_document`), the row builder's output (`page_rows.build_rows`), the columns search selects
(`HIT_COLUMNS`) and the `Hit` a search returns (`make_hit_class`, used by `search.py`; `PageHit` in `grouping.py`). Adding a column is one line here:

    Column("labels", LIST_OF_TEXT, read=text_list, hit=True),   # copied from the record's `labels` field

A column with `read` is taken from the record field of the same name (through `read`, which must never raise);
a column without it is computed by the row builder (`page_rows.py`), which then needs its formula too.
A new or changed column changes the table layout: the next sync rebuilds the table (docs/storage.md, "Chunk table columns").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

TEXT = pa.string()
LIST_OF_TEXT = pa.list_(pa.string())
VECTOR_COLUMN = "vector"  # fixed-size list of float32; its size is the model's, so it is added by `chunk_schema`


def clean_text(text: str) -> str:
    """Lone surrogates (invalid UTF-16 halves from broken JSON) cannot be stored or tokenized: replace them."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


# -- readers: record field value -> column value; total functions (a bad value becomes the empty value) ------------
def text(value: Any) -> str:
    return "" if value is None else clean_text(str(value))


def integer(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def flag(value: Any) -> bool:
    """True only for a JSON true: anything else (absent, null, "yes") is False."""
    return value is True


def text_list(value: Any) -> list[str]:
    """A list of strings from a list (None items dropped); anything else is the empty list."""
    if not isinstance(value, list | tuple):
        return []
    return [text(item) for item in value if item is not None]


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    read: Callable[[Any], Any] | None = None  # set: copied from the record field `name`; unset: computed per row
    hit: bool = False  # returned by search, a field of `Hit`


COLUMNS: tuple[Column, ...] = (
    Column("chunk_id", TEXT, hit=True),  # "<stream>:<page_id>:<chunk_index>", the merge key
    Column("stream", TEXT, hit=True),  # pages, blog_posts, comments, attachments (the Airbyte stream name)
    Column("page_id", TEXT, hit=True),
    Column("chunk_index", pa.int32()),
    Column("title", TEXT, hit=True),
    Column("heading_path", TEXT, hit=True),  # "Heading > Subheading"
    Column("text", TEXT, hit=True),  # what is embedded and full-text indexed (starts with the context line)
    Column("identifiers", TEXT),  # the text's identifier-like tokens, whole (exact.py), in a full-text index of its own
    Column("space_key", TEXT, read=text, hit=True),
    Column("visibility", TEXT, hit=True),  # internal | public, fail-closed (records.py)
    Column("webui_url", TEXT, read=text, hit=True),
    Column("chunk_url", TEXT, hit=True),  # webui_url + the anchor Confluence gives the chunk's heading
    Column("ancestors", LIST_OF_TEXT, read=text_list, hit=True),  # titles of the page's ancestors, root first
    Column("ancestor_ids", LIST_OF_TEXT, read=text_list),  # their ids: search --under PAGE_ID
    Column("author_name", TEXT, read=text, hit=True),  # the page creator's display name
    Column("updated_at", TEXT, read=text),
    Column("labels", LIST_OF_TEXT, read=text_list, hit=True),  # label names of the page or blog post
    Column("container_title", TEXT, read=text, hit=True),  # comments and attachments: their page's title ...
    Column("container_url", TEXT, read=text, hit=True),  # ... and link (containers.py)
    Column("container_id", TEXT, read=text, hit=True),  # ... and id: grouped by page, a child joins its page
    Column("container_stream", TEXT, read=text, hit=True),  # pages | blog_posts: the container's stream
    Column("content_hash", TEXT),  # model + text: the key for vector reuse
    Column("row_hash", TEXT),  # every other column: the swap rewrites only rows whose hash changed
    Column("page_hash", TEXT),  # every input of the page: equal hashes mean the page's rows can be carried over
    Column("metadata", TEXT),  # JSON of the configured metadata fields without a column of their own
    Column("embedding_model", TEXT),
    Column("version", pa.int64(), read=integer),
    # access (source: Confluence's rule; search as a person filters on `readers`, destination_vectors/access.py)
    Column("restricted", pa.bool_(), read=flag),  # the page or an ancestor is restricted (or access was unreadable)
    Column("readers", LIST_OF_TEXT, read=text_list),  # user:<id> | group:<name> | anonymous; absent: nobody
)
COLUMN_NAMES = tuple(column.name for column in COLUMNS)
HIT_COLUMNS = tuple(column.name for column in COLUMNS if column.hit)


def chunk_schema(dimension: int, columns: Sequence[Column] = COLUMNS) -> pa.Schema:
    """The chunk table's Arrow schema for vectors of `dimension` floats."""
    fields = [pa.field(column.name, column.type) for column in columns]
    return pa.schema([*fields, pa.field(VECTOR_COLUMN, pa.list_(pa.float32(), dimension))])


def empty_value(column: Column) -> Any:
    """The value a column has in a table written before it existed (search fills it in)."""
    return _PYTHON_TYPES.get(column.type, (str, ""))[1] if not pa.types.is_list(column.type) else []


_PYTHON_TYPES: dict[pa.DataType, tuple[type, Any]] = {
    pa.string(): (str, ""),
    pa.int32(): (int, 0),
    pa.int64(): (int, 0),
    pa.float32(): (float, 0.0),
    pa.float64(): (float, 0.0),
    pa.bool_(): (bool, False),
}


def _python_type(column: Column) -> Any:
    if pa.types.is_list(column.type):
        return list[_PYTHON_TYPES[column.type.value_type][0]]
    return _PYTHON_TYPES[column.type][0]


def make_hit_class(
    columns: Sequence[Column] = COLUMNS,
    extra: dict[str, Any] | None = None,
    module: str = __name__,
    name: str = "Hit",
    doc: str = "One search result: rank (1-based), score (higher is better) and the row's hit columns.",
) -> type:
    """A search result type: rank, score, one field per hit column, then the `extra` fields search computes
    (attribute access, `to_dict()`). `Hit` (a chunk) and `PageHit` (a page, grouping.py) both come from here."""
    fields: list[tuple[str, Any]] = [("rank", int), ("score", float)]
    fields += [(c.name, _python_type(c)) for c in columns if c.hit]
    fields += list((extra or {}).items())
    return dataclasses.make_dataclass(
        name,
        fields,
        frozen=True,
        namespace={
            "__doc__": doc,
            "__module__": module,
            "columns": tuple(c for c in columns if c.hit),
            "to_dict": lambda self: dataclasses.asdict(self),
        },
    )


def hit_from_row(rank: int, score: float, row: dict[str, Any], hit_class: Any, **extra: Any) -> Any:
    """A `Hit` from a result row; a column the table does not have yet gets its empty value."""
    values = {c.name: row[c.name] if c.name in row else empty_value(c) for c in hit_class.columns}
    return hit_class(rank=rank, score=score, **values, **extra)
