"""The source image's file layout, run without Docker: what docker/source-confluence/Dockerfile copies, placed where
it copies it, next to what airbyte/source-declarative-manifest provides, read from the stand-in.

The base image's `main.py` runs `source_declarative_manifest/run.py`, a copy of the CDK's
`airbyte_cdk/cli/source_declarative_manifest/_run.py`; it takes the bundled-manifest route when
`/airbyte/integration_code/source_declarative_manifest/manifest.yaml` exists. That absolute path cannot be made
here, so the driver calls the route's own function (`handle_local_manifest_command`). The CDK is the project's,
the same version as the image tag (unit_tests/test_packaging.py checks that).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import airbyte_cdk

from testkit.confluence_stand_in import StandIn, load_site
from unit_tests.test_packaging import SOURCE_DOCKERFILE, dockerfile_copies

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_SITE = Path(__file__).parent / "sample_site"
CATALOG = Path(__file__).parent / "configured_catalog.json"
DRIVER = """import sys
from source_declarative_manifest.run import handle_local_manifest_command
handle_local_manifest_command(sys.argv[1:])
# The connector is the layout's two files: nothing of this project may have been imported.
assert "source_confluence" not in sys.modules, "the layout imported the project package"
"""


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
        target = code / copy.destination
        if copy.destination.endswith("/"):
            target.mkdir(parents=True, exist_ok=True)
            for source in copy.sources:
                shutil.copy(REPO_ROOT / source, target / Path(source).name)
        else:
            (source,) = copy.sources
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(REPO_ROOT / source, target)
    return code


def run_in_layout(code: Path, *args: str) -> list[dict[str, Any]]:
    """Run one Airbyte command in the layout as the image's entrypoint would (the script's directory on sys.path)."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}  # the layout alone
    done = subprocess.run(
        [sys.executable, "main_local.py", *args], cwd=code, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{args[0]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def test_image_layout_serves_spec_check_and_reads_every_page(tmp_path: Path) -> None:
    code = build_image_layout(tmp_path / "airbyte")
    spec = [m for m in run_in_layout(code, "spec") if m["type"] == "SPEC"]
    assert spec and "base_url" in spec[0]["spec"]["connectionSpecification"]["properties"]

    site = load_site(SAMPLE_SITE)
    with StandIn(site) as server:
        config = tmp_path / "config.json"
        config.write_text(json.dumps({
            "base_url": server.url, "deployment": "cloud",
            "credentials": {"auth_type": "basic", "username": "demo@example.com", "api_token": "demo-api-token"},
        }))  # fmt: skip
        check = [m for m in run_in_layout(code, "check", "--config", str(config)) if m["type"] == "CONNECTION_STATUS"]
        messages = run_in_layout(code, "read", "--config", str(config), "--catalog", str(CATALOG))

    assert check and check[0]["connectionStatus"]["status"] == "SUCCEEDED"
    errors = [m for m in messages if m["type"] == "TRACE" and m["trace"].get("type") == "ERROR"]
    assert not errors, errors
    pages = [m["record"]["data"] for m in messages if m["type"] == "RECORD" and m["record"]["stream"] == "pages"]
    assert sorted(page["id"] for page in pages) == sorted(page.id for page in site.all_pages())
