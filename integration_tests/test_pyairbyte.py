"""examples/pyairbyte_read.py under real PyAirbyte, against the stand-in: every page lands in the DuckDB cache.

PyAirbyte runs from a venv of its own (`testkit/pyairbyte_venv.py`: its pins clash with the project's), built on
first use. The source itself runs from the project venv, as the example does. Set CONFLUENCE_VECTORS_SKIP_PYAIRBYTE=1 to skip (no network to PyPI); otherwise a venv
that cannot be built fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from testkit import pyairbyte_venv
from testkit.confluence_stand_in import StandIn, load_site
from testkit.venvs import VenvBuildError

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = REPO_ROOT / "examples" / "pyairbyte_read.py"
SAMPLE_SITE = Path(__file__).parent / "sample_site"
SKIP_ENV = pyairbyte_venv.SKIP_ENV
RUN_TIMEOUT_SECONDS = 300


def pyairbyte_python() -> Path:
    """The PyAirbyte venv's interpreter, built when it is not current; a failed build fails the test."""
    try:
        return pyairbyte_venv.VENV.build()
    except VenvBuildError as error:
        pytest.fail(str(error))


def source_executable(tmp_path: Path) -> Path:
    """The project venv's `source-confluence` script, or, when the project is not pip-installed, the same entry
    point through main.py with the project's interpreter (what the console script runs)."""
    script = Path(sys.executable).parent / "source-confluence"
    if script.exists():
        return script
    shim = tmp_path / "source-confluence"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{REPO_ROOT / "main.py"}" "$@"\n')
    shim.chmod(0o755)
    return shim


def cached_page_ids(python: Path, cache_path: Path) -> list[str]:
    """The `pages` ids as stored in the DuckDB file, read with PyAirbyte's duckdb (the file's writer)."""
    query = (
        "import duckdb, json, sys\n"
        "connection = duckdb.connect(sys.argv[1], read_only=True)\n"
        "print(json.dumps([row[0] for row in connection.sql('select id from main.pages').fetchall()]))\n"
    )
    done = subprocess.run([str(python), "-c", query, str(cache_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.slow
def test_example_reads_every_page_into_the_default_cache(tmp_path: Path) -> None:
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{SKIP_ENV}=1: PyAirbyte venv not built")
    python = pyairbyte_python()
    site = load_site(SAMPLE_SITE)
    env = {
        **os.environ,
        "AIRBYTE_OFFLINE_MODE": "1",  # no registry lookup, no telemetry
        "DO_NOT_TRACK": "1",
        "AIRBYTE_LOGGING_ROOT": str(tmp_path / "logs"),
    }
    with StandIn(site) as server:
        site_url = server.url
        done = subprocess.run(
            [str(python), str(EXAMPLE), "--base-url", site_url, "--executable", str(source_executable(tmp_path))],
            cwd=tmp_path,  # the default cache lives under ./.cache
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_SECONDS,
        )
    assert done.returncode == 0, f"example failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    summary = json.loads(done.stdout.strip().splitlines()[-1])

    page_count = len(site.all_pages())
    assert summary["pages_read"] == page_count
    assert summary["pages_in_cache"] == page_count
    cache_path = Path(summary["cache_path"])
    assert cache_path == tmp_path / ".cache" / "default_cache" / "default_cache.duckdb"
    assert sorted(cached_page_ids(python, cache_path)) == sorted(page.id for page in site.all_pages())
    titles = {page.title for page in site.all_pages()}
    assert summary["titles"] and all(shown["title"] in titles for shown in summary["titles"])
    assert all(shown["webui_url"].startswith(site_url + "/wiki/spaces/") for shown in summary["titles"])
