"""The manual (README.md and docs/*.md) as data for the tests that keep it true: its files, fenced blocks and the
commands in its `bash` blocks. unit_tests/test_readme.py checks that they name real things;
integration_tests/test_documented_commands.py runs the `destination-vectors` ones against a real index."""

from __future__ import annotations

import re
import shlex

from testkit.paths import ROOT

DOCS = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
TEXT = {name: (ROOT / name).read_text(encoding="utf-8") for name in DOCS}


def blocks(language: str, name: str | None = None) -> list[tuple[str, str]]:
    """(file, block) for every fenced block of that language, in one file or all of them."""
    names = [name] if name else DOCS
    return [(n, block) for n in names for block in re.findall(rf"```{language}\n(.*?)```", TEXT[n], flags=re.S)]


def commands() -> list[tuple[str, list[str]]]:
    """(file, argv) for every command of every `bash` block; pipes and && split, comments dropped."""
    found = []
    for name, block in blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("  #", 1)[0].strip()
            for part in re.split(r"\|(?!\|)|&&", line):
                if part.strip():
                    found.append((name, shlex.split(part.replace('"$TOKEN"', "token"))))
    return found
