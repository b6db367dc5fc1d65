"""Where the shared test inputs live in the clone."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_SITE = ROOT / "integration_tests" / "sample_site"
