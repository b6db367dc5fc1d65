"""One source: `python main.py` and Airbyte's manifest-only routes run the same connector, against the stand-in.

Three ways Airbyte runs `manifest.yaml` + `components.py`, each compared with `python main.py`:
- the CDK's `source-declarative-manifest` entry point with `--manifest-path`/`--components-path` (how a manifest-only
  connector runs outside an image): check (success, bad token, unknown space, not Confluence), a timeout, a read;
- the image layout (what docker/source-confluence/Dockerfile copies, placed where it copies it, next to what
  airbyte/source-declarative-manifest provides): spec, check, read. The base image's `main.py` runs a copy of the
  CDK's `_run.py`, taking the bundled-manifest route when `/airbyte/integration_code/source_declarative_manifest/
  manifest.yaml` exists; that absolute path cannot be made here, so the driver calls the route's own function;
- the Connector Builder's route (marked slow): in a venv holding airbyte-cdk alone, the manifest and the components
  code are injected into the config with their checksum and `AIRBYTE_ENABLE_UNSAFE_CODE=true`, as the platform does.
None of the manifest-only runs can import this project: PYTHONPATH is dropped, and the layout driver asserts it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import airbyte_cdk
import pytest
import yaml

from testkit.confluence_stand_in import Faults, StandIn, load_site
from testkit.venvs import PinnedVenv, VenvBuildError
from unit_tests.test_packaging import SOURCE_DOCKERFILE, dockerfile_copies

REPO_ROOT = Path(__file__).resolve().parent.parent
MANIFEST = REPO_ROOT / "source_confluence" / "manifest.yaml"
COMPONENTS = REPO_ROOT / "source_confluence" / "components.py"
SAMPLE_SITE = Path(__file__).parent / "sample_site"
CATALOG = Path(__file__).parent / "configured_catalog.json"
SDM_CLI = Path(sys.executable).parent / "source-declarative-manifest"
CDK_ONLY_VENV = Path(__file__).parent / ".venv-cdk-only"
FAILED_STREAMS = "During the sync, the following streams did not sync successfully: "
CREDENTIALS = {"auth_type": "basic", "username": "demo@example.com", "api_token": "demo-api-token"}
DRIVER = """import sys
from source_declarative_manifest.run import handle_local_manifest_command
handle_local_manifest_command(sys.argv[1:])
# The connector is the layout's two files: nothing of this project may have been imported.
assert "source_confluence" not in sys.modules, "the layout imported the project package"
"""


@dataclass
class Run:
    """One connector command: exit code, the protocol messages on stdout, and stderr's tail for failure messages."""

    route: str
    returncode: int
    messages: list[dict[str, Any]]
    stderr: str

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    def status(self) -> tuple[str, str]:
        """(status, sentence): a FAILED status's message, or the logged "Connected to ..." on success."""
        statuses = self.of_type("CONNECTION_STATUS")
        assert statuses, f"{self.route}: no CONNECTION_STATUS\n{self.tail()}"
        status = statuses[-1]["connectionStatus"]
        connected = [line for line in self.logs() if line.startswith("Connected to ")]
        return status["status"], status.get("message") or (connected[-1] if connected else "")

    def logs(self) -> list[str]:
        return [m["log"]["message"] for m in self.of_type("LOG")]

    def records(self) -> list[tuple[str, str]]:
        """(stream, data as canonical JSON), sorted: what a destination receives, without emitted_at."""
        return sorted(
            (m["record"]["stream"], json.dumps(m["record"]["data"], sort_keys=True)) for m in self.of_type("RECORD")
        )

    def errors(self) -> list[tuple[str, str]]:
        """(failure type, one stream's error), sorted: the CDK's closing "streams did not sync" message lists the
        failed streams in the order their threads failed, which differs from run to run."""
        found = set()
        for message in self.of_type("TRACE"):
            if message["trace"].get("type") == "ERROR":
                error = message["trace"]["error"]
                text = error["message"].removeprefix(FAILED_STREAMS)
                found.update((error.get("failure_type"), line) for line in text.split("\n"))
        return sorted(found)

    def summary(self) -> str:
        """The end-of-sync summary with what may differ between two runs masked: its duration, and the number of
        access requests, which depends on worker timing (13 and 14 seen for the same site and config)."""
        lines = [line for line in self.logs() if line.startswith(("Sync summary:", "Sync FAILED after"))]
        assert len(lines) == 1, f"{self.route}: expected one summary line, got {lines}\n{self.tail()}"
        masked = re.sub(r" in [0-9.]+ s;", " in <t> s;", lines[0])
        return re.sub(r"access read in \d+ requests?", "access read in <n> requests", masked)

    def tail(self) -> str:
        return "\n".join(json.dumps(m)[:400] for m in self.messages[-8:]) + "\n" + self.stderr[-2000:]


