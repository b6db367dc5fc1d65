"""Links to a section: the page's link plus the anchor Confluence itself gives the section's heading.

Cloud and Data Center build heading anchors differently (docs/CONTRACTS.md, "Section links", has the sources):
- Cloud (current editor): the heading text with each run of whitespace replaced by '-', capitals and punctuation
  kept: "Steps to roll back" -> `#Steps-to-roll-back`.
- Data Center / Server (and Cloud pages still in the legacy editor): the page title and the heading text, each with
  whitespace removed, joined by '-': page "Rollback", heading "Steps to roll back" -> `#Rollback-Stepstorollback`.
The flavour is read from the page link: Cloud links live under `/wiki/spaces/`, Data Center links do not.
Characters a URL fragment may not hold are percent-encoded (UTF-8). Two headings with the same text share an anchor
here; the link then lands on the first of them, still on the right page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote

_WHITESPACE = re.compile(r"\s+")
_FRAGMENT_SAFE = "-._~!$&'()*+,;=:@/?"


def is_cloud_link(webui_url: str) -> bool:
    return "/wiki/spaces/" in webui_url


def heading_anchor(heading: str, page_title: str, cloud: bool) -> str:
    """The anchor Confluence gives a heading, not yet percent-encoded."""
    heading = heading.strip()
    if cloud:
        return _WHITESPACE.sub("-", heading)
    return f"{_WHITESPACE.sub('', page_title)}-{_WHITESPACE.sub('', heading)}"


def section_url(webui_url: str, page_title: str, heading_path: Sequence[str]) -> str:
    """The page link with the anchor of the innermost heading; the page link alone before the first heading or
    when the page has no link."""
    if not webui_url or not heading_path or not heading_path[-1].strip():
        return webui_url
    anchor = heading_anchor(heading_path[-1], page_title, is_cloud_link(webui_url))
    return f"{webui_url.split('#', 1)[0]}#{quote(anchor, safe=_FRAGMENT_SAFE)}"
