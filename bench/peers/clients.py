"""How each peer is launched against a stand-in, and how its pages are counted from its stdout."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from bench.peers.venvs import AIRBYTE, LANGCHAIN
from bench.timed_runs import CREDENTIALS, RunResult, timed_read, timed_subprocess
from testkit.confluence_stand_in import StandIn
from testkit.confluence_stand_in.tls import make_self_signed_cert

HERE = Path(__file__).resolve().parent
AIRBYTE_CATALOG = {
    "streams": [
        {
            "stream": {"name": "pages", "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
            "sync_mode": "full_refresh",
            "destination_sync_mode": "overwrite",
        }
    ]
}


def airbyte_tls_cert() -> tuple[str, str]:
    """A stand-in certificate that the Airbyte peer trusts: appended once to certifi's bundle in its own venv.

    airbyte-cdk 0.80 sends through `Session.send`, which skips requests' environment settings, so
    REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE are ignored and certifi's bundle is the only trust store it reads.
    """
    directory = AIRBYTE.path / "stand-in-tls"
    cert, key = directory / "stand-in.crt", directory / "stand-in.key"
    if not cert.exists() or not key.exists():
        cert, key = make_self_signed_cert(directory)
    pem = cert.read_text()
    bundle = Path(next((AIRBYTE.path / "lib").glob("python3*/site-packages/certifi/cacert.pem")))
    if pem not in bundle.read_text():
        with bundle.open("a") as handle:
            handle.write("\n# confluence stand-in (bench/peers)\n" + pem)
    return str(cert), str(key)


def run_airbyte(server: StandIn, workdir: Path, expected: int, timeout: float = 900.0) -> RunResult:
    """Airbyte's published source-confluence 0.2.16: v1 /wiki/rest/api over HTTPS, 25 pages per request."""
    if not server.url.startswith("https://"):
        raise ValueError("the Airbyte peer builds https://{domain_name}/wiki/rest/api/: serve the stand-in with TLS")
    config = {
        "domain_name": server.url.removeprefix("https://"),
        "email": CREDENTIALS["username"],
        "api_token": CREDENTIALS["api_token"],
    }
    launcher = [str(AIRBYTE.path / "bin" / "source-confluence")]
    label = "Airbyte source-confluence 0.2.16 (v1, HTTPS)"
    return timed_read(
        server,
        workdir,
        label,
        expected,
        launcher,
        config,
        AIRBYTE_CATALOG,
        env=_peer_env(),
        cwd=workdir,
        timeout=timeout,
    )


def run_langchain(server: StandIn, workdir: Path, expected: int, timeout: float = 900.0) -> RunResult:
    """LangChain ConfluenceLoader (langchain-community 0.4.2, atlassian-python-api 4.0.7), one loader per space."""
    command = [
        str(LANGCHAIN.python),
        str(HERE / "langchain_runner.py"),
        f"{server.url}/wiki",
        CREDENTIALS["username"],
        CREDENTIALS["api_token"],
    ]
    env = _peer_env()
    if server.url.startswith("https://"):
        env["REQUESTS_CA_BUNDLE"] = airbyte_tls_cert()[0]
    result = RunResult(f"LangChain ConfluenceLoader 0.4.2 (v1, {server.url.split(':')[0].upper()})", expected)
    return timed_subprocess(
        server,
        result,
        command,
        _lines_as_ids,
        env=env,
        cwd=workdir,
        stderr_path=workdir / "langchain.stderr",
        timeout=timeout,
    )


def _lines_as_ids(lines: Iterable[bytes]) -> Iterator[str]:
    for line in lines:
        if line.strip():
            yield line.strip().decode()


def _peer_env() -> dict[str, str]:
    """The environment minus PYTHONPATH: a peer must import its own `source_confluence`, never this project's."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
