"""Run the stand-in from a shell: `python -m testkit.confluence_stand_in --site integration_tests/sample_site`.

Prints one JSON line {"url", "dc_url"} on stdout once it accepts connections (so a parent process can read it),
then serves until SIGTERM or SIGINT. Request logs go to stderr, and only with --verbose.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from .access import enterprise_access
from .faults import Faults
from .server import StandIn
from .site import Site, load_site
from .synthetic import synthetic_site
from .tls import make_self_signed_cert


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m testkit.confluence_stand_in", description="Serve a local Confluence stand-in."
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--site", type=Path, help="a site folder (see integration_tests/sample_site/README.md)")
    source.add_argument("--synthetic", type=int, metavar="N", help="serve N generated pages")
    parser.add_argument("--spaces", type=int, default=4, help="spaces for --synthetic (last one personal)")
    parser.add_argument("--seed", type=int, default=0, help="seed for --synthetic and fault jitter")
    parser.add_argument(
        "--company-members",
        type=int,
        default=0,
        metavar="N",
        help="with --synthetic: spaces granted to a confluence-users group of N people, the 5 largest root trees "
        "restricted to 50-person teams (enterprise_access)",
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--context-path", default="/confluence", help="Data Center context path")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--status-429-every", type=int, default=0)
    parser.add_argument("--retry-after", default="1", help='sent verbatim, e.g. "1" or "9223372036854775807"')
    parser.add_argument("--status-5xx-every", type=int, default=0)
    parser.add_argument("--status-5xx-burst", type=int, default=1)
    parser.add_argument("--reset-every", type=int, default=0)
    parser.add_argument("--malformed-json-every", type=int, default=0)
    parser.add_argument(
        "--forbid",
        action="append",
        default=[],
        choices=["space_permissions", "group_members", "restrictions"],
        help="answer this family of permission endpoints with 403 (repeatable)",
    )
    parser.add_argument("--tls-cert", type=Path, help="PEM certificate (with --tls-key) to serve HTTPS")
    parser.add_argument("--tls-key", type=Path)
    parser.add_argument(
        "--tls-self-signed",
        type=Path,
        metavar="DIR",
        help="make a self-signed certificate for 127.0.0.1 in DIR and serve HTTPS with it",
    )
    parser.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = parser.parse_args(argv)
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    site: Site = load_site(args.site) if args.site else synthetic_site(args.synthetic, args.spaces, seed=args.seed)
    if args.company_members and not args.site:
        pages = [(page.id, page.parent_id) for page in site.all_pages()]
        keys = [space.key for space in site.spaces if space.type != "personal"]
        site = site.with_access(enterprise_access(pages, keys, members=args.company_members))
    faults = Faults(
        latency_ms=args.latency_ms,
        status_429_every=args.status_429_every,
        retry_after=args.retry_after,
        status_5xx_every=args.status_5xx_every,
        status_5xx_burst=args.status_5xx_burst,
        reset_every=args.reset_every,
        malformed_json_every=args.malformed_json_every,
        forbidden=frozenset(args.forbid),
        seed=args.seed,
    )
    tls: tuple[str, str] | None = None
    ca_file: str | None = None
    if args.tls_self_signed is not None:
        cert, key = make_self_signed_cert(args.tls_self_signed)
        tls, ca_file = (str(cert), str(key)), str(cert)
    elif args.tls_cert is not None:
        tls, ca_file = (str(args.tls_cert), str(args.tls_key)), str(args.tls_cert)

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with StandIn(
        site, faults=faults, context_path=args.context_path, tls=tls, port=args.port, verbose=args.verbose
    ) as server:
        ready = {"url": server.url, "dc_url": server.dc_url, "pages": len(site.pages), "spaces": len(site.spaces)}
        if ca_file is not None:
            ready["ca_file"] = ca_file
        sys.stdout.write(json.dumps(ready) + "\n")
        sys.stdout.flush()
        while not stop.wait(0.2):
            pass
    if args.verbose:
        sys.stderr.write(f"stand-in stopped: {json.dumps(server.stats.snapshot())}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
