"""`destination-vectors`: the Airbyte commands (spec, check, write) plus `search`, `history` and `attachments` for
people, and the servers over the index: `mcp` (assistants) and `web` (a read-only page for people)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from destination_vectors.config import DestinationConfig, config_problems
from destination_vectors.search_report import format_hits

AIRBYTE_COMMANDS = {"spec", "check", "write"}
ALLOW_FLAG = "--allow-mass-deletion"  # write only: allow the deletion a refused run named, once


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in AIRBYTE_COMMANDS:
        return _airbyte(args)
    parser = _parser()
    options = parser.parse_args(args)
    if not getattr(options, "command", None):
        parser.print_help()
        return 2
    try:
        config = _load_config(options.config)
        return options.handler(config, options)
    except _UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


class _UserError(Exception):
    pass


def _airbyte(args: list[str]) -> int:
    """The CDK's commands; `write` also takes --allow-mass-deletion RUN_ID (the local pipe's allow_once)."""
    allow_once = None
    if ALLOW_FLAG in args:
        at = args.index(ALLOW_FLAG)
        value = args[at + 1] if at + 1 < len(args) else ""
        if args[0] != "write" or not re.fullmatch(r"[0-9a-f]{12}", value):
            print(f"error: {ALLOW_FLAG} goes with write and takes the run id a refusal names", file=sys.stderr)
            return 2
        allow_once, args = value, args[:at] + args[at + 2 :]
    from airbyte_cdk.logger import init_logger

    from destination_vectors.destination import DestinationVectors

    init_logger("airbyte")
    DestinationVectors(allow_once=allow_once).run(args)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="destination-vectors",
        description="Airbyte destination into a local LanceDB vector index. Airbyte commands: spec, check, write.",
    )
    commands = parser.add_subparsers(dest="command")
    search = commands.add_parser("search", help="answer a question with ranked chunks and their Confluence links")
    search.add_argument("--config", required=True, help="the destination config JSON used for write")
    search.add_argument("query", nargs="?", help="the question (or use --queries-file)")
    search.add_argument("-k", type=int, default=5, help="results per query (default 5)")
    search.add_argument("--mode", choices=["hybrid", "vector", "fts"], default="hybrid")
    _add_reader_arguments(search, "")
    search.add_argument("--space", action="append", default=[], metavar="KEY", help="only these space keys")
    search.add_argument("--under", metavar="PAGE_ID", help="only this page (or Cloud folder) and the pages below it")
    search.add_argument(
        "--stream", action="append", default=[], metavar="NAME", help="only these streams (pages, comments, ...)"
    )
    search.add_argument(
        "--label", action="append", default=[], metavar="LABEL", help="only chunks with any of these labels"
    )
    search.add_argument("--json", action="store_true", help="one JSON object per hit")
    search.add_argument(
        "--group-by",
        choices=["page", "chunk"],
        help="page: each page once, its link first, comments and attachments under it (best passage, up to two more "
        "snippets, each saying where it came from); chunk: every matching chunk. "
        "Default: page for the readable output, chunk for --json and --queries-file",
    )
    search.add_argument(
        "--queries-file",
        type=Path,
        help="JSON lines with id and query: one model load, one JSON line of results per query",
    )
    search.set_defaults(handler=_search)
    mcp = commands.add_parser("mcp", help="serve the index to AI assistants over MCP (stdio, or HTTP on loopback)")
    mcp.add_argument("--config", required=True, help="the destination config JSON used for write")
    _add_reader_arguments(mcp, ", fixed for the server's lifetime")
    mcp.add_argument(
        "--http",
        type=int,
        metavar="PORT",
        help="serve streamable HTTP on 127.0.0.1:PORT/mcp instead of stdio",
    )
    mcp.set_defaults(handler=_mcp)
    web = commands.add_parser("web", help="a read-only web page: search, what was synced, sync health")
    web.add_argument("--config", required=True, help="the destination config JSON used for write")
    _add_reader_arguments(web, ", fixed for the server's lifetime")
    web.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080; 0 picks a free one)")
    web.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1, this machine only); any other address serves without a login",
    )
    web.set_defaults(handler=_web)
    history = commands.add_parser("history", help="the ledger: one row per sync")
    history.add_argument("--config", required=True)
    history.add_argument("--limit", type=int, default=20)
    history.add_argument("--pages", action="store_true", help="list pages (with deleted_at) instead of syncs")
    history.add_argument(
        "--deletions", action="store_true", help="list the refused and allowed mass deletions instead of syncs"
    )
    history.add_argument("--json", action="store_true")
    history.set_defaults(handler=_history)
    attachments = commands.add_parser(
        "attachments", help="each attachment's extraction status: which were not indexed, and why"
    )
    attachments.add_argument("--config", required=True, help="the destination config JSON used for write")
    attachments.add_argument(
        "--status",
        choices=["ok", "too_large", "unsupported_type", "failed"],
        help="only this status (failed: every `failed: <reason>`)",
    )
    attachments.add_argument("--json", action="store_true", help="one JSON object per attachment")
    attachments.set_defaults(handler=_attachments)
    return parser


def _add_reader_arguments(parser: argparse.ArgumentParser, lifetime: str) -> None:
    """--visibility, --as-user, --group: whom the answers are for, read by `_person` for search and mcp alike."""
    parser.add_argument(
        "--visibility",
        choices=["public", "internal", "all"],
        help=f"public (default) never returns a chunk of a personal or internal space{lifetime}",
    )
    parser.add_argument(
        "--as-user",
        metavar="ACCOUNT_ID",
        help=f"only what this person may read in Confluence (Cloud account id, Data Center user key), with the "
        f"groups the synced memberships give them{lifetime}; replaces --visibility",
    )
    parser.add_argument(
        "--as-email",
        metavar="ADDRESS",
        help=f"like --as-user, naming the person by e-mail address (where the site shows addresses){lifetime}",
    )
    parser.add_argument(
        "--group",
        action="append",
        default=[],
        metavar="NAME",
        help="with --as-user/--as-email: a group the person belongs to, beside those the synced memberships give "
        "them (repeatable)",
    )


def _load_config(path: str) -> DestinationConfig:
    from pydantic import ValidationError

    try:
        return DestinationConfig.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise _UserError(f"config file {path} does not exist") from None
    except ValidationError as error:
        raise _UserError(f"config file {path} is not a valid destination config: {config_problems(error)}") from None
    except ValueError as error:
        raise _UserError(f"config file {path} is not valid JSON: {error}") from None


def _search(config: DestinationConfig, options: argparse.Namespace) -> int:
    from destination_vectors.read.search import Searcher, SearchError

    if not options.query and not options.queries_file:
        raise _UserError("give a QUERY or --queries-file")
    if options.k < 1:
        raise _UserError("-k must be at least 1")
    person = _person(options)
    searcher = Searcher.from_config(config)
    try:
        principal = searcher.principal_for(**person) if person else None
    except SearchError as error:
        raise _UserError(str(error)) from None
    machine = options.json or options.queries_file
    if principal is not None and principal.account_id is not None:  # stderr: who the answers are for, and why
        groups = ", ".join(searcher.resolved(principal).groups) or "none"
        print(f"searching as {principal.account_id} (groups: {groups}; and what anyone may read)", file=sys.stderr)
    group_by = options.group_by or ("chunk" if machine else "page")
    ask = dict(
        k=options.k,
        mode=options.mode,
        visibility=options.visibility or "public",
        spaces=options.space or None,
        group_by=group_by,
        under=options.under,
        streams=options.stream or None,
        labels=options.label or None,
        principal=principal,
    )
    try:
        if options.queries_file:
            failed = 0
            for line_number, line in enumerate(options.queries_file.read_text(encoding="utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                    query_id, query = item.get("id", line_number), item["query"]
                except (ValueError, KeyError, AttributeError):
                    raise _UserError(f"{options.queries_file}:{line_number}: not a JSON object with a query") from None
                try:
                    hits = searcher.search(query, **ask)
                except SearchError:
                    raise
                except Exception as error:  # one bad question must not lose the answers to the rest
                    failed += 1
                    print(json.dumps({"id": query_id, "results": [], "error": f"{type(error).__name__}: {error}"}))
                    continue
                print(json.dumps({"id": query_id, "results": [h.to_dict() for h in hits]}, ensure_ascii=False))
            return 1 if failed else 0
        hits = searcher.search(options.query, **ask)
    except SearchError as error:
        raise _UserError(str(error)) from None
    if options.json:
        for hit in hits:
            print(json.dumps(hit.to_dict(), ensure_ascii=False))
    else:
        print(format_hits(options.query, hits))
    return 0


def _person(options: argparse.Namespace) -> dict[str, Any] | None:
    """The person to search as (`--as-user` or `--as-email`, `--group`) as `Searcher.principal_for` takes them, or
    None; refuses mixing with --visibility."""
    if options.as_user is None and options.as_email is None:
        if options.group:
            raise _UserError("--group needs --as-user or --as-email (the groups of which person?)")
        return None
    if options.as_user is not None and options.as_email is not None:
        raise _UserError("give one of --as-user and --as-email")
    if options.visibility is not None:
        raise _UserError(
            f"{'--as-user' if options.as_user is not None else '--as-email'} replaces --visibility: give one of them"
        )
    if options.as_user is not None and not options.as_user.strip():
        raise _UserError("--as-user needs an account id (Cloud) or user key (Data Center)")
    if options.as_email is not None and "@" not in options.as_email:
        raise _UserError(f"--as-email needs an e-mail address, got {options.as_email!r}")
    return {"as_user": options.as_user, "as_email": options.as_email, "groups": tuple(options.group)}


def _index_service(config: DestinationConfig, options: argparse.Namespace) -> Any:
    """The index service with the access the command line fixes (--visibility, --as-user / --as-email, --group), as
    the servers (mcp, web) share it; loads the model once, before serving."""
    from destination_vectors.read.access import Principal
    from destination_vectors.serve.service import Access, IndexService, ServiceError

    person = _person(options)
    principal = None
    if person is not None:
        principal = Principal(account_id=person["as_user"], groups=person["groups"])
    access = Access(visibility=options.visibility or "public", principal=principal, email=options.as_email)
    try:
        return IndexService(config, access)
    except ServiceError as error:
        raise _UserError(str(error)) from None


def _mcp(config: DestinationConfig, options: argparse.Namespace) -> int:
    import logging

    from destination_vectors.serve.mcp import serve

    if options.http is not None and not 1 <= options.http <= 65535:
        raise _UserError("--http needs a port between 1 and 65535")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(message)s")  # stdout is MCP's
    service = _index_service(config, options)
    service.warm()
    serve(service, http_port=options.http)
    return 0


def _web(config: DestinationConfig, options: argparse.Namespace) -> int:
    import logging

    from destination_vectors.serve.web import open_site
    from destination_vectors.serve.web.app import build_app
    from destination_vectors.serve.web.server import BindError, serve

    if not 0 <= options.port <= 65535:
        raise _UserError("--port needs a port between 0 and 65535")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(message)s")
    service = _index_service(config, options)
    service.warm()
    site = open_site(config, service)
    try:
        serve(lambda hosts: build_app(site, hosts), options.host, options.port, service.access.describe())
    except BindError as error:
        raise _UserError(str(error)) from None
    except KeyboardInterrupt:
        pass
    return 0


def _history(config: DestinationConfig, options: argparse.Namespace) -> int:
    from destination_vectors import history_report
    from destination_vectors.store.ledger import Ledger

    ledger = Ledger(config.resolved_ledger_path)
    if options.deletions:
        rows = ledger.mass_deletions(options.limit)
    else:
        rows = ledger.pages() if options.pages else ledger.history(options.limit)
    if options.json:
        for row in rows:
            print(json.dumps(row, default=str, ensure_ascii=False))
        return 0
    if options.deletions:
        print(history_report.mass_deletions(rows) if rows else f"no mass deletion refused or allowed in {ledger.path}")
        return 0
    if not rows:
        print(f"no syncs recorded in {ledger.path}")
        return 0
    if options.pages:
        print(history_report.page_table(rows))
        return 0
    print(history_report.sync_table(rows))
    runs = {row["run_id"] for row in rows}
    decided = [row for row in ledger.mass_deletions(limit=1000) if row["run_id"] in runs]
    if decided:
        print("\n" + history_report.mass_deletions(decided))
    return 0


def _attachments(config: DestinationConfig, options: argparse.Namespace) -> int:
    from destination_vectors import attachment_report
    from destination_vectors.store.attachment_statuses import StatusesUnavailable, read_statuses
    from destination_vectors.store.text_cache import text_cache_path

    path = text_cache_path(config)
    if not path.exists():
        where = f"table {config.table_name!r} of {config.lancedb_uri}"
        if "lancedb_uri" not in config.model_fields_set:
            where += " (the config names no lancedb_uri, so the default)"
        if not config.resolved_ledger_path.exists():
            raise _UserError(f"no sync has written {where} yet ({config.resolved_ledger_path} does not exist)")
        raise _UserError(f"no attachment statuses for {where}: no sync with the attachments stream yet ({path})")
    try:
        rows = read_statuses(path, options.status)
    except StatusesUnavailable as error:
        raise _UserError(str(error)) from None
    if options.json:
        if rows:
            print(attachment_report.json_lines(rows))
        return 0
    if not rows:
        print("no attachments" + (f" with status {options.status}" if options.status else "") + " recorded")
        return 0
    print(attachment_report.table(rows))
    print(attachment_report.summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
