"""The README and docs/ are the manual: their commands must parse, their files, targets and links exist, their
configs validate, and every configuration field they document is real."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re

import jsonschema
import pytest

from destination_vectors.cli import _parser
from destination_vectors.config import DestinationConfig
from testkit.manual import DOCS, TEXT, blocks, commands
from testkit.paths import ROOT

README = TEXT["README.md"]
README_MAX_LINES = 350  # the README is the front door; the reference lives in docs/
TOP_LEVEL = ("source_confluence", "destination_vectors", "unit_tests", "integration_tests", "bench", "testkit")
TOP_LEVEL += ("docker", "docs", "scripts", "examples")


def _source_spec() -> dict:
    import yaml

    manifest = yaml.safe_load((ROOT / "source_confluence" / "manifest.yaml").read_text())
    return manifest["spec"]["connection_specification"]


def _make_targets() -> list[str]:
    return re.findall(r"^([a-z-]+):", (ROOT / "Makefile").read_text(), flags=re.M)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(text: str) -> set[str]:
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", re.sub(r"```.*?```", "", text, flags=re.S), flags=re.M):
        slug, n = _slug(heading), 1
        while slug in found:  # GitHub numbers repeated headings: x, x-1, x-2
            slug, n = f"{_slug(heading)}-{n}", n + 1
        found.add(slug)
    return found


def test_readme_shows_the_twocommands():
    assert "make demo" in README and "make test" in README


def test_readme_is_a_front_door():
    lines = README.count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines: put reference material in docs/ and link it"
    for name in DOCS[1:]:
        assert f"({name})" in README or f"({name}#" in README, f"README.md does not link {name}"


@pytest.mark.parametrize("name,command", commands(), ids=lambda c: c if isinstance(c, str) else " ".join(c)[:60])
def test_every_command_names_something_real(name: str, command: list[str]):
    program, *args = command
    if program == "make":
        assert args[0] in _make_targets(), f"{name} runs `make {args[0]}` but the Makefile has no such target"
    elif program == "python" and args[0] == "-m":
        assert importlib.util.find_spec(args[1]) is not None, f"{name} runs module {args[1]} that does not exist"
    elif program == "python" and args[0] == "main.py":
        assert args[1] in {"spec", "check", "discover", "read"}, f"unknown source command {args[1]} in {name}"
        for flag, value in zip(args[2::2], args[3::2], strict=False):
            assert flag in {"--config", "--catalog"}, f"unknown source flag {flag} in {name}"
            if not value.startswith("secrets/") and value.endswith(".json") and "/" in value:
                assert (ROOT / value).exists(), f"{name} names {value}, which does not exist"
    elif program in ("python", "examples/.venv-pyairbyte/bin/python"):
        assert (ROOT / args[0]).exists(), f"{name} runs {args[0]}, which does not exist"
    elif program == "python3.11" or program.endswith("/pip"):
        assert args[:2] in (["-m", "venv"], ["install", "airbyte==0.71.3"]), f"unexpected set-up step {command}"
        if program.endswith("/pip"):
            assert "airbyte==0.71.3" in (ROOT / "testkit" / "pyairbyte_venv.py").read_text(), (
                f"{name}'s PyAirbyte pin must match the tested one"
            )
    elif program == "apt-get":  # the browser tests' system packages: the ones CI installs
        ci = (ROOT / ".ci" / "run").read_text()
        assert args[:2] == ["install", "-y"] and all(f" {package}" in ci for package in args[2:]), (
            f"{name} installs {args[2:]}, which .ci/run does not"
        )
    elif program == "destination-vectors":
        if args[0] == "write":
            assert args[1:] == ["--config", args[2], "--catalog", args[4]], "write takes --config and --catalog"
        else:
            _parser().parse_args(args)  # argparse exits (SystemExit) on an unknown flag or subcommand
    else:
        pytest.fail(f"{name} shows a command no test knows: {' '.join(command)}")


@pytest.mark.parametrize("name,block", blocks("json"), ids=lambda b: b[:30])
def test_every_config_example_validates(name: str, block: str):
    config = json.loads(block)
    clients = config.get("mcpServers") or config.get("servers")
    if clients:  # an MCP client's config: each server must be our `mcp` command with arguments that parse
        for server in clients.values():
            assert server["command"].endswith("destination-vectors"), f"MCP config in {name} runs {server['command']}"
            assert server["args"][0] == "mcp", f"MCP config arguments {server['args']} in {name}"
            _parser().parse_args(server["args"])
    elif "lancedb_uri" in config:
        DestinationConfig.model_validate(config)
    else:
        jsonschema.validate(config, _source_spec())


def test_python_example_compiles_and_uses_the_public_api():
    (example,) = [block for _, block in blocks("python", "README.md")]
    assert "Searcher.from_config" in example
    assert "from destination_vectors import" in example, "the README's example imports from the public surface"


@pytest.mark.parametrize("name,block", blocks("python"), ids=lambda b: b[:30])
def test_every_python_example_compiles_and_its_imports_exist(name: str, block: str):
    compile(block, name, "exec")
    for module, names in re.findall(r"^from (destination_vectors[\w.]*) import (.+)$", block, flags=re.M):
        loaded = importlib.import_module(module)
        for imported in (n.strip() for n in names.split(",")):
            assert hasattr(loaded, imported), f"{name} imports {imported} from {module}, which has no such name"


def _named_paths() -> list[tuple[str, str]]:
    found = []
    for name, text in TEXT.items():
        for path in re.findall(r"`([\w./-]+)`", text):
            first = path.split("/")[0]
            if "/" in path and first in TOP_LEVEL and "*" not in path:
                found.append((name, path))
    return sorted(set(found))


@pytest.mark.parametrize("name,path", _named_paths(), ids=lambda p: p)
def test_every_named_file_exists(name: str, path: str):
    assert (ROOT / path).exists(), f"{name} names `{path}`, which does not exist (moved? update the text)"


def _links() -> list[tuple[str, str]]:
    return sorted(
        {
            (name, target)
            for name, text in TEXT.items()
            for target in re.findall(r"\]\(([^)\s]+)\)", text)
            if not re.match(r"[a-z]+:", target)  # in-repo links only (not https:, mailto:)
        }
    )


@pytest.mark.parametrize("name,target", _links(), ids=lambda t: t)
def test_every_link_resolves(name: str, target: str):
    file, _, anchor = target.partition("#")
    path = (ROOT / name).parent / file if file else ROOT / name
    assert path.exists(), f"{name} links {target}: no such file"
    if anchor:
        assert anchor in _anchors(path.read_text(encoding="utf-8")), f"{name} links {target}: no such heading"


def test_every_make_target_named_in_the_text_exists():
    named = {(n, t) for n, text in TEXT.items() for t in re.findall(r"`make ([a-z-]+)`", text)}
    missing = sorted((n, t) for n, t in named if t not in _make_targets())
    assert not missing, f"make targets named but not in the Makefile: {missing}"


def _field_rows(section: str) -> list[str]:
    """The backticked field names in the first column of a docs/configuration.md section's table."""
    text = TEXT["docs/configuration.md"]
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    fields = []
    for row in re.findall(r"^\| (`[^|]+) \|", body, flags=re.M):
        names = re.findall(r"`([\w.]+)`", row)
        prefix = names[0].rsplit(".", 1)[0] if "." in names[0] else ""
        fields += [prefix + name if name.startswith(".") else name for name in names]
    assert fields, f"no field table under '## {section}' in docs/configuration.md"
    return fields


