"""The destination's configuration: one pydantic model that is both the validator and the Airbyte spec."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from destination_vectors.embedding.model import DEFAULT_MODEL
from destination_vectors.spec_order import SpecModel
from destination_vectors.store.ann import VectorIndexConfig
from destination_vectors.store.object_storage import ObjectStorageConfig
from destination_vectors.text.extract.guard import ExtractLimits

_SAFE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_SAFE_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")
CONFLUENCE_METADATA_FIELDS = [
    "space_key",
    "space_name",
    "visibility",
    "webui_url",
    "updated_at",
    "version",
    "ancestors",
]


class EmbeddingConfig(SpecModel):
    model_config = ConfigDict(extra="forbid", title="Embedding")

    model: str = Field(
        DEFAULT_MODEL,
        title="Model",
        description="A sentence-transformers model: the packaged default (all-MiniLM-L6-v2, offline), a local folder, "
        "or a Hugging Face name already in the local cache. Never downloaded at run time.",
        examples=[DEFAULT_MODEL, "/models/bge-small-en-v1.5"],
    )
    backend: Literal["auto", "torch", "onnx", "onnx-int8"] = Field(
        "auto",
        title="Backend",
        description="How to run the model: torch (sentence-transformers), onnx (onnxruntime, fp32) or onnx-int8 "
        "(dynamic int8). The ONNX model is exported once from the local model files and cached. auto picks the "
        "fastest backend that passes the quality gate on this CPU and logs which. Each backend's vectors are kept "
        "apart: switching re-embeds everything.",
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto",
        title="Device",
        description="Where to embed: auto picks a GPU when the backend can use one; cuda fails clearly without one.",
    )
    batch_size: int = Field(32, ge=1, le=4096, title="Batch size", description="Chunks per model call.")
    cache_dir: str | None = Field(
        None,
        title="ONNX cache folder",
        description="Where exported ONNX models are cached. Default: $DESTINATION_VECTORS_CACHE, else "
        "$XDG_CACHE_HOME/confluence-vectors, else ~/.cache/confluence-vectors.",
    )


class ChunkingConfig(SpecModel):
    model_config = ConfigDict(extra="forbid", title="Chunking")

    max_tokens: int | None = Field(
        None,
        ge=16,
        title="Max tokens per chunk",
        description="Counted with the model's own tokenizer, special tokens included. Default and upper bound: the "
        "model's max_seq_length (256 for all-MiniLM-L6-v2); a larger value is refused, because the model would "
        "silently truncate the chunk.",
        examples=[256, 128],
    )
    overlap_tokens: int = Field(
        0,
        ge=0,
        title="Overlap tokens",
        description="Tokens of the previous chunk's tail repeated at the start of the next chunk of the same section.",
    )


class MassDeletionConfig(SpecModel):
    """The guard before an overwrite commit (docs/sync.md, "The mass-deletion guard")."""

    model_config = ConfigDict(extra="forbid", title="Mass-deletion guard")

    max_share: float = Field(
        0.5,
        ge=0,
        lt=1,
        title="Largest share of a space deleted at once",
        description="An overwrite sync or a refresh that would delete more than this share of a space's pages of "
        "one stream, and at least min_pages of them, is refused: nothing is committed and the sync fails naming the "
        "spaces. 0.5: more than half.",
    )
    min_pages: int = Field(
        20,
        ge=1,
        title="Fewest pages that make a mass deletion",
        description="Deleting fewer pages of a space than this never stops a sync, whatever the share: small spaces "
        "and ordinary clean-ups keep syncing (the next good sync restores such a loss in seconds).",
    )
    allow_once: str | None = Field(
        None,
        title="Allow the deletion refused in run",
        description="The run id a refusal names: the next sync that commits may make the deletions that run refused, "
        "once. Spent by that sync; void once any sync succeeded after the refusal. Can stay set afterwards.",
        examples=["3f2a9c0d1b4e"],
    )
    allow_always: bool = Field(
        False,
        title="Allow every mass deletion",
        description="Never refuse. Each mass deletion is still logged and recorded in the ledger.",
    )

    @field_validator("allow_once")
    @classmethod
    def _run_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[0-9a-f]{12}", value.strip()):
            raise ValueError("allow_once must be the 12-character run id the refusal names, e.g. 3f2a9c0d1b4e")
        return value.strip() if value is not None else None


class StreamMapping(BaseModel):
    """Which field of a stream's records is the text, and in which format."""

    model_config = ConfigDict(extra="forbid", title="Stream mapping")

    text_field: str = Field(..., title="Text field")
    text_format: Literal["storage", "plain"] = Field(..., title="Text format")

    @field_validator("text_field")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not _SAFE_FIELD.match(value):
            raise ValueError(f"field name {value!r} is not a plain record field name")
        return value


