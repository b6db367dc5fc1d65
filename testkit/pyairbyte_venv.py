"""The PyAirbyte venv (`examples/.venv-pyairbyte`): PyAirbyte pins dependencies that clash with the project's
(duckdb 1.4 against 2.0, among others), so it lives in a venv of its own, created on first use (about 2 minutes,
~800 MB, from PyPI) and reused while its stamp names the pinned version.

The build mostly waits on the network and the disk, so the test session starts it in a background thread as soon as
the PyAirbyte test is collected (conftest.py) and the test waits for it: the other tests run meanwhile.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from testkit.paths import ROOT

VENV = ROOT / "examples" / ".venv-pyairbyte"
REQUIREMENT = "airbyte==0.71.3"
STAMP = VENV / ".installed"
SKIP_ENV = "CONFLUENCE_VECTORS_SKIP_PYAIRBYTE"
INSTALL_TIMEOUT_SECONDS = 1200


class VenvBuildError(RuntimeError):
    """A step of the build failed; the message names the step and ends with pip's own words."""


def python() -> Path:
    return VENV / "bin" / "python"


def is_current() -> bool:
    return STAMP.exists() and STAMP.read_text().strip() == REQUIREMENT and python().exists()


def build() -> Path:
    """The venv's interpreter, building the venv when its stamp does not name the pinned version. A file lock keeps
    two builders (pytest-xdist workers, or two test sessions) from building over each other: the second waits, then
    finds the venv current."""
    if is_current():
        return python()
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(VENV.parent / ".venv-pyairbyte.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not is_current():
            _build()
    return python()


def _build() -> None:
    shutil.rmtree(VENV, ignore_errors=True)
    _run([sys.executable, "-m", "venv", str(VENV)], timeout=120)
    _run([str(python()), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], timeout=INSTALL_TIMEOUT_SECONDS)
    # --no-compile: only what the example imports gets compiled, on first use
    _run(
        [str(python()), "-m", "pip", "install", "--quiet", "--no-compile", REQUIREMENT], timeout=INSTALL_TIMEOUT_SECONDS
    )
    STAMP.write_text(REQUIREMENT + "\n")


def _run(command: list[str], timeout: float) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise VenvBuildError(
            f"Could not set up the PyAirbyte venv at {VENV} ({' '.join(command)} exited {done.returncode}); it needs "
            f"PyPI. Set {SKIP_ENV}=1 to skip this test.\n{done.stderr[-3000:]}"
        )


class BackgroundBuild:
    """`build()` in a daemon thread, started once; `result()` waits for it and returns the interpreter or raises."""

    _lock = threading.Lock()
    _thread: threading.Thread | None = None
    _outcome: Path | BaseException | None = None

    @classmethod
    def start(cls) -> None:
        with cls._lock:
            if cls._thread is None:
                cls._thread = threading.Thread(target=cls._work, name="pyairbyte-venv", daemon=True)
                cls._thread.start()

    @classmethod
    def _work(cls) -> None:
        try:
            cls._outcome = build()
        except BaseException as error:  # handed to the test that waits, which reports it
            cls._outcome = error

    @classmethod
    def result(cls, timeout: float = 2 * INSTALL_TIMEOUT_SECONDS + 120) -> Path:
        cls.start()
        assert cls._thread is not None
        cls._thread.join(timeout)
        if cls._thread.is_alive():
            raise VenvBuildError(f"the PyAirbyte venv build did not finish within {timeout:.0f} s")
        if isinstance(cls._outcome, BaseException):
            raise cls._outcome
        assert cls._outcome is not None
        return cls._outcome
