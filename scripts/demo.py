"""`make demo`: a local Confluence stand-in -> the source -> the destination -> answers with links.

Everything runs on loopback with the sample site in integration_tests/sample_site. The index and ledger stay in
demo-data/, so a second run shows that unchanged pages are not embedded again.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "demo-data"
PYTHON = sys.executable
QUESTIONS = [
    "How do I roll back a bad deploy?",
    "How do I connect to the VPN from home?",
    "How many vacation days do employees get?",
    "What must I do after a rollback so customers stop seeing old assets?",  # answered by a comment
    "What is the VPN gateway hostname?",  # answered by an attached PDF
]
STATE = DATA / "state.json"  # the destination's released STATEs: the next run downloads only changed attachments


def main() -> int:
    DATA.mkdir(exist_ok=True)
    stand_in = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "testkit.confluence_stand_in",
            "--site",
            "integration_tests/sample_site",
            "--port",
            str(_preferred_port()),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        ready = json.loads(stand_in.stdout.readline() or "{}")
        if "url" not in ready:
            print("the Confluence stand-in did not start", file=sys.stderr)
            return 1
        print(f"==> Confluence stand-in with the sample site at {ready['url']}", flush=True)
        source_config, destination_config, catalog = _write_configs(ready["url"])
        if not _sync(source_config, destination_config, catalog):
            return 1
        _answer(destination_config)
        print(f"\n==> index:  {DATA / 'lancedb'} (LanceDB table confluence_chunks)")
        print(f"==> ledger: {DATA / 'lancedb' / 'confluence_chunks.ledger.duckdb'}")
        print(f"    try: .venv/bin/destination-vectors history --config {destination_config.relative_to(ROOT)}")
        print(
            f"         .venv/bin/destination-vectors search --config {destination_config.relative_to(ROOT)} "
            '"who is on call this week?"'
        )
        print(  # the public search above cannot see Salary Bands; Alice's groups (from memberships) can
            f"         .venv/bin/destination-vectors search --config {destination_config.relative_to(ROOT)} "
            '--as-email alice.martin@example.com "salary bands"'
        )
        print("\n==> the web page over this index (search, what was synced, sync health), read-only on this machine:")
        print(f"    .venv/bin/destination-vectors web --config {destination_config.relative_to(ROOT)}")
        print("    then open http://127.0.0.1:8080/ (Ctrl+C stops it; --port picks another port)")
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted; the previous index (if any) is intact", file=sys.stderr)
        return 130
    finally:
        stand_in.terminate()
        stand_in.wait(timeout=10)


def _preferred_port(port: int = 8090) -> int:
    """The same port each run when it is free, so page links (and so the index rows) stay the same between runs."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return 0
    return port


def _write_configs(url: str) -> tuple[Path, Path, Path]:
    source = DATA / "source_config.json"
    source.write_text(
        json.dumps(
            {
                "base_url": url,
                "deployment": "cloud",
                "credentials": {"auth_type": "basic", "username": "demo@example.com", "api_token": "demo-api-token"},
                "include_blog_posts": True,
                "include_comments": True,
                "include_attachments": True,
                "read_labels": True,
            },
            indent=2,
        )
    )
    destination = DATA / "destination_config.json"
    destination.write_text(json.dumps({"lancedb_uri": str(DATA / "lancedb")}, indent=2))
    catalog = ROOT / "integration_tests" / "all_streams_catalog.json"
    return source, destination, catalog


def _sync(source_config: Path, destination_config: Path, catalog: Path) -> bool:
    print("==> python main.py read ... | destination-vectors write ...", flush=True)
    state = ["--state", str(STATE)] if STATE.exists() else []
    source = subprocess.Popen(
        [PYTHON, "main.py", "read", "--config", str(source_config), "--catalog", str(catalog), *state],
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    destination = subprocess.Popen(
        [PYTHON, "-m", "destination_vectors", "write", "--config", str(destination_config), "--catalog", str(catalog)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    tee = threading.Thread(target=_forward, args=(source.stdout, destination.stdin), daemon=True)
    tee.start()
    ok = True
    states = []
    for line in destination.stdout:
        ok = _show(line, "destination") and ok
        if line.startswith('{"type":"STATE"') or '"type": "STATE"' in line[:20]:
            states.append(json.loads(line)["state"])
    tee.join()
    ok = source.wait() == 0 and destination.wait() == 0 and ok
    if ok and states:
        STATE.write_text(json.dumps(states))
    return ok


def _forward(source_out: IO[bytes], destination_in: IO[str]) -> None:
    """Pipes the source into the destination, echoing the source's own progress lines for the person watching."""
    try:
        for raw in source_out:
            line = raw.decode("utf-8")
            if '"type":"LOG"' in line or '"type":"TRACE"' in line:
                _show(line, "source")
            destination_in.write(line)
    finally:
        destination_in.close()


def _show(line: str, who: str) -> bool:
    try:
        message = json.loads(line)
    except ValueError:
        return True
    if message.get("type") == "LOG":
        text = message["log"]["message"]
        if any(
            word in text
            for word in ("progress", "summary", "succeeded", "committed", "pages", "skipped", "attachments:")
        ):
            print(f"    [{who}] {text}", flush=True)
    elif message.get("type") == "TRACE" and message["trace"].get("type") == "ERROR":
        print(f"    [{who}] ERROR: {message['trace']['error']['message']}", flush=True)
        return False
    return True


def _answer(destination_config: Path) -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.path.insert(0, str(ROOT))
    from destination_vectors.config import DestinationConfig
    from destination_vectors.read.search import Searcher
    from destination_vectors.search_report import format_hits

    searcher = Searcher.from_config(DestinationConfig.model_validate_json(destination_config.read_text()))
    for question in QUESTIONS:
        print()
        print(format_hits(question, searcher.search(question, k=3, group_by="page")))  # as `search` prints by default


if __name__ == "__main__":
    sys.exit(main())
