"""Serving the index to other programs: the access-fixed index service and the MCP server on top of it."""