# Streams other than `pages` with a text of their own; `pages` (and any other stream) use text_field / text_format.
DEFAULT_STREAM_MAPPINGS: dict[str, StreamMapping] = {
    "blog_posts": StreamMapping(text_field="body_storage", text_format="storage"),
    "comments": StreamMapping(text_field="body_storage", text_format="storage"),
    "attachments": StreamMapping(text_field="text", text_format="plain"),  # extracted by the destination
}


class DestinationConfig(SpecModel):
    """Validated once at start; every field is documented in docs/configuration.md."""

    model_config = ConfigDict(extra="ignore", title="Vectors destination (LanceDB + local embeddings)")

    lancedb_uri: str = Field(
        "./data/lancedb",
        title="LanceDB URI",
        description="A local folder, or any URI LanceDB accepts (s3://bucket/path, gs://..., az://...). For s3:// "
        "set object_storage (or the AWS environment variables); gs:// and az:// read their environment variables.",
        examples=["./data/lancedb", "s3://my-bucket/confluence"],
    )
    table_name: str = Field(
        "confluence_chunks",
        title="Table name",
        description="Letters, digits and underscores; starts with a letter.",
    )
    ledger_path: str | None = Field(
        None,
        title="Ledger path",
        description="DuckDB file for the sync history. Default: <lancedb_uri>/<table_name>.ledger.duckdb for a local "
        "folder, ./<table_name>.ledger.duckdb for a remote URI.",
    )
    embedding: EmbeddingConfig = Field(default_factory=EmbeddingConfig)
    chunking: ChunkingConfig = Field(default_factory=ChunkingConfig)
    text_field: str = Field(
        "body_storage",
        title="Text field",
        description="The record field holding the text to index.",
    )
    text_format: Literal["auto", "storage", "plain"] = Field(
        "auto",
        title="Text format",
        description="storage = Confluence storage XHTML; plain = index as is; auto = storage for body_storage, "
        "plain otherwise.",
    )
    title_field: str = Field("title", title="Title field")
    metadata_fields: list[str] = Field(
        default_factory=lambda: list(CONFLUENCE_METADATA_FIELDS),
        title="Metadata fields",
        description="Record fields kept beside each chunk (space_key, visibility, webui_url, updated_at and version "
        "fill their own columns; the rest go to the JSON `metadata` column).",
    )
    default_visibility: Literal["internal", "public"] = Field(
        "internal",
        title="Visibility of records without one",
        description="Records with no `visibility` field get this. internal is the safe default: such chunks never "
        "answer a `--visibility public` search.",
    )
    on_bad_record: Literal["skip", "fail"] = Field(
        "skip",
        title="On a record that cannot be converted",
        description="skip: count it, log its id, go on. fail: stop the sync; the previous snapshot stays.",
    )
    keep_snapshots: int = Field(
        2,
        ge=1,
        le=100,
        title="Snapshots kept",
        description="Committed snapshots kept (tagged) after housekeeping; older versions and fragments are removed.",
    )

    verify_record_counts: bool = Field(
        True,
        title="Verify record counts",
        description="Compare each STATE's source record count with the records received; a mismatch (lost messages) "
        "commits nothing. Turn off when the platform filters rows between source and destination (Airbyte mappers).",
    )
    vector_index: VectorIndexConfig = Field(
        default_factory=VectorIndexConfig,
        description="The approximate vector index built past min_rows chunks and kept only if its recall holds.",
    )
    stream_mappings: dict[str, StreamMapping] = Field(
        default_factory=dict,
        title="Per-stream text mapping",
        description='Overrides by stream name, e.g. {"comments": {"text_field": "body_storage", "text_format": '
        '"storage"}}. Defaults: blog_posts and comments body_storage/storage, attachments text/plain (the extracted '
        "text); pages and other streams use text_field and text_format.",
    )
    attachments: ExtractLimits = Field(
        default_factory=ExtractLimits,
        title="Attachment extraction",
        description="Limits of attachment text extraction: size, media types, time and memory per file, text length.",
    )
    object_storage: ObjectStorageConfig = Field(
        default_factory=ObjectStorageConfig,
        description="Endpoint, region and credentials for an s3:// lancedb_uri (AWS or S3-compatible).",
    )
    mass_deletion: MassDeletionConfig = Field(
        default_factory=MassDeletionConfig,
        description="Refuses an overwrite commit that would delete most of a space (a lost permission, a partial "
        "listing) unless allowed once or always.",
    )

    @field_validator("table_name")
    @classmethod
    def _safe_table_name(cls, value: str) -> str:
        if not _SAFE_NAME.match(value):
            raise ValueError(
                "table_name must start with a letter and hold only letters, digits and underscores (max 64): "
                "it becomes a folder name and appears in queries"
            )
        return value

    @field_validator("text_field", "title_field")
    @classmethod
    def _safe_field(cls, value: str) -> str:
        if not _SAFE_FIELD.match(value):
            raise ValueError(f"field name {value!r} is not a plain record field name")
        return value

    @field_validator("metadata_fields")
    @classmethod
    def _safe_fields(cls, values: list[str]) -> list[str]:
        return [cls._safe_field(v) for v in values]

    @field_validator("lancedb_uri", "ledger_path")
    @classmethod
    def _no_traversal(cls, value: str | None) -> str | None:
        if value is not None and ".." in Path(value.split("://", 1)[-1]).parts:
            raise ValueError("paths may not contain '..': give the folder directly")
        return value

    @model_validator(mode="after")
    def _object_storage_needs_s3(self) -> DestinationConfig:
        if self.object_storage.is_set and not self.lancedb_uri.startswith("s3://"):
            raise ValueError("object_storage applies to an s3:// lancedb_uri only")
        return self

    @model_validator(mode="after")
    def _overlap_below_limit(self) -> DestinationConfig:
        limit = self.chunking.max_tokens
        if limit is not None and self.chunking.overlap_tokens * 2 >= limit:
            raise ValueError("chunking.overlap_tokens must be less than half of chunking.max_tokens")
        return self

    @property
    def is_remote(self) -> bool:
        return local_folder(self.lancedb_uri) is None

    @property
    def local_folder(self) -> Path | None:
        """The folder of `lancedb_uri` on this machine (`~` expanded), None for an object store."""
        return local_folder(self.lancedb_uri)

    @property
    def resolved_ledger_path(self) -> Path:
        if self.ledger_path:
            return Path(self.ledger_path).expanduser()
        folder = self.local_folder
        if folder is None:
            return Path(f"{self.table_name}.ledger.duckdb")
        return folder / f"{self.table_name}.ledger.duckdb"

    @property
    def lock_path(self) -> Path:
        """The file lock that keeps a second local writer off the table: in the table's folder, or beside the
        ledger when the table is remote (the lock cannot live in object storage)."""
        folder = self.local_folder
        return (folder if folder is not None else self.resolved_ledger_path.parent) / f"{self.table_name}.lock"

    def storage_options(self) -> dict[str, str]:
        """What `lancedb.connect` needs besides the URI (empty for a local folder)."""
        return self.object_storage.storage_options() if self.is_remote else {}

    def text_is_storage(self) -> bool:
        return self.text_format == "storage" or (self.text_format == "auto" and self.text_field == "body_storage")

    def mapping_for(self, stream: str) -> tuple[str, bool]:
        """(text field, is storage XHTML) for a stream: its override, its default, or text_field / text_format."""
        mapping = self.stream_mappings.get(stream) or DEFAULT_STREAM_MAPPINGS.get(stream)
        if mapping is not None:
            return mapping.text_field, mapping.text_format == "storage"
        return self.text_field, self.text_is_storage()


def local_folder(uri: str) -> Path | None:
    """The local folder a LanceDB URI names, as LanceDB resolves it (`file://` dropped, `~` expanded); None for a
    remote URI (s3://, gs://, az://, ...). Every local use of `lancedb_uri` goes through here."""
    if uri.startswith("file://"):
        uri = uri.removeprefix("file://")
    elif uri.startswith("file:"):
        uri = uri.removeprefix("file:")
    elif "://" in uri:
        return None
    return Path(uri).expanduser()


def config_problems(error: ValidationError) -> str:
    """Each problem as `field: message`, never the offending value (it may be a secret typed in the wrong place)."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'config'}: {e['msg']}" for e in error.errors())


def connection_specification() -> dict[str, Any]:
    """JSON schema for the Airbyte spec: the pydantic schema with $defs inlined (Airbyte UIs do not follow $ref)."""
    schema = DestinationConfig.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                siblings = {k: v for k, v in node.items() if k != "$ref"}
                return {**inline(defs[node["$ref"].split("/")[-1]]), **siblings}
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    schema = inline(schema)
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    return schema
