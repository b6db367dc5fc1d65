"""The on-disk cache of exported ONNX models: one folder per model content, built once, verified on every use.

Layout: `<cache root>/onnx/<model key>/` holding `model.onnx`, `model-int8.onnx`, `manifest.json` (each file's size,
mtime and sha256) and `gate-<cpu key>.json` (the quality gate's result on one kind of CPU). The model key is a hash
of the model files' content (plus the export recipe), so an edited model folder gets a new export, never a stale one.

Concurrency: one process builds at a time (a file lock beside the folder: `once`); the others wait, then find the
files. A build happens in a fresh `.tmp-*` folder that is renamed into place in one step, so should two builds ever
overlap (a filesystem without locks) the first rename wins and the other process uses the winner's files. A file
that does not match its manifest (or a folder without one) is moved aside and built again, never trusted.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger("airbyte")

# Bump when export.py changes what it writes (graph, quantization recipe): old folders are then left unused.
EXPORT_RECIPE = "2026.11.27-1"
MANIFEST = "manifest.json"
ONNX_FILES = {"onnx": "model.onnx", "onnx-int8": "model-int8.onnx"}  # backend -> its file in a cache folder
_SKIPPED = {"README.md", ".gitattributes"}


class ExportFailed(RuntimeError):
    """The one-time ONNX export did not work; the message carries the exporter's own error."""


def cache_root(configured: str | None = None) -> Path:
    """embedding.cache_dir, else $DESTINATION_VECTORS_CACHE, else $XDG_CACHE_HOME or ~/.cache /confluence-vectors."""
    if configured:
        return Path(configured).expanduser()
    if os.environ.get("DESTINATION_VECTORS_CACHE"):
        return Path(os.environ["DESTINATION_VECTORS_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path("~/.cache").expanduser()
    return Path(base) / "confluence-vectors"


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_key(folder: Path, root: Path) -> str:
    """Hash of every model file's name and content, remembered per (path, size, mtime) so a start does not re-read
    90 MB of weights: an edited file has a new size or mtime and is hashed again."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name not in _SKIPPED and ".cache" not in p.parts)
    memo_file = root / "onnx" / "keys.json"
    stamp = hashlib.sha256(
        "\n".join(f"{p}\t{p.stat().st_size}\t{p.stat().st_mtime_ns}" for p in files).encode()
    ).hexdigest()
    memo = read_json(memo_file)
    if stamp in memo:
        return memo[stamp]
    digest = hashlib.sha256(EXPORT_RECIPE.encode())
    for path in files:
        digest.update(f"{path.relative_to(folder).as_posix()}\0{file_digest(path)}\0".encode())
    key = digest.hexdigest()[:24]
    memo[stamp] = key
    write_json_atomic(memo_file, memo)
    return key


def verified(folder: Path, name: str) -> bool:
    """True when `name` matches the manifest: same size and mtime (cheap), or else the same sha256 (full read)."""
    entry = read_json(folder / MANIFEST).get("files", {}).get(name)
    path = folder / name
    if not entry or not path.is_file():
        return False
    stat = path.stat()
    if stat.st_size == entry["size"] and stat.st_mtime_ns == entry["mtime_ns"]:
        return True
    return stat.st_size == entry["size"] and file_digest(path) == entry["sha256"]


def write_manifest(folder: Path, names: list[str], extra: dict) -> None:
    files = {}
    for name in names:
        stat = (folder / name).stat()
        files[name] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": file_digest(folder / name)}
    write_json_atomic(folder / MANIFEST, {**extra, "files": files})


EXPORTER = "destination_vectors.embedding.export"


def ensure_export(model_folder: Path, root: Path, needed: list[str], exporter: str = EXPORTER) -> Path:
    """The cache folder for this model with every file in `needed` present and verified; exported if not.

    `exporter` is the module run as `python -m <exporter> MODEL_FOLDER OUT_FOLDER` (tests give a fake one)."""
    folder = root / "onnx" / model_key(model_folder, root)
    if all(verified(folder, name) for name in needed):
        return folder
    with once(folder.with_name(f".{folder.name}.export.lock"), f"exporting {model_folder} to ONNX"):
        if all(verified(folder, name) for name in needed):  # built by the process we waited for
            return folder
        return _export(model_folder, folder, needed, exporter)


@contextmanager
def once(lock_path: Path, what: str) -> Iterator[None]:
    """Holds an exclusive file lock for one-time work (an export, the quality gate): two syncs, or test workers,
    starting at once on a new machine do it once, not twice on the same cores. The waiter says why it waits."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.info(f"another process is {what}; waiting for it to finish")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _export(model_folder: Path, folder: Path, needed: list[str], exporter: str) -> Path:
    if folder.exists():
        logger.warning(f"the ONNX cache in {folder} is incomplete or does not match its manifest: building it again")
    logger.info(f"exporting {model_folder} to ONNX once (needs torch, about a minute); cached in {folder}")
    staging = folder.parent / f".tmp-{uuid.uuid4().hex}"
    try:
        run_module(exporter, str(model_folder), str(staging))
        _install(staging, folder, needed)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def _install(staging: Path, folder: Path, needed: list[str]) -> None:
    """Rename the fresh build into place; a valid folder another process put there first wins, a bad one goes."""
    try:
        os.rename(staging, folder)
        return
    except OSError:
        pass  # the folder exists: another exporter finished first, or it holds a bad cache
    if all(verified(folder, name) for name in needed):
        return
    trash = folder.parent / f".trash-{uuid.uuid4().hex}"
    try:
        os.rename(folder, trash)
    except FileNotFoundError:
        pass
    try:
        os.rename(staging, folder)
    except OSError:
        if not all(verified(folder, name) for name in needed):  # a third process raced us with a bad folder
            raise ExportFailed(f"could not install the ONNX export into {folder}") from None
    shutil.rmtree(trash, ignore_errors=True)


def run_module(module: str, *args: str) -> None:
    """Runs a torch-needing step in a child process: the caller never imports torch, and its memory is given back."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    result = subprocess.run(
        [sys.executable, "-m", module, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
    )
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-15:])
        raise ExportFailed(f"{module} failed (exit code {result.returncode}):\n{tail}")


def main(argv: list[str] | None = None) -> int:
    """`python -m destination_vectors.embedding.cache [MODEL]`: export ahead of time (image builds, first runs)."""
    import argparse

    from destination_vectors.embedding.model import DEFAULT_MODEL, resolve_model

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("model", nargs="?", default=DEFAULT_MODEL)
    parser.add_argument("--cache-dir", default=None)
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    folder = ensure_export(resolve_model(options.model).path, cache_root(options.cache_dir), list(ONNX_FILES.values()))
    print(folder)
    return 0


def read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def write_json_atomic(path: Path, value: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    temporary.write_text(json.dumps(value, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)


if __name__ == "__main__":
    sys.exit(main())
