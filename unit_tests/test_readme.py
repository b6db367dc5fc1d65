"""The README is the manual: its commands must parse, its files and targets exist, its configs validate."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
from pathlib import Path

import jsonschema
import pytest

from destination_vectors.cli import _parser
from destination_vectors.config import DestinationConfig

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def _commands() -> list[list[str]]:
    commands = []
    for block in _blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("  #", 1)[0].strip()
            for part in re.split(r"\|(?!\|)|&&", line):
                if part.strip():
                    commands.append(shlex.split(part.replace('"$TOKEN"', "token")))
    return commands


def _source_spec() -> dict:
    import yaml

    manifest = yaml.safe_load((ROOT / "source_confluence" / "manifest.yaml").read_text())
    return manifest["spec"]["connection_specification"]


def test_readme_shows_the_two_commands():
    assert "make demo" in README and "make test" in README


@pytest.mark.parametrize("command", _commands(), ids=lambda c: " ".join(c)[:60])
def test_every_command_names_something_real(command: list[str]):
    program, *args = command
    if program == "make":
        targets = re.findall(r"^([a-z-]+):", (ROOT / "Makefile").read_text(), flags=re.M)
        assert args[0] in targets, f"README runs `make {args[0]}` but the Makefile has no such target"
    elif program == "python" and args[0] == "-m":
        assert importlib.util.find_spec(args[1]) is not None, f"README runs module {args[1]} that does not exist"
    elif program == "python" and args[0] == "main.py":
        assert args[1] in {"spec", "check", "discover", "read"}, f"unknown source command {args[1]}"
        for flag, value in zip(args[2::2], args[3::2], strict=False):
            assert flag in {"--config", "--catalog"}, f"unknown source flag {flag}"
            if not value.startswith("secrets/") and value.endswith(".json") and "/" in value:
                assert (ROOT / value).exists(), f"README names {value}, which does not exist"
    elif program in ("python", "examples/.venv-pyairbyte/bin/python"):
        assert (ROOT / args[0]).exists(), f"README runs {args[0]}, which does not exist"
    elif program == "python3.11" or program.endswith("/pip"):
        assert args[:2] in (["-m", "venv"], ["install", "airbyte==0.71.3"]), f"unexpected set-up step {command}"
        if program.endswith("/pip"):
            assert "airbyte==0.71.3" in (ROOT / "testkit" / "pyairbyte_venv.py").read_text(), (
                "README's PyAirbyte pin must match the tested one"
            )
    elif program == "destination-vectors":
        if args[0] == "write":
            assert args[1:] == ["--config", args[2], "--catalog", args[4]], "write takes --config and --catalog"
        else:
            _parser().parse_args(args)  # argparse exits (SystemExit) on an unknown flag or subcommand
    else:
        pytest.fail(f"README shows a command no test knows: {' '.join(command)}")


@pytest.mark.parametrize("block", _blocks("json"), ids=lambda b: b[:30])
def test_every_config_example_validates(block: str):
    config = json.loads(block)
    clients = config.get("mcpServers") or config.get("servers")
    if clients:  # an MCP client's config: each server must be our `mcp` command with arguments that parse
        for server in clients.values():
            assert server["command"].endswith("destination-vectors"), f"MCP config runs {server['command']}"
            assert server["args"][0] == "mcp", f"MCP config arguments {server['args']}"
            _parser().parse_args(server["args"])
    elif "lancedb_uri" in config:
        DestinationConfig.model_validate(config)
    else:
        jsonschema.validate(config, _source_spec())


def test_python_example_compiles_and_uses_the_public_api():
    (example,) = _blocks("python")
    compile(example, "README.md", "exec")
    assert "Searcher.from_config" in example