def _project_free_env(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    return {**env, **extra}


def _execute(route: str, argv: list[str], cwd: Path, env: dict[str, str]) -> Run:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    messages = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return Run(route, done.returncode, messages, done.stderr)


def _inputs(tmp: Path, config: dict[str, Any], name: str) -> list[str]:
    path = tmp / f"{name}-{uuid.uuid4().hex[:8]}.json"  # unique: runs in parallel must not share a file
    path.write_text(json.dumps(config))
    return ["--config", str(path)]


def run_main_py(command: str, tmp: Path, config: dict[str, Any] | None = None) -> Run:
    args = [command] + (_inputs(tmp, config, "main-config") if config is not None else [])
    args += ["--catalog", str(CATALOG)] if command == "read" else []
    return _execute("main.py", [sys.executable, str(REPO_ROOT / "main.py"), *args], REPO_ROOT, {**os.environ})


def run_sdm_cli(command: str, tmp: Path, config: dict[str, Any]) -> Run:
    """The CDK's own entry point, given the manifest and components.py as files (custom code must be allowed)."""
    args = [
        command,
        *_inputs(tmp, config, "sdm-config"),
        "--manifest-path",
        str(MANIFEST),
        "--components-path",
        str(COMPONENTS),
    ]
    args += ["--catalog", str(CATALOG)] if command == "read" else []
    env = _project_free_env(AIRBYTE_ENABLE_UNSAFE_CODE="true")
    return _execute("source-declarative-manifest", [str(SDM_CLI), *args], tmp, env)


def in_parallel(*commands: Callable[[], Run]) -> list[Run]:
    """Connector commands two at a time (each thread only waits on its subprocess), results in the given order."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda command: command(), commands))


def run_both(command: str, tmp: Path, config: dict[str, Any]) -> tuple[Run, Run]:
    """main.py and the CDK's entry point, side by side."""
    main, sdm = in_parallel(lambda: run_main_py(command, tmp, config), lambda: run_sdm_cli(command, tmp, config))
    return main, sdm


def cloud_config(url: str, **overrides: Any) -> dict[str, Any]:
    return {
        "base_url": url,
        "deployment": "cloud",
        "credentials": CREDENTIALS,
        "min_retry_seconds": 0.01,
        "max_retry_seconds": 0.05,
        **overrides,
    }


@pytest.fixture(scope="module")
def stand_in() -> Iterator[StandIn]:
    with StandIn(load_site(SAMPLE_SITE)) as server:
        yield server


class _NotConfluence(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = b"<html><body>Welcome to the intranet</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def not_confluence() -> Iterator[str]:
    """A loopback web server that answers every path with an HTML page, as an intranet portal would."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotConfluence)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


CHECK_CASES = {
    "success": ({}, "SUCCEEDED", "Connected to Confluence Cloud"),
    "bad token": ({"credentials": {**CREDENTIALS, "api_token": "wrong-token"}}, "FAILED", "HTTP 401"),
    "unknown space": ({"space_keys": ["ENG", "NOPE"]}, "FAILED", "Space key(s) NOPE do not exist"),
    "not Confluence": ({"base_url": None}, "FAILED", "does not look like Confluence"),
}


@pytest.mark.parametrize("case", CHECK_CASES)
def test_check_gives_the_same_sentence_from_main_py_and_the_cdk_entry_point(
    case: str, stand_in: StandIn, not_confluence: str, tmp_path: Path
) -> None:
    overrides, expected_status, expected_words = CHECK_CASES[case]
    config = cloud_config(stand_in.url, **overrides)
    config["base_url"] = config["base_url"] or not_confluence
    main, sdm = run_both("check", tmp_path, config)
    for run in (main, sdm):
        assert run.returncode == 0, f"{case}: {run.route} check crashed\n{run.tail()}"
        status, message = run.status()
        assert status == expected_status and expected_words in message, f"{case}: {run.route} said {status}: {message}"
    assert main.status() == sdm.status(), f"{case}: the two routes disagree: {main.status()} vs {sdm.status()}"


def test_request_timeout_is_honoured_the_same_way(tmp_path: Path) -> None:
    """Every answer takes 1.5 s and `request_timeout_seconds` is 0.5: both routes time out (a 60 s default would
    wait and succeed), check names the timeout, and read fails with the same error."""
    with StandIn(load_site(SAMPLE_SITE), faults=Faults(latency_ms=1500)) as server:
        config = cloud_config(server.url, request_timeout_seconds=0.5, max_retries=1)
        checks = run_both("check", tmp_path, config)
        reads = run_both("read", tmp_path, config)
    for run in checks:
        assert run.status()[0] == "FAILED" and "Timeout" in run.status()[1], f"{run.route}: {run.status()}"
    assert checks[0].status() == checks[1].status(), f"check differs: {checks[0].status()} vs {checks[1].status()}"
    for run in reads:
        assert run.returncode != 0 and run.errors() and not run.records(), f"{run.route} did not fail\n{run.tail()}"
        assert any("ReadTimeout" in line for line in run.logs()), f"{run.route}: no ReadTimeout retry logged"
        assert run.summary().startswith("Sync FAILED after 0 pages"), run.summary()
    assert reads[0].errors() == reads[1].errors(), f"read errors differ:\n{reads[0].errors()}\n{reads[1].errors()}"


def test_full_read_is_the_same_from_main_py_and_the_cdk_entry_point(stand_in: StandIn, tmp_path: Path) -> None:
    config = cloud_config(stand_in.url, internal_space_keys=["HR"])
    main, sdm = run_both("read", tmp_path, config)
    site = load_site(SAMPLE_SITE)
    for run in (main, sdm):
        assert run.returncode == 0 and not run.errors(), f"{run.route} read failed\n{run.tail()}"
        pages = {json.loads(data)["id"] for stream, data in run.records() if stream == "pages"}
        assert pages == {page.id for page in site.all_pages()}, f"{run.route}: pages differ from the sample site"
    assert main.records() == sdm.records(), "the two routes emitted different records"
    assert main.summary() == sdm.summary(), f"summaries differ:\n{main.summary()}\n{sdm.summary()}"


# ---------------------------------------------------------------------------------------------------- image layout
def build_image_layout(root: Path) -> Path:
    """/airbyte/integration_code of the image under `root`: the base image's part, then the Dockerfile's COPYs."""
    code = root / "integration_code"
    sdm = code / "source_declarative_manifest"
    sdm.mkdir(parents=True)
    cdk_sdm = Path(airbyte_cdk.__file__).parent / "cli" / "source_declarative_manifest"
    (sdm / "__init__.py").touch()
    shutil.copy(cdk_sdm / "_run.py", sdm / "run.py")
    shutil.copy(cdk_sdm / "spec.json", sdm / "spec.json")
    (code / "main_local.py").write_text(DRIVER)
    for copy in dockerfile_copies(SOURCE_DOCKERFILE):
        (source,) = copy.sources
        target = code / copy.destination
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / source, target)
    return code


def run_in_layout(code: Path, *args: str) -> Run:
    """One command in the layout as the image's entrypoint runs it (the script's directory on sys.path)."""
    return _execute("image layout", [sys.executable, "main_local.py", *args], code, _project_free_env())


def test_image_layout_serves_what_main_py_serves(stand_in: StandIn, tmp_path: Path) -> None:
    code = build_image_layout(tmp_path / "airbyte")
    config = cloud_config(stand_in.url)
    config_args = _inputs(tmp_path, config, "layout-config")
    spec, main_spec, check, main_check, read, main_read = in_parallel(
        lambda: run_in_layout(code, "spec"),
        lambda: run_main_py("spec", tmp_path),
        lambda: run_in_layout(code, "check", *config_args),
        lambda: run_main_py("check", tmp_path, config),
        lambda: run_in_layout(code, "read", *config_args, "--catalog", str(CATALOG)),
        lambda: run_main_py("read", tmp_path, config),
    )
    assert spec.of_type("SPEC") and spec.of_type("SPEC") == main_spec.of_type("SPEC"), f"spec differs\n{spec.tail()}"
    assert check.returncode == 0 and check.status() == main_check.status(), check.tail()
    assert read.returncode == 0 and not read.errors(), f"layout read failed\n{read.tail()}"
    assert read.records() == main_read.records(), "the image layout emitted other records than main.py"
    assert read.summary() == main_read.summary(), f"summaries differ: {read.summary()} vs {main_read.summary()}"


# --------------------------------------------------------------------------------------------- the Builder's route
def cdk_only_python() -> Path:
    """A venv with airbyte-cdk alone (not this project), built once and reused while its stamp names the pin."""
    requirement = f"airbyte-cdk=={yaml.safe_load(MANIFEST.read_text())['version']}"
    try:
        return PinnedVenv(CDK_ONLY_VENV, requirement).build()
    except VenvBuildError as error:
        pytest.fail(str(error))


def builder_config(config: dict[str, Any]) -> dict[str, Any]:
    """The config as the platform hands it to a Builder connector: manifest and code injected, code checksummed."""
    code = COMPONENTS.read_text()
    return {
        **config,
        "__injected_declarative_manifest": yaml.safe_load(MANIFEST.read_text()),
        "__injected_components_py": code,
        "__injected_components_py_checksums": {"md5": hashlib.md5(code.encode()).hexdigest()},
    }


@pytest.mark.slow
def test_builder_route_in_a_venv_with_airbyte_cdk_alone(stand_in: StandIn, tmp_path: Path) -> None:
    python = cdk_only_python()
    entry = [str(python.parent / "source-declarative-manifest")]
    env = _project_free_env(AIRBYTE_ENABLE_UNSAFE_CODE="true")
    probe = subprocess.run([str(python), "-c", "import source_confluence"], capture_output=True, env=env, cwd=tmp_path)
    assert probe.returncode != 0, f"{CDK_ONLY_VENV} can import this project: the route would not be proven"

    def builder(command: str, config: dict[str, Any]) -> Run:
        args = [command, *_inputs(tmp_path, builder_config(config), f"builder-{command}")]
        args += ["--catalog", str(CATALOG)] if command == "read" else []
        return _execute("builder", entry + args, tmp_path, env)

    good, bad = cloud_config(stand_in.url), cloud_config(stand_in.url, space_keys=["NOPE"])
    generic, main_spec_run, *checks, read, main_read = in_parallel(
        lambda: _execute("builder", [*entry, "spec"], tmp_path, env),
        lambda: run_main_py("spec", tmp_path),
        lambda: builder("check", good),
        lambda: run_main_py("check", tmp_path, good),
        lambda: builder("check", bad),
        lambda: run_main_py("check", tmp_path, bad),
        lambda: builder("read", good),
        lambda: run_main_py("read", tmp_path, good),
    )
    # spec: the generic source-declarative-manifest spec (the platform shows the manifest's own spec, below).
    spec_properties = generic.of_type("SPEC")[0]["spec"]["connectionSpecification"]["properties"]
    assert "__injected_declarative_manifest" in spec_properties, f"not the generic spec\n{generic.tail()}"
    manifest_spec = yaml.safe_load(MANIFEST.read_text())["spec"]["connection_specification"]
    main_spec = main_spec_run.of_type("SPEC")[0]["spec"]["connectionSpecification"]
    assert manifest_spec == main_spec, "main.py's spec is not the manifest's spec the platform shows"
    for builder_check, main_check in (checks[0:2], checks[2:4]):
        assert builder_check.status() == main_check.status(), f"{builder_check.status()} vs {main_check.status()}"
    assert checks[2].status()[0] == "FAILED" and "NOPE" in checks[2].status()[1], checks[2].status()
    assert read.returncode == 0 and not read.errors(), f"Builder route read failed\n{read.tail()}"
    assert read.records() == main_read.records(), "the Builder route emitted other records than main.py"
    assert read.summary() == main_read.summary(), f"summaries differ: {read.summary()} vs {main_read.summary()}"
