"""The ONNX export cache: built once, reused, rebuilt when a file does not match its manifest, safe under races.

The exporter is testkit.fake_onnx_export (same command line and files as the real one, no torch); the real export
is covered by integration_tests/test_embedding_backends.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from destination_vectors.embedding.cache import MANIFEST, ensure_export, model_key, verified

FAKE = "testkit.fake_onnx_export"
FILES = ["model.onnx", "model-int8.onnx"]
ROOT = Path(__file__).resolve().parents[3]


def _model(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "config.json").write_text('{"hidden_size": 8}')
    (folder / "1_Pooling" / "config.json").write_text('{"word_embedding_dimension": 8}')
    return folder


def _exports(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def _env(monkeypatch, log: Path) -> None:
    monkeypatch.setenv("FAKE_EXPORT_LOG", str(log))
    monkeypatch.setenv("FAKE_EXPORT_SLEEP", "0")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))


def test_second_run_reuses_the_cache(tmp_path, monkeypatch):
    model, root, log = _model(tmp_path), tmp_path / "cache", tmp_path / "exports.log"
    _env(monkeypatch, log)
    first = ensure_export(model, root, FILES, exporter=FAKE)
    second = ensure_export(model, root, FILES, exporter=FAKE)
    assert first == second and all(verified(first, name) for name in FILES)
    assert _exports(log) == 1, f"the second run must reuse the cache, but the exporter ran {_exports(log)} times"


def test_model_key_follows_the_model_files_content(tmp_path):
    model, root = _model(tmp_path), tmp_path / "cache"
    before = model_key(model, root)
    assert model_key(model, root) == before, "the same files must give the same key"
    (model / "config.json").write_text('{"hidden_size": 16}')
    assert model_key(model, root) != before, "an edited model file must get a new export, never a stale one"


def test_corrupt_cache_file_is_rebuilt_not_trusted(tmp_path, monkeypatch):
    model, root, log = _model(tmp_path), tmp_path / "cache", tmp_path / "exports.log"
    _env(monkeypatch, log)
    folder = ensure_export(model, root, FILES, exporter=FAKE)
    good = (folder / "model.onnx").read_bytes()
    with (folder / "model.onnx").open("r+b") as handle:  # same size, flipped bytes, new mtime
        handle.seek(100)
        handle.write(b"\xff" * 16)
    assert not verified(folder, "model.onnx"), "a file that differs from its manifest must not be trusted"
    again = ensure_export(model, root, FILES, exporter=FAKE)
    assert again == folder and (folder / "model.onnx").read_bytes() == good, "the corrupt file must be rebuilt"
    assert _exports(log) == 2

    (folder / MANIFEST).write_text("{not json")
    ensure_export(model, root, FILES, exporter=FAKE)
    assert _exports(log) == 3, "an unreadable manifest must cause a rebuild"
    assert json.loads((folder / MANIFEST).read_text())["files"].keys() == set(FILES)


def test_truncated_file_is_rebuilt(tmp_path, monkeypatch):
    model, root, log = _model(tmp_path), tmp_path / "cache", tmp_path / "exports.log"
    _env(monkeypatch, log)
    folder = ensure_export(model, root, FILES, exporter=FAKE)
    with (folder / "model-int8.onnx").open("r+b") as handle:
        handle.truncate(10)
    ensure_export(model, root, FILES, exporter=FAKE)
    assert all(verified(folder, name) for name in FILES) and _exports(log) == 2


def test_processes_starting_at_once_export_once_and_share_it(tmp_path):
    model, root, log = _model(tmp_path), tmp_path / "cache", tmp_path / "exports.log"
    script = (
        "import sys; from pathlib import Path; from destination_vectors.embedding.cache import ensure_export; "
        f"print(ensure_export(Path(sys.argv[1]), Path(sys.argv[2]), {FILES!r}, exporter={FAKE!r}))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FAKE_EXPORT_LOG": str(log), "FAKE_EXPORT_SLEEP": "1"}
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(model), str(root)], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    outputs = [run.communicate(timeout=300)[0].strip() for run in runs]
    assert all(run.returncode == 0 for run in runs), f"an exporter failed: {[r.returncode for r in runs]}"
    assert len(set(outputs)) == 1, f"every process must end up with the same folder: {outputs}"
    folder = Path(outputs[0])
    assert all(verified(folder, name) for name in FILES), "the installed folder must match its manifest"
    assert _exports(log) == 1, (
        f"{_exports(log)} exports for 3 processes starting at once: the others must wait for the first and reuse it"
    )
    leftovers = [p.name for p in folder.parent.iterdir() if p.name.startswith((".tmp-", ".trash-"))]
    assert not leftovers, f"temporary folders left behind: {leftovers}"
