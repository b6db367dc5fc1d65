"""One virtual environment per peer under bench/.venv-<name>, built on first use from pinned versions.

Peers pin dependencies that clash with the project's (airbyte-cdk 0.80 needs Python 3.10; LangChain pulls its own
stack), so each gets its own interpreter; a marker file records the requirements so a changed pin rebuilds it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1]
PYENV_310 = Path("/root/.pyenv/versions/3.10.13/bin/python")


@dataclass(frozen=True)
class PeerEnv:
    """A peer's venv: its name, the interpreter to build it with, and the exact requirements."""

    name: str
    base_python: str
    requirements: tuple[str, ...]

    @property
    def path(self) -> Path:
        return BENCH / f".venv-{self.name}"

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def ensure(self) -> PeerEnv:
        """Create the venv and pip install the pins unless the marker says it is already built with them."""
        marker = self.path / "bench-requirements.txt"
        wanted = "\n".join(self.requirements) + "\n"
        if marker.exists() and marker.read_text() == wanted and self.python.exists():
            return self
        if self.path.exists():
            shutil.rmtree(self.path)
        print(f"building {self.path} ({', '.join(self.requirements)}) ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        subprocess.run([self.base_python, "-m", "venv", str(self.path)], check=True)
        subprocess.run([str(self.python), "-m", "pip", "install", "-q", *self.requirements], check=True)
        marker.write_text(wanted)
        print(f"built {self.path} in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        return self

    def version_of(self, distribution: str) -> str:
        """The installed version of `distribution` in this venv (for RESULTS.md)."""
        out = subprocess.run(
            [str(self.python), "-c", f"import importlib.metadata as m; print(m.version({distribution!r}))"],
            capture_output=True,
            text=True,
        )
        return out.stdout.strip() or "?"


AIRBYTE = PeerEnv(
    "airbyte", str(PYENV_310 if PYENV_310.exists() else "python3.10"), ("airbyte-source-confluence==0.2.16",)
)
PYENV_311 = Path("/root/.pyenv/versions/3.11.7/bin/python")
LANGCHAIN = PeerEnv(
    "langchain",
    str(PYENV_311 if PYENV_311.exists() else sys.executable),
    ("langchain-community==0.4.2", "atlassian-python-api==4.0.7", "lxml==6.1.3"),
)
