"""`destination-vectors web`: a local, read-only web page over the index (search, what was synced, sync health).

Built on the same `IndexService` as the MCP server, so access is fixed when it starts and no request widens it.
Starlette and Uvicorn come with the `mcp` SDK, Jinja2 renders the pages; the CSS and the few lines of JavaScript
ship in this package (`static/`), so the page works offline and loads nothing from elsewhere.
"""

from __future__ import annotations

from destination_vectors.config import DestinationConfig
from destination_vectors.serve.service import IndexService


def open_site(config: DestinationConfig, service: IndexService):
    """The views' shared state: the service, the listings through it, the ledger (errors only for `all`)."""
    from destination_vectors.serve.inventory import Inventory
    from destination_vectors.serve.web.app import Site
    from destination_vectors.serve.web.health import LedgerView

    access = service.access
    show_errors = access.principal is None and access.visibility == "all"
    where = f"table {config.table_name!r} of {config.lancedb_uri}"
    return Site(service, Inventory(service, config), LedgerView(config.resolved_ledger_path, show_errors), where)
