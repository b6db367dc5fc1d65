"""Runs inside bench/.venv-langchain: LangChain's ConfluenceLoader over every space, one page id per stdout line.

    python langchain_runner.py URL USERNAME API_TOKEN

ConfluenceLoader reads one space per loader (`space_key`) and cannot list spaces, so the space keys come from the
same atlassian client it wraps (one v1 `/space` request). `include_restricted_content=True` skips its per-page
restrictions request (the stand-in has no restrictions endpoint; the default would add one request per page).
"""

from __future__ import annotations

import sys

from langchain_community.document_loaders.confluence import ConfluenceLoader, ContentFormat


def main(url: str, username: str, api_token: str) -> int:
    lister = ConfluenceLoader(url=url, username=username, api_key=api_token, space_key="-")
    spaces = lister.confluence.get_all_spaces(start=0, limit=500)["results"]
    for space in spaces:
        loader = ConfluenceLoader(
            url=url,
            username=username,
            api_key=api_token,
            space_key=space["key"],
            content_format=ContentFormat.STORAGE,
            include_restricted_content=True,
            limit=100,
            max_pages=10**9,
        )
        for document in loader.lazy_load():
            sys.stdout.write(f"{document.metadata['id']}\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