def _destination_field_exists(path: str) -> bool:
    model = DestinationConfig
    for part in path.split("."):
        field = model.model_fields.get(part)
        if field is None:
            return False
        model = field.annotation
        if not isinstance(model, type):  # Optional[...] and the like: the model inside
            inner = [a for a in getattr(model, "__args__", ()) if isinstance(a, type) and hasattr(a, "model_fields")]
            model = inner[0] if inner else model
    return True


def test_every_documented_destination_field_is_real():
    fields = _field_rows("The destination")
    unknown = [f for f in fields if not _destination_field_exists(f)]
    assert not unknown, f"docs/configuration.md documents destination fields that do not exist: {unknown}"
    undocumented = sorted(set(DestinationConfig.model_fields) - {f.split(".")[0] for f in fields})
    assert not undocumented, f"destination fields missing from docs/configuration.md: {undocumented}"


def test_every_documented_source_field_is_real():
    fields = _field_rows("The source")
    spec = _source_spec()["properties"]
    unknown = [f for f in fields if f.split(".")[0] not in spec]
    assert not unknown, f"docs/configuration.md documents source fields the spec does not have: {unknown}"
    undocumented = sorted(name for name in set(spec) - set(fields) if not spec[name].get("airbyte_hidden"))
    assert not undocumented, f"source fields missing from docs/configuration.md: {undocumented}"
