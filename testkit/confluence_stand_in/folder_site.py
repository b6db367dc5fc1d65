"""A site with Cloud containers in its page tree, for the folder tests: the sample site's ENG space plus open and
restricted folders (nested), a restricted whiteboard, an open database and an embed, each with pages below.

    Engineering Home (101001)
    ├── folder "Team Folders" (778001, open)
    │   ├── page "Folder Notes" (109001)                     open: everyone
    │   └── folder "Leads Only" (778002, eng-leads)
    │       └── page "Leads Plan" (109002)                   Bob, Chen
    │           └── page "Leads Plan Details" (109003)       Bob, Chen
    ├── database "Service Catalog" (778004, open)
    │   └── page "Catalog Entry" (109005)                    open: everyone
    └── embed "Dashboard" (778005, Emeka)
        └── page "Dashboard Notes" (109006)                  Emeka
    whiteboard "HR Board" (778003, at the space root, hr-team)
    └── page "Board Minutes" (109004)                        Dana
"""

from __future__ import annotations

from dataclasses import replace

from .access import Grant
from .containers import Container
from .site import Page, Site

BOB, CHEN, DANA, EMEKA = (f"5d8a1b2c3e4f5a6b7c8d9e0{n}" for n in (2, 3, 4, 5))
CONTAINERS = (
    Container(id="778001", space_key="ENG", type="folder", title="Team Folders", parent_id="101001"),
    Container(id="778002", space_key="ENG", type="folder", title="Leads Only", parent_id="778001"),
    Container(id="778003", space_key="ENG", type="whiteboard", title="HR Board"),
    Container(id="778004", space_key="ENG", type="database", title="Service Catalog", parent_id="101001"),
    Container(id="778005", space_key="ENG", type="embed", title="Dashboard", parent_id="101001"),
)
# page id -> (title, parent, a phrase only that page holds)
FOLDER_PAGES = {
    "109001": ("Folder Notes", "778001", "juniper lantern open folder note"),
    "109002": ("Leads Plan", "778002", "copper falcon leads plan"),
    "109003": ("Leads Plan Details", "109002", "velvet orchard leads detail"),
    "109004": ("Board Minutes", "778003", "amber tundra board minutes"),
    "109005": ("Catalog Entry", "778004", "cedar harbor catalog entry"),
    "109006": ("Dashboard Notes", "778005", "onyx meadow dashboard notes"),
}
RESTRICTIONS = {
    "778002": Grant(groups=("eng-leads",)),
    "778003": Grant(groups=("hr-team",)),
    "778005": Grant(users=(EMEKA,)),
}
# page id -> who may read it (account ids), by Confluence's rule over the whole path
FOLDER_READERS = {
    "109001": None,  # everyone with the space: public
    "109002": {BOB, CHEN},
    "109003": {BOB, CHEN},
    "109004": {DANA},
    "109005": None,
    "109006": {EMEKA},
}


def with_folders(site: Site, *, v1_container_ancestors: bool = True) -> Site:
    """`site` (the sample site) with the containers and pages above; `v1_container_ancestors` False makes v1
    `ancestors` leave the containers out, as one real site does."""
    pages = tuple(
        Page(
            id=page_id,
            space_key="ENG",
            title=title,
            parent_id=parent,
            author_id=BOB,
            created_at="2024-05-01T09:00:00.000Z",
            updated_at="2024-05-02T09:00:00.000Z",
            version=1,
            body=f"<p>{title}: {phrase}.</p>",
        )
        for page_id, (title, parent, phrase) in FOLDER_PAGES.items()
    )
    access = site.access
    for content_id, grant in RESTRICTIONS.items():
        access = access.with_restriction(content_id, grant)
    return replace(
        site,
        pages=(*site.pages, *pages),
        containers=CONTAINERS,
        access=access,
        v1_container_ancestors=v1_container_ancestors,
    )
