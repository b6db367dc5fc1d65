"""What a page's text needs from outside the page itself: people's names and the text of the pages it includes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from destination_vectors.text.documents._macros import IncludeTarget


@dataclass(frozen=True)
class PageContext:
    space_key: str = ""  # the page's own space: an include without a space key points into it
    user_names: Mapping[str, str] = field(default_factory=dict)  # account id / user key / username -> display name
    included_text: Callable[[IncludeTarget], str | None] | None = None  # text of a page in the same sync, else None
