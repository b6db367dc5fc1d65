"""Read Confluence `pages` with PyAirbyte into its default DuckDB cache, using this project's source.

Run it with a Python that has PyAirbyte (`pip install airbyte==0.71.3`), not the project venv: PyAirbyte pins
its own dependencies (duckdb 1.4.x among them) and they clash with the project's (duckdb 2.0.0, torch, ...).

    python examples/pyairbyte_read.py --base-url https://yourcompany.atlassian.net \
        --username you@example.com --api-token "$CONFLUENCE_API_TOKEN"
    python examples/pyairbyte_read.py --config secrets/config.json      # a config as for `source-confluence`

How the source is run, and why `local_executable`:
- `local_executable` (used here): PyAirbyte runs the `source-confluence` console script of the project venv
  (`.venv/bin/source-confluence`, override with `--executable`) as a subprocess and speaks the Airbyte protocol to
  it. The source keeps its own interpreter and dependencies, and it is the same connector the manifest-only image
  runs (manifest.yaml + components.py).
- `pip_url` with the project path would install the whole project, destination included (torch,
  sentence-transformers, LanceDB: gigabytes), into a venv PyAirbyte creates, for a source that needs none of it.
- `source_manifest` runs the manifest inside PyAirbyte's own process. The manifest names its classes
  `source_declarative_manifest.components.<Class>` and `components.py` is self-contained (the CDK and the standard
  library only), but PyAirbyte injects it only with `AIRBYTE_ENABLE_UNSAFE_CODE=true`, and that route is not
  exercised by this project's tests; `local_executable` is.

Output: the pages count, a few titles with their `webui_url`, then one JSON line
`{"pages_read": N, "pages_in_cache": M, "cache_path": ..., "titles": [...]}` for scripts (the integration test
parses it). The cache is `airbyte.get_default_cache()`: `.cache/default_cache/default_cache.duckdb` under the
current directory, or under `AIRBYTE_CACHE_ROOT`. PyAirbyte sends anonymous usage telemetry unless `DO_NOT_TRACK`
or `AIRBYTE_OFFLINE_MODE` is set; offline mode also stops it from asking Airbyte's registry about the connector.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import airbyte

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EXECUTABLE = REPO_ROOT / ".venv" / "bin" / "source-confluence"
# A name of our own: `source-confluence` is Airbyte's official connector, whose registry entry is not this source.
CONNECTOR_NAME = "source-confluence-vectors"
TITLES_SHOWN = 5


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="a source config JSON (replaces the other config options)")
    parser.add_argument("--base-url", help="Confluence site URL, e.g. https://yourcompany.atlassian.net")
    parser.add_argument("--deployment", choices=["cloud", "data_center"], default="cloud")
    parser.add_argument("--username", default="demo@example.com", help="basic auth user (Cloud: your e-mail)")
    parser.add_argument("--api-token", default="demo-api-token", help="basic auth API token")
    parser.add_argument(
        "--executable", type=Path, default=DEFAULT_EXECUTABLE, help="the source's console script (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    if args.config is None and not args.base_url:
        parser.error("give --base-url or --config")
    return args


def build_config(args: argparse.Namespace) -> dict[str, Any]:
    """The source config: the file as given, or one built from the flags (basic auth)."""
    if args.config is not None:
        return json.loads(args.config.read_text())
    return {
        "base_url": args.base_url,
        "deployment": args.deployment,
        "credentials": {"auth_type": "basic", "username": args.username, "api_token": args.api_token},
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.executable.exists():
        print(f"{args.executable} not found: run `make install` first, or pass --executable", file=sys.stderr)
        return 2

    source = airbyte.get_source(
        CONNECTOR_NAME,
        config=build_config(args),
        local_executable=args.executable,
        streams=["pages"],
    )
    source.check()  # fails early with the source's own diagnosis (credentials, URL, deployment)

    cache = airbyte.get_default_cache()
    result = source.read(cache=cache)
    pages_read = result.processed_records

    # Read back from the cache, not from `result`: that is what a later script or notebook would see.
    frame = cache["pages"].to_pandas()
    titles = frame.sort_values("title")[["title", "webui_url"]].head(TITLES_SHOWN)

    print(f"Read {pages_read} pages into {cache.db_path} ({len(frame)} rows in table 'pages').")
    for title, url in titles.itertuples(index=False):
        print(f"  {title}  {url}")
    summary = {
        "pages_read": pages_read,
        "pages_in_cache": len(frame),
        "cache_path": str(cache.db_path),
        "titles": [{"title": t, "webui_url": u} for t, u in titles.itertuples(index=False)],
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
