"""What can be checked about the connector images without a Docker engine: Dockerfiles, metadata.yaml, pins.

The images are not built in CI here, so these checks keep the files from drifting from the repository: every COPY
source exists, the source image is the manifest plus one self-contained components.py, base images and pins agree
with metadata.yaml and pyproject.toml, and both metadata.yaml files have the fields Airbyte's registry requires.
"""

from __future__ import annotations

import ast
import re
import shlex
import sys
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
SOURCE_DOCKERFILE = REPO_ROOT / "docker" / "source-confluence" / "Dockerfile"
DESTINATION_DOCKERFILE = REPO_ROOT / "docker" / "destination-vectors" / "Dockerfile"
SOURCE_METADATA = REPO_ROOT / "metadata.yaml"
DESTINATION_METADATA = REPO_ROOT / "docker" / "destination-vectors" / "metadata.yaml"
IMAGES = [(SOURCE_DOCKERFILE, SOURCE_METADATA), (DESTINATION_DOCKERFILE, DESTINATION_METADATA)]

# Values Airbyte's connector metadata schema accepts (ConnectorMetadataDefinitionV0).
CONNECTOR_SUBTYPES = {"api", "database", "datalake", "file", "custom", "message_queue", "unknown", "vectorstore"}
RELEASE_STAGES = {"alpha", "beta", "generally_available", "custom"}
SUPPORT_LEVELS = {"community", "certified", "archived"}
REQUIRED_FIELDS = (
    "name", "definitionId", "connectorType", "dockerRepository", "dockerImageTag", "license",
    "documentationUrl", "githubIssueLabel", "connectorSubtype", "releaseStage", "supportLevel", "tags",
)  # fmt: skip


@dataclass(frozen=True)
class Copy:
    """One `COPY src... dest` of a Dockerfile (sources relative to the build context, the repository root)."""

    sources: tuple[str, ...]
    destination: str


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    assert not pending, f"{path}: dangling line continuation"
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def dockerfile_copies(path: Path) -> list[Copy]:
    """The COPY instructions that take files from the build context (not `--from=` another stage)."""
    copies = []
    for instruction, arguments in dockerfile_instructions(path):
        if instruction != "COPY":
            continue
        words = shlex.split(arguments)
        if any(word.startswith("--from") for word in words):
            continue
        paths = [word for word in words if not word.startswith("--")]
        copies.append(Copy(sources=tuple(paths[:-1]), destination=paths[-1]))
    return copies


def dockerfile_from(path: Path) -> str:
    froms = [arguments.split()[0] for instruction, arguments in dockerfile_instructions(path) if instruction == "FROM"]
    assert len(froms) == 1, f"{path}: expected one FROM, got {froms}"
    return froms[0]


def metadata(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())["data"]


def pyproject() -> dict[str, Any]:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


def pinned_version(package: str) -> str:
    """The `==` pin of a dependency in pyproject.toml."""
    for requirement in pyproject()["project"]["dependencies"]:
        match = re.fullmatch(rf"{re.escape(package)}(\[[^\]]*\])?==(\S+)", requirement.strip())
        if match:
            return match.group(2)
    raise AssertionError(f"{package} is not pinned with == in pyproject.toml")


@pytest.mark.parametrize("dockerfile", [SOURCE_DOCKERFILE, DESTINATION_DOCKERFILE], ids=lambda p: p.parent.name)
def test_every_copy_source_exists_in_the_repository(dockerfile: Path) -> None:
    copies = dockerfile_copies(dockerfile)
    assert copies, f"{dockerfile}: no COPY from the build context"
    for copy in copies:
        for source in copy.sources:
            assert (REPO_ROOT / source).exists(), f"{dockerfile}: COPY source {source} is not in the repository"


@pytest.mark.parametrize("dockerfile", [SOURCE_DOCKERFILE, DESTINATION_DOCKERFILE], ids=lambda p: p.parent.name)
def test_dockerfile_says_it_is_not_built_here_and_sets_airbyte_entrypoint(dockerfile: Path) -> None:
    header = dockerfile.read_text().split("FROM", 1)[0]
    assert "NOT built" in header, f"{dockerfile}: the header must say the image is not built by CI"
    instructions = dockerfile_instructions(dockerfile)
    env = " ".join(arguments for instruction, arguments in instructions if instruction == "ENV")
    assert "AIRBYTE_ENTRYPOINT=" in env, f"{dockerfile}: Airbyte reads AIRBYTE_ENTRYPOINT"
    assert any(instruction == "ENTRYPOINT" for instruction, _ in instructions)


