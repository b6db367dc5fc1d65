"""`destination-vectors search`: ranked answers as text for people, pages with their passages and links.

Works on both result shapes (chunks, and pages grouped with their snippets and each passage's origin), so the demo and
the command print alike.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any


def format_hits(query: str, hits: Sequence[Any]) -> str:
    """Ranked answers as `destination-vectors search` prints them: rank, score, where, link, passage."""
    if not hits:
        return f"Q: {query}\n   no results"
    lines = [f"Q: {query}"]
    for hit in hits:
        where = hit.breadcrumb or (f"{hit.title} > {hit.heading_path}" if hit.heading_path else hit.title)
        body = hit.text.split("\n\n", 1)[-1].replace("\n", " ")
        origin = getattr(hit, "origin", None)
        if origin is not None:  # grouped by page: the page first, then its passages, each saying where it came from
            lines.append(f"{hit.rank:>3}. [{hit.score:.3f}] {hit.title}  ({hit.space_key}, {hit.visibility})")
            own = origin.kind in ("page", "blog_post")  # the best passage is the page's: its section's link
            lines.append(f"     {hit.chunk_url if own and hit.chunk_url else hit.webui_url}")
            lines.append(_passage(origin, hit.heading_path, body, hit.chunk_url, 220))
        else:
            lines.append(f"{hit.rank:>3}. [{hit.score:.3f}] {where}  ({hit.space_key}, {hit.visibility})")
            lines.append(f"     {getattr(hit, 'chunk_url', '') or hit.webui_url}")
            if getattr(hit, "container_url", ""):  # a comment or an attachment: the page it belongs to
                lines.append(f"     on {hit.container_title}: {hit.container_url}")
            lines.append(textwrap.indent(textwrap.shorten(body, width=220, placeholder=" ..."), "     "))
        for snippet in getattr(hit, "snippets", []):
            text = snippet.text.split("\n\n", 1)[-1].replace("\n", " ")
            if snippet.origin is not None:
                lines.append(_passage(snippet.origin, snippet.heading_path, text, snippet.chunk_url, 160, "+ "))
                continue
            where = f"{snippet.heading_path}: " if snippet.heading_path else ""
            lines.append(textwrap.indent(textwrap.shorten(f"+ {where}{text}", width=160, placeholder=" ..."), "     "))
    return "\n".join(lines)


def _passage(origin: Any, where: str, text: str, url: str, width: int, bullet: str = "") -> str:
    """One passage of a page answer: [its origin] where it sits: text, then its own link when it is not the page's."""
    heading = f"{where}: " if where and origin.kind in ("page", "blog_post") else ""
    line = textwrap.shorten(f"{bullet}[{origin.label}] {heading}{text}", width=width, placeholder=" ...")
    link = f"\n       {origin.url}" if origin.url else ""
    return textwrap.indent(line, "     ") + link
