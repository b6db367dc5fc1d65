"""The PyAirbyte venv (`examples/.venv-pyairbyte`): PyAirbyte pins dependencies that clash with the project's
(duckdb 1.4 against 2.0, among others), so it lives in a venv of its own (~600 MB, from PyPI, built by uv in seconds;
see testkit/venvs.py)."""

from __future__ import annotations

from testkit.paths import ROOT
from testkit.venvs import PinnedVenv

REQUIREMENT = "airbyte==0.71.3"
VENV = PinnedVenv(ROOT / "examples" / ".venv-pyairbyte", REQUIREMENT)
SKIP_ENV = "CONFLUENCE_VECTORS_SKIP_PYAIRBYTE"