def test_source_image_is_the_manifest_and_one_self_contained_components_py() -> None:
    """Manifest-only: the manifest names its classes `source_declarative_manifest.components.<Class>`, the one
    components.py is copied beside it, and it imports nothing the source-declarative-manifest image lacks."""
    destinations = {
        source: copy.destination for copy in dockerfile_copies(SOURCE_DOCKERFILE) for source in copy.sources
    }
    assert destinations == {
        "source_confluence/manifest.yaml": "./source_declarative_manifest/manifest.yaml",
        "source_confluence/components.py": "./source_declarative_manifest/components.py",
    }, f"the source image must carry exactly the manifest and components.py: {destinations}"
    manifest_text = (REPO_ROOT / "source_confluence" / "manifest.yaml").read_text()
    class_names = re.findall(r"class_name:\s*(\S+)", manifest_text)
    assert class_names, "expected custom components in the manifest"
    wrong = [name for name in class_names if name.rsplit(".", 1)[0] != "source_declarative_manifest.components"]
    assert not wrong, f"class names outside source_declarative_manifest.components: {wrong}"
    tree = ast.parse((REPO_ROOT / "source_confluence" / "components.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    image_has = set(sys.stdlib_module_names) | {"airbyte_cdk", "requests"}
    foreign = sorted(name for name in imported if name.split(".")[0] not in image_has)
    assert not foreign, f"components.py imports what the manifest-only image does not have: {foreign}"
    defined = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    missing = sorted({name.rsplit(".", 1)[1] for name in class_names} - defined)
    assert not missing, f"the manifest names classes components.py does not define: {missing}"


@pytest.mark.parametrize("metadata_path", [SOURCE_METADATA, DESTINATION_METADATA], ids=["source", "destination"])
def test_metadata_has_the_fields_airbyte_requires(metadata_path: Path) -> None:
    document = yaml.safe_load(metadata_path.read_text())
    assert document.get("metadataSpecVersion") == "1.0"
    data = document["data"]
    missing = [name for name in REQUIRED_FIELDS if name not in data]
    assert not missing, f"{metadata_path}: missing {missing}"
    assert uuid.UUID(data["definitionId"]).version == 4
    assert data["connectorType"] in {"source", "destination"}
    assert data["dockerRepository"].startswith(f"airbyte/{data['connectorType']}-")
    assert re.fullmatch(r"\d+\.\d+\.\d+", data["dockerImageTag"])
    assert data["connectorSubtype"] in CONNECTOR_SUBTYPES
    assert data["releaseStage"] in RELEASE_STAGES
    assert data["supportLevel"] in SUPPORT_LEVELS
    assert data["license"] == pyproject()["project"]["license"], "metadata.yaml and pyproject disagree on the license"
    assert isinstance(data["tags"], list) and any(tag.startswith("language:") for tag in data["tags"])
    assert data["connectorBuildOptions"]["baseImage"]


def test_source_and_destination_metadata_describe_two_connectors() -> None:
    source, destination = metadata(SOURCE_METADATA), metadata(DESTINATION_METADATA)
    assert (source["connectorType"], destination["connectorType"]) == ("source", "destination")
    assert source["definitionId"] != destination["definitionId"]
    assert destination["dockerRepository"] == "airbyte/destination-confluence-vectors"
    assert (destination["releaseStage"], destination["supportLevel"]) == ("alpha", "community")


@pytest.mark.parametrize(("dockerfile", "metadata_path"), IMAGES, ids=["source", "destination"])
def test_base_image_in_metadata_is_the_dockerfile_from(dockerfile: Path, metadata_path: Path) -> None:
    assert metadata(metadata_path)["connectorBuildOptions"]["baseImage"] == dockerfile_from(dockerfile)


def test_source_base_image_is_the_cdk_the_manifest_is_written_for() -> None:
    """source-declarative-manifest is released with every airbyte-cdk version under the same number."""
    tag = dockerfile_from(SOURCE_DOCKERFILE).rsplit(":", 1)[1]
    manifest_version = yaml.safe_load((REPO_ROOT / "source_confluence" / "manifest.yaml").read_text())["version"]
    assert tag == pinned_version("airbyte-cdk") == manifest_version


def test_destination_image_pins_match_the_project() -> None:
    instructions = dockerfile_instructions(DESTINATION_DOCKERFILE)
    runs = " ".join(arguments for instruction, arguments in instructions if instruction == "RUN")
    assert f"torch=={pinned_version('torch')}" in runs
    assert "download.pytorch.org/whl/cpu" in runs
    entrypoint = next(arguments for instruction, arguments in instructions if instruction == "ENTRYPOINT")
    assert entrypoint == '["destination-vectors"]'
    assert "destination-vectors" in pyproject()["project"]["scripts"]
