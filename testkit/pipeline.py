"""Run the real commands the way users do: `python main.py read ... | python -m destination_vectors write ...`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from testkit.paths import ROOT

PAGES_CATALOG = ROOT / "integration_tests" / "pages_catalog.json"  # the pages stream, overwrite
SPACES_AND_PAGES_CATALOG = ROOT / "integration_tests" / "configured_catalog.json"  # the space listing too, overwrite


def write_json(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value, indent=2))
    return path


def source_config(url: str, **extra: object) -> dict:
    return {
        "base_url": url,
        "deployment": "cloud",
        "credentials": {"auth_type": "basic", "username": "demo@example.com", "api_token": "demo-api-token"},
        **extra,
    }


def sync(
    workdir: Path,
    source: dict,
    destination: dict,
    env: dict | None = None,
    timeout: float = 600,
    catalog: Path = PAGES_CATALOG,
    write_args: Sequence[str] = (),
) -> tuple[subprocess.CompletedProcess, list[dict]]:
    """Pipes a real source read into a real destination write; returns the write's result and its messages.
    `write_args` go after the write's --config and --catalog (e.g. --allow-mass-deletion RUN_ID)."""
    source_path = write_json(workdir / "source.json", source)
    destination_path = write_json(workdir / "destination.json", destination)
    reader = subprocess.Popen(
        [sys.executable, "main.py", "read", "--config", str(source_path), "--catalog", str(catalog)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        writer = subprocess.run(
            [
                sys.executable,
                "-m",
                "destination_vectors",
                "write",
                "--config",
                str(destination_path),
                "--catalog",
                str(catalog),
                *write_args,
            ],
            cwd=ROOT,
            stdin=reader.stdout,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )
    finally:
        reader.stdout.close()
        reader.wait(timeout=60)
    messages = [json.loads(line) for line in writer.stdout.splitlines() if line.startswith("{")]
    return writer, messages


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "destination_vectors", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
