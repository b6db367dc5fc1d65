"""What Cloud folders cost the source's access reading: requests with and without folders, side by side in one run.

    python -m bench.access_folders [--pages 2000] [--spaces 4] [--latency-ms 0] [--every 40] [--restricted-every 3]

Serves `synthetic_site(pages)` in-process and moves every `--every`-th page (that has a parent) into a new folder
under that parent, every `--restricted-every`-th folder restricted to one person. Reads every page's access with the
source's `AccessReader` over HTTP three times: the site without folders, with folders listed by v1 `ancestors`, and
with folders left out of them (one real site's way). Prints pages, folders, access requests, folder reads, folder
restriction reads, restricted pages and the extra requests per folder: the goal is 2 (its v2 route and its
restriction), whatever the number of pages below it.
"""

from __future__ import annotations

import time
from dataclasses import replace

import requests

from bench.timed_runs import format_table, site_parser
from source_confluence.components import AccessReader
from testkit.confluence_stand_in import DEFAULT_AUTH, Faults, Grant, Site, StandIn, synthetic_site
from testkit.confluence_stand_in.containers import Container

FOLDER_IDS = 900_000


def with_folders(site: Site, every: int, restricted_every: int, v1_lists: bool) -> Site:
    """`site` with every `every`-th page (that has a parent) moved into a new folder under that parent."""
    folders: list[Container] = []
    pages = []
    access = site.access
    person = site.user_ids()[0]
    for page in site.pages:
        if int(page.id) % every == 0 and page.parent_id is not None:
            folder_id = str(FOLDER_IDS + len(folders))
            folders.append(
                Container(
                    id=folder_id,
                    space_key=page.space_key,
                    type="folder",
                    title=f"Folder {page.id}",
                    parent_id=page.parent_id,
                )
            )
            if len(folders) % restricted_every == 0:
                access = access.with_restriction(folder_id, Grant(users=(person,)))
            page = replace(page, parent_id=folder_id)
        pages.append(page)
    return replace(site, pages=tuple(pages), containers=tuple(folders), access=access, v1_container_ancestors=v1_lists)


def measure(label: str, site: Site, latency_ms: float) -> list[object]:
    session = requests.Session()
    session.auth = (DEFAULT_AUTH.username, DEFAULT_AUTH.api_token)
    with StandIn(site, faults=Faults(latency_ms=latency_ms)) as server:
        reader = AccessReader(
            lambda url, params: session.get(url, params=params, timeout=60),
            cloud=True,
            origin=server.url,
            site_base=server.url + "/wiki",
        )
        started = time.perf_counter()
        restricted = sum(
            reader.page_access(page.id, space.key, space.id)[0]
            for space in site.spaces
            for page in site.pages_in(space.key)
        )
        wall = time.perf_counter() - started
        by_path = dict(server.stats.by_path)
        requests_made = server.stats.api_requests
    folder_ids = {c.id for c in site.containers}
    folder_reads = sum(n for path, n in by_path.items() if path.startswith("/wiki/api/v2/folders/"))
    restriction_reads = sum(
        n for path, n in by_path.items() if path.split("/")[-4:-3] and path.split("/")[-4] in folder_ids
    )
    return [
        label,
        len(site.pages),
        len(folder_ids),
        requests_made,
        folder_reads,
        restriction_reads,
        restricted,
        len(reader.warnings),
        round(wall, 2),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = site_parser("python -m bench.access_folders", __doc__)
    parser.set_defaults(latency_ms=0.0)
    parser.add_argument("--every", type=int, default=40, help="one page in EVERY moves into a new folder")
    parser.add_argument("--restricted-every", type=int, default=3, help="one folder in N is restricted")
    args = parser.parse_args(argv)
    site = synthetic_site(args.pages, args.spaces, body_paragraphs=1)
    rows = [
        measure("no folders", site, args.latency_ms),
        measure("folders, v1 lists them", with_folders(site, args.every, args.restricted_every, True), args.latency_ms),
        measure(
            "folders, v1 leaves them out", with_folders(site, args.every, args.restricted_every, False), args.latency_ms
        ),
    ]
    base = int(rows[0][3])  # type: ignore[call-overload]
    for row in rows:
        folders = int(row[2])  # type: ignore[call-overload]
        row.append(f"{(int(row[3]) - base) / folders:.2f}" if folders else "-")  # type: ignore[call-overload]
    headers = [
        "run",
        "pages",
        "folders",
        "access requests",
        "folder reads",
        "folder restriction reads",
        "restricted",
        "warnings",
        "wall s",
        "extra requests per folder",
    ]
    print(format_table(headers, rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
