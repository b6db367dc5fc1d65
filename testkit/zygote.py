"""A pre-started interpreter that forks the suite's `python main.py ...` and `python -m destination_vectors ...` runs.

Most of such a run's CPU is importing airbyte-cdk and its dependencies (about 3 s of a source run's 3.2 s, and of a
destination run's 6-9 s): the suite runs about a hundred of them. The zygote imports those third-party packages once,
then forks one child per run. The child is a real process of its own: its own pid, working directory, environment,
stdin/stdout/stderr files, exit status, signals (a SIGKILL kills it alone) and resource usage. It imports this project's
code itself, after its environment is set, and runs the command's `__main__` as the interpreter would, atexit
handlers included. What it skips is the interpreter's start and the third-party imports.

Not forked, but started as fresh interpreters (testkit.processes decides): runs whose environment changes what is read
at import time (thread counts, PYTHON* variables), runs that measure memory, and every run when
CONFLUENCE_VECTORS_FRESH_PROCESSES=1. The zygote refuses to serve (and the suite falls back to fresh interpreters) when
its imports left more than one thread running, since a fork copies only the calling thread.

    python -m testkit.zygote    # serves requests, one JSON line each on stdin, one reply line each on stdout
"""

from __future__ import annotations

import atexit
import importlib
import io
import json
import os
import runpy
import select
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

# Only packages whose import starts no thread: numpy (OpenBLAS), pyarrow, LanceDB (its Rust runtime) and ONNX Runtime
# each start one, and a forked child would inherit their locks without their threads. The destination imports those
# itself; airbyte-cdk, the larger share, is here.
PRELOAD = (
    "airbyte_cdk",
    "airbyte_cdk.entrypoint",
    "airbyte_cdk.sources.declarative.yaml_declarative_source",
    "airbyte_cdk.sources.declarative.concurrent_declarative_source",
    "airbyte_cdk.destinations",
    "requests",
    "yaml",
    "pydantic",
    "bs4",
)
DISABLE_ENV = "CONFLUENCE_VECTORS_FRESH_PROCESSES"


# -- the server ---------------------------------------------------------------------------------------------------
def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


def serve() -> None:
    requests_fd, replies = sys.stdin.fileno(), sys.stdout
    for module in PRELOAD:
        importlib.import_module(module)
    threads = _threads()
    if threads != 1:
        replies.write(json.dumps({"ready": False, "why": f"{threads} threads after the imports"}) + "\n")
        replies.flush()
        return
    replies.write(json.dumps({"ready": True}) + "\n")
    replies.flush()
    results: dict[int, str] = {}
    pending = b""
    while True:
        readable, _, _ = select.select([requests_fd], [], [], 0.02 if results else None)
        if readable:
            data = os.read(requests_fd, 65536)
            if not data:
                return  # the client is gone; running children finish on their own
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                request = json.loads(line)
                pid = os.fork()
                if pid == 0:
                    _child(request)  # never returns
                results[pid] = request["result"]
                replies.write(json.dumps({"pid": pid}) + "\n")
                replies.flush()
        while results:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
            if pid == 0:
                break
            outcome = {
                "returncode": os.waitstatus_to_exitcode(status),
                "peak_rss_bytes": usage.ru_maxrss * 1024,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
            }
            path = Path(results.pop(pid))
            path.with_suffix(".tmp").write_text(json.dumps(outcome))
            path.with_suffix(".tmp").rename(path)


def _child(request: dict[str, Any]) -> None:
    code = 70
    try:
        for fd, path, flags in (
            (0, request["stdin"], os.O_RDONLY),
            (1, request["stdout"], os.O_WRONLY | os.O_TRUNC),
            (2, request["stderr"], os.O_WRONLY | os.O_TRUNC),
        ):
            opened = os.open(path, flags)
            os.dup2(opened, fd)
            os.close(opened)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        unbuffered = bool(os.environ.get("PYTHONUNBUFFERED"))
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8", errors="surrogateescape")
        sys.stdout = io.TextIOWrapper(
            io.FileIO(1, "w", closefd=False) if unbuffered else io.BufferedWriter(io.FileIO(1, "w", closefd=False)),
            encoding="utf-8",
            errors="surrogateescape",
            write_through=unbuffered,
        )
        sys.stderr = io.TextIOWrapper(
            io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace", write_through=True
        )
        sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr
        argv: list[str] = request["argv"]
        code = 0
        try:
            if argv[0] == "-m":
                sys.argv = [argv[1], *argv[2:]]
                sys.path[0] = os.getcwd()
                runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
            else:
                sys.argv = list(argv)
                sys.path[0] = str(Path(argv[0]).resolve().parent)
                runpy.run_path(argv[0], run_name="__main__")
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
            if done.code is not None and not isinstance(done.code, int):
                print(done.code, file=sys.stderr)
        except BaseException:
            sys.excepthook(*sys.exc_info())  # what the interpreter does with an uncaught exception (the CDK sets it)
            code = 1
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                code = code or 120
    finally:
        os._exit(code)


# -- the client -----------------------------------------------------------------------------------------------------
class Zygote:
    """One per test process, started on first use; `None` from `shared()` when it cannot serve."""

    _lock = threading.Lock()
    _shared: Zygote | None = None
    _failed = False

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "testkit.zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=cwd,
        )
        self.exchange = threading.Lock()
        ready = json.loads(self.process.stdout.readline() or b'{"ready": false, "why": "it exited"}')
        if not ready["ready"]:
            self.process.kill()
            raise RuntimeError(f"the zygote cannot serve: {ready['why']}")
        atexit.register(self.close)

    @classmethod
    def shared(cls, env: dict[str, str], cwd: Path) -> Zygote | None:
        if os.environ.get(DISABLE_ENV) == "1":
            return None
        with cls._lock:
            if cls._shared is None and not cls._failed:
                try:
                    cls._shared = Zygote(env, cwd)
                except (RuntimeError, OSError, ValueError):
                    cls._failed = True
            return cls._shared

    def start(self, request: dict[str, Any]) -> int:
        with self.exchange:
            assert self.process.stdin is not None and self.process.stdout is not None
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
            reply = self.process.stdout.readline()
        if not reply:
            raise RuntimeError("the zygote exited")
        return int(json.loads(reply)["pid"])

    @staticmethod
    def wait(result: Path, deadline: float) -> dict[str, Any] | None:
        """The child's outcome, or None at the deadline (monotonic)."""
        while not result.exists():
            if time.monotonic() > deadline:
                return None
            time.sleep(0.01)
        return json.loads(result.read_text())

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            self.process.wait(timeout=30)


if __name__ == "__main__":
    serve()
