"""Venvs that hold one pinned requirement and not this project: the Connector Builder's route (airbyte-cdk alone) and
PyAirbyte (whose pins clash with the project's). Each is built on first use and reused while its stamp names the pin.

uv builds them: resolving and installing airbyte-cdk took pip 85 s of CPU-bound work here, uv 3 s (PyAirbyte: 88 s
and 8 s), from a cold cache both times. pip is the fallback when uv cannot be run or fails.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

INSTALL_TIMEOUT_SECONDS = 1200


class VenvBuildError(RuntimeError):
    """A step of the build failed; the message names the step and ends with the installer's own words."""


@dataclass(frozen=True)
class PinnedVenv:
    path: Path
    requirement: str  # one pip requirement, e.g. "airbyte-cdk==7.39.1"

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def stamp(self) -> Path:
        return self.path / ".installed"

    def is_current(self) -> bool:
        return self.stamp.exists() and self.stamp.read_text().strip() == self.requirement and self.python.exists()

    def build(self) -> Path:
        """The venv's interpreter, building the venv first when it is not current. A file lock keeps two builders
        (pytest-xdist workers, two test sessions) from building over each other: the second waits, then finds the
        venv current."""
        if self.is_current():
            return self.python
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.parent / f"{self.path.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not self.is_current():
                self._build()
        return self.python

    def _build(self) -> None:
        uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
        failure = ""
        if uv is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            venv = [uv, "venv", "--quiet", "--python", sys.executable, str(self.path)]
            install = [uv, "pip", "install", "--quiet", "--python", str(self.python), self.requirement]
            failure = _first_failure([venv, install])
        if uv is None or failure:
            shutil.rmtree(self.path, ignore_errors=True)
            venv = [sys.executable, "-m", "venv", str(self.path)]
            # --no-compile: only what is imported gets compiled, on first use
            install = [str(self.python), "-m", "pip", "install", "--quiet", "--no-compile", self.requirement]
            if pip_failure := _first_failure([venv, install]):
                raise VenvBuildError(f"Could not build {self.path} for {self.requirement}. {failure}{pip_failure}")
        self.stamp.write_text(self.requirement + "\n")


def _first_failure(steps: list[list[str]]) -> str:
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SECONDS)
        if done.returncode != 0:
            return f"`{' '.join(step)}` exited {done.returncode}:\n{done.stderr[-3000:]}\n"
    return ""
