"""The index as an MCP server: `destination-vectors mcp --config C [--visibility V] [--http PORT]`.

Built on the official `mcp` SDK's high-level `MCPServer` (the SDK's own successor of FastMCP 1): tools are typed
functions whose signatures become the published input schemas, and both transports (stdio, streamable HTTP) come
with it. The standalone `fastmcp` package would add a second framework for nothing these three tools need.

Access is fixed when the server starts: no tool takes a visibility or a user, and an argument a tool does not
declare is refused (not ignored), so an assistant learns that it cannot widen what the server shows.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.types import ToolAnnotations
from pydantic import ConfigDict, model_validator

from destination_vectors.serve.service import MAX_K, IndexService, ServiceError

logger = logging.getLogger("airbyte")
LOOPBACK = "127.0.0.1"
SERVER_NAME = "confluence-vectors"


def build_server(service: IndexService) -> MCPServer:
    """An MCP server whose three tools answer from `service` (and so within its fixed access)."""

    def search_confluence(
        query: str,
        k: int = 5,
        spaces: list[str] | None = None,
        labels: list[str] | None = None,
        streams: list[str] | None = None,
        group_by: Literal["page", "chunk"] = "page",
    ) -> dict[str, Any]:
        """Search the Confluence index (hybrid: meaning + keywords). Returns the best pages (group_by="page",
        default: each page once, comments and attachments under their page, with its best passage and up to two
        more snippets, each with an `origin`: the page, a comment by whom, which attachment) or the best passages
        (group_by="chunk"), each with title, breadcrumb, text and a link to the page. Identifiers (E-2217, OPS-311,
        4.0.12, request_timeout_seconds) are matched whole and rank first; "a quoted phrase" returns only passages
        holding it. `spaces` (space keys), `labels` and `streams` only narrow the search; k is 1-50."""
        try:
            results = service.search(query, k, spaces=spaces, labels=labels, streams=streams, group_by=group_by)
        except ServiceError as error:
            raise ToolError(str(error)) from None
        return {"query": query, "group_by": group_by, "served": service.access.describe(), "results": results}

    def get_page(page_id: str) -> dict[str, Any]:
        """The indexed text of one page, in page order, with its title, breadcrumb and link. page_id comes from a
        search result."""
        try:
            return service.get_page(page_id)
        except ServiceError as error:
            raise ToolError(str(error)) from None

    def list_spaces() -> dict[str, Any]:
        """The Confluence spaces this index holds (within what this server may show), with page and chunk
        counts: use the space keys to narrow search_confluence."""
        try:
            return {"served": service.access.describe(), "spaces": service.list_spaces()}
        except ServiceError as error:
            raise ToolError(str(error)) from None

    read_only = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
    tools = [
        _strict(Tool.from_function(fn, annotations=read_only)) for fn in (search_confluence, get_page, list_spaces)
    ]
    return MCPServer(
        SERVER_NAME,
        instructions=(
            "Searches a local index of a Confluence wiki. Start with search_confluence; open a whole page with "
            f"get_page; list_spaces shows what is indexed. This server shows {service.access.describe()}; "
            "that is fixed when it starts and no argument changes it."
        ),
        tools=tools,
        log_level="WARNING",
    )


def _strict(tool: Tool) -> Tool:
    """Refuse arguments the tool does not declare (a smuggled `visibility` or `as_user` gets a clear error)."""
    loose = tool.fn_metadata.arg_model
    declared = set(loose.model_fields) | {f.alias for f in loose.model_fields.values() if f.alias}

    def refuse_unknown(cls: type, data: Any) -> Any:
        unknown = sorted(set(data) - declared) if isinstance(data, dict) else []
        if unknown:
            raise ValueError(
                f"{tool.name} takes no argument {', '.join(map(repr, unknown))} (it takes "
                f"{', '.join(sorted(declared)) or 'none'}); what this server shows is fixed when it starts"
            )
        return data

    strict = type(
        loose.__name__,
        (loose,),
        {
            "model_config": ConfigDict(extra="forbid", arbitrary_types_allowed=True),
            "_refuse_unknown": model_validator(mode="before")(classmethod(refuse_unknown)),
        },
    )
    tool.fn_metadata.arg_model = strict
    tool.parameters = {**tool.parameters, "additionalProperties": False}
    return tool


def serve(service: IndexService, http_port: int | None = None) -> None:
    """Run until the client disconnects (stdio) or the process is stopped (HTTP, loopback only)."""
    server = build_server(service)
    if http_port is None:
        server.run("stdio")
        return
    logger.info("MCP server on http://%s:%d/mcp (%s)", LOOPBACK, http_port, service.access.describe())
    server.run("streamable-http", host=LOOPBACK, port=http_port)


__all__ = ["LOOPBACK", "MAX_K", "SERVER_NAME", "build_server", "serve"]
