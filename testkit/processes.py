"""Bounded subprocesses for tests: each run has a hard timeout (it is SIGKILLed and the test fails naming the command),
writes its stdout/stderr to files under the test's tmp dir (so secret scans see them), and reports its peak RSS from
`os.wait4`.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from testkit.paths import ROOT
from testkit.zygote import Zygote

STREAM = "pages"


@dataclass
class Run:
    """One finished subprocess: exit code, output, wall time and peak resident set size."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_bytes: int
    _messages: list[dict[str, Any]] | None = field(default=None, repr=False)

    @property
    def killed_by(self) -> int | None:
        return -self.returncode if self.returncode < 0 else None

    def messages(self) -> list[dict[str, Any]]:
        """The Airbyte messages on stdout (lines that are not JSON objects are ignored)."""
        if self._messages is None:
            parsed = []
            for line in self.stdout.splitlines():
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if isinstance(message, dict) and "type" in message:
                    parsed.append(message)
            self._messages = parsed
        return self._messages

    def records(self, stream: str = STREAM) -> list[dict[str, Any]]:
        return [
            m["record"]["data"]
            for m in self.messages()
            if m["type"] == "RECORD" and m["record"].get("stream") == stream
        ]

    def error_traces(self) -> list[dict[str, Any]]:
        return [
            m["trace"]["error"] for m in self.messages() if m["type"] == "TRACE" and m["trace"].get("type") == "ERROR"
        ]

    def states(self) -> list[dict[str, Any]]:
        return [m["state"] for m in self.messages() if m["type"] == "STATE"]

    def logs(self) -> list[str]:
        return [m["log"]["message"] for m in self.messages() if m["type"] == "LOG"]

    def connection_status(self) -> dict[str, Any] | None:
        return next((m["connectionStatus"] for m in self.messages() if m["type"] == "CONNECTION_STATUS"), None)

    def tail(self, chars: int = 3000) -> str:
        """The end of stderr and stdout, for assertion messages."""
        return f"exit {self.returncode}; stderr: ...{self.stderr[-chars:]}\nstdout: ...{self.stdout[-chars:]}"


def run_process(
    args: Sequence[str],
    workdir: Path,
    *,
    timeout: float,
    stdin_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
    name: str | None = None,
    fresh: bool = False,
) -> Run:
    """Runs `args` to completion (SIGKILL after `timeout` s, then fails the test) and measures its peak RSS.

    The project's own commands are forked from a pre-started interpreter (testkit/zygote.py) unless `fresh` is set
    (a run that measures memory, or that must start a new interpreter) or their environment changes what is read at
    import time."""
    workdir.mkdir(parents=True, exist_ok=True)
    label = name or re.sub(r"[^A-Za-z0-9]+", "-", " ".join(Path(a).name for a in args[1:4]))[:60]
    out_path, err_path = unique_file(workdir, label, ".stdout"), unique_file(workdir, label, ".stderr")
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **(env or {})}
    started = time.monotonic()
    zygote = None if fresh or not _forkable(args, env or {}) else Zygote.shared(_zygote_env(), ROOT)
    if zygote is not None:
        result = unique_file(workdir, label, ".result")
        result.unlink()
        pid = zygote.start(
            {
                "argv": list(args[1:]),
                "cwd": str(cwd),
                "env": environment,
                "stdin": str(stdin_path or os.devnull),
                "stdout": str(out_path),
                "stderr": str(err_path),
                "result": str(result),
            }
        )
        outcome = zygote.wait(result, started + timeout)
        timed_out = outcome is None
        if outcome is None:
            os.kill(pid, signal.SIGKILL)
            outcome = zygote.wait(result, time.monotonic() + 60) or {"returncode": -9, "peak_rss_bytes": 0}
        returncode, peak = int(outcome["returncode"]), int(outcome["peak_rss_bytes"])
    else:
        returncode, peak, timed_out = _popen(args, stdin_path, out_path, err_path, cwd, environment, timeout)
    run = Run(
        list(args),
        returncode,
        out_path.read_text("utf-8", "replace"),
        err_path.read_text("utf-8", "replace"),
        time.monotonic() - started,
        peak,
    )
    if timed_out:
        raise AssertionError(f"{' '.join(args)} did not finish within {timeout:.0f} s and was killed\n{run.tail()}")
    return run


# Variables read when the interpreter starts or a library loads (thread pools), which a forked child cannot change.
_IMPORT_TIME_ENV = re.compile(r"^(PYTHON(?!PATH$|UNBUFFERED$)|OMP_|MKL_|OPENBLAS_|RAYON_|TOKENIZERS_|LD_|MALLOC_)")


def _forkable(args: Sequence[str], env: Mapping[str, str]) -> bool:
    """The project's commands that import airbyte-cdk anyway (every source command; the destination's Airbyte
    commands): importing it configures logging (its JSON LOG lines on stdout), so a child of the zygote behaves as a
    fresh process only where the command would have imported it too. `search`, `history`, `mcp` and the rest start
    fresh."""
    from destination_vectors.cli import AIRBYTE_COMMANDS

    command = list(args[1:4])
    source = command[:1] == [str(ROOT / "main.py")]
    destination = command[:2] == ["-m", "destination_vectors"] and command[2:] and command[2] in AIRBYTE_COMMANDS
    return args[0] == sys.executable and bool(source or destination) and not any(_IMPORT_TIME_ENV.match(k) for k in env)


def _zygote_env() -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    return {**environment, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


def _popen(
    args: Sequence[str],
    stdin_path: Path | None,
    out_path: Path,
    err_path: Path,
    cwd: Path,
    environment: Mapping[str, str],
    timeout: float,
) -> tuple[int, int, bool]:
    """A fresh interpreter: (exit code, peak RSS in bytes, timed out)."""
    with (
        open(out_path, "wb") as out,
        open(err_path, "wb") as err,
        open(stdin_path, "rb") if stdin_path else open(os.devnull, "rb") as stdin,
    ):
        process = subprocess.Popen(list(args), stdin=stdin, stdout=out, stderr=err, cwd=cwd, env=dict(environment))
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            os.kill(process.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_maxrss * 1024, timed_out.is_set()


def unique_file(folder: Path, label: str, suffix: str) -> Path:
    """A new, empty file `<label>.<n><suffix>`, claimed atomically (runs in parallel threads never share one)."""
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(10_000):
        path = folder / f"{label}.{index}{suffix}"
        try:
            with open(path, "x"):
                return path
        except FileExistsError:
            continue
    raise RuntimeError(f"too many runs in {folder}")


def write_json(path: Path, value: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value), encoding="utf-8")
    return path
