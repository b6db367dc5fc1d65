"""Object storage vs a local folder: the same syncs, side by side in one run.

    python -m bench.object_storage [--pages 120] [--model test-hash-embedder] [--rounds 2]

Each round runs, for a local folder and for `s3://` on moto's server (loopback, signatures checked): a cold sync and a
re-pull with nothing changed, as `destination-vectors write` processes. Printed: the in-write seconds from the ledger
(what the store costs, without interpreter start) and the process wall time, each with the s3/local ratio. moto is
an in-process Python server, so the ratio is an upper bound of LanceDB's request overhead, not a forecast for AWS.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from testkit.confluence_stand_in import synthetic_site
from testkit.object_storage import s3_server
from testkit.processes import run_process, write_json
from testkit.records import catalog_file, site_records, write_messages

HASH_MODEL = "test-hash-embedder"


def _sync(config: dict, messages: Path, catalog: Path, work: Path) -> tuple[float, float]:
    """One write process; (in-write seconds from the ledger, wall seconds)."""
    from destination_vectors.config import DestinationConfig
    from destination_vectors.store.ledger import Ledger

    config_path = write_json(work / "inputs" / "config.json", config)
    run = run_process(
        [sys.executable, "-m", "destination_vectors", "write", "--config", str(config_path), "--catalog", str(catalog)],
        work / "runs",
        timeout=1800,
        stdin_path=messages,
        cwd=work,
    )
    if run.returncode != 0:
        raise SystemExit(f"write failed\n{run.tail()}")
    row = Ledger(DestinationConfig.model_validate(config).resolved_ledger_path).history(1)[0]
    return float(row["seconds"]), run.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=120)
    parser.add_argument("--model", default=HASH_MODEL)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-s3-") as tmp:
        work = Path(tmp)
        records = site_records(synthetic_site(n_pages=args.pages, n_spaces=3, seed=7))
        messages = write_messages(records, work / "messages.jsonl")
        catalog = catalog_file(work / "catalog.json", "pages", "overwrite")
        results: dict[tuple[str, str], list[tuple[float, float]]] = {}
        with s3_server(work / "moto") as s3:
            for round_number in range(args.rounds):
                configs = {
                    "local": {"lancedb_uri": str(work / f"local-{round_number}"), "embedding": {"model": args.model}},
                    "s3": {
                        "lancedb_uri": s3.uri(f"round-{round_number}"),
                        "ledger_path": str(work / f"s3-{round_number}.ledger.duckdb"),
                        "object_storage": s3.object_storage,
                        "embedding": {"model": args.model},
                    },
                }
                for step in ("cold", "re-pull"):
                    for store, config in configs.items():  # alternate stores so machine load hits both alike
                        results.setdefault((step, store), []).append(_sync(config, messages, catalog, work))
    print(f"{args.pages} pages, model {args.model}, {args.rounds} round(s), median of rounds")
    print(f"{'step':<8} {'local s':>9} {'s3 s':>9} {'ratio':>7}   {'local wall':>10} {'s3 wall':>9} {'ratio':>7}")
    for step in ("cold", "re-pull"):
        local, remote = results[(step, "local")], results[(step, "s3")]
        inside = [statistics.median(x[0] for x in runs) for runs in (local, remote)]
        wall = [statistics.median(x[1] for x in runs) for runs in (local, remote)]
        print(
            f"{step:<8} {inside[0]:>9.2f} {inside[1]:>9.2f} {inside[1] / inside[0]:>6.2f}x"
            f"   {wall[0]:>10.1f} {wall[1]:>9.1f} {wall[1] / wall[0]:>6.2f}x"
        )


if __name__ == "__main__":
    main()
