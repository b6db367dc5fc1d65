"""The content a stand-in serves: spaces, pages and users, plus the on-disk sample-site reader.

A `Site` is immutable: the edit helpers return a new `Site`. The server swaps the whole object in one reference
assignment (`server.site = edited`), so a request in flight always sees one consistent snapshot, never half an edit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from .access import SiteAccess, load_access
from .containers import Container
from .content import Attachment, BlogPost, Comment, Document, document_fields, load_space_extras

SPACE_TYPES = ("global", "personal")
DEFAULT_TIMESTAMP = "2024-01-15T09:00:00.000Z"


@dataclass(frozen=True)
class Space:
    """A Confluence space; `id` is numeric (v1 serves it as an integer), personal keys start with `~`."""

    id: str
    key: str
    name: str
    type: str
    description: str = ""
    author_id: str = "557058:0a1b2c3d-site-admin"
    created_at: str = DEFAULT_TIMESTAMP

    def __post_init__(self) -> None:
        if not self.id.isdigit():
            raise ValueError(f"space {self.key!r}: id must be numeric, got {self.id!r}")
        if self.type not in SPACE_TYPES:
            raise ValueError(f"space {self.key!r}: type must be one of {SPACE_TYPES}, got {self.type!r}")
        if (self.type == "personal") != self.key.startswith("~"):
            raise ValueError(f"space {self.key!r}: personal spaces (and only they) have keys starting with '~'")


@dataclass(frozen=True, kw_only=True)
class Page(Document):
    """A page: a `Document` under a parent page (None: at the top of its space)."""

    parent_id: str | None

    def __post_init__(self) -> None:
        if not self.id.isdigit():
            raise ValueError(f"page {self.title!r}: id must be numeric (Confluence ids are), got {self.id!r}")


@dataclass(frozen=True)
class Site:
    """Spaces, pages (any order; served sorted by numeric id), display names of users by account id, and the
    content beside pages (blog posts, comments, attachments)."""

    spaces: tuple[Space, ...]
    pages: tuple[Page, ...]
    users: dict[str, str] = field(default_factory=dict)
    inactive_users: dict[str, str] = field(default_factory=dict)  # deactivated accounts (id -> name): served inactive
    access: SiteAccess = field(default_factory=SiteAccess)
    blog_posts: tuple[BlogPost, ...] = ()
    comments: tuple[Comment, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    emails: dict[str, str] = field(default_factory=dict)  # account id -> address; absent: hidden (Cloud's privacy)
    containers: tuple[Container, ...] = ()  # Cloud folders, whiteboards, databases, embeds (see containers.py)
    v1_container_ancestors: bool = True  # False: v1 `ancestors` leave containers out (as one real site does)
    _space_by_key: dict[str, Space] = field(init=False, repr=False, compare=False)
    _space_by_id: dict[str, Space] = field(init=False, repr=False, compare=False)
    _page_by_id: dict[str, Page] = field(init=False, repr=False, compare=False)
    _container_by_id: dict[str, Container] = field(init=False, repr=False, compare=False)
    _pages_sorted: tuple[Page, ...] = field(init=False, repr=False, compare=False)
    _pages_by_space: dict[str, list[Page]] = field(init=False, repr=False, compare=False)
    _position: dict[str, int] = field(init=False, repr=False, compare=False)
    _extras: dict[str, dict[str, object]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "spaces", tuple(sorted(self.spaces, key=lambda s: int(s.id))))
        object.__setattr__(self, "_space_by_key", {s.key: s for s in self.spaces})
        object.__setattr__(self, "_space_by_id", {s.id: s for s in self.spaces})
        object.__setattr__(self, "_page_by_id", {p.id: p for p in self.pages})
        object.__setattr__(self, "_container_by_id", {c.id: c for c in self.containers})
        object.__setattr__(self, "_pages_sorted", tuple(sorted(self.pages, key=lambda p: int(p.id))))
        # indexes computed once per Site, so listing 250 pages of a 10,000-page site stays cheap per request
        by_space: dict[str, list[Page]] = {s.key: [] for s in self.spaces}
        position: dict[str, int] = {}
        siblings_seen: dict[tuple[str, str | None], int] = {}
        for page in self._pages_sorted:
            by_space.setdefault(page.space_key, []).append(page)
            sibling_key = (page.space_key, page.parent_id)
            position[page.id] = siblings_seen.get(sibling_key, 0)
            siblings_seen[sibling_key] = position[page.id] + 1
        object.__setattr__(self, "_pages_by_space", by_space)
        object.__setattr__(self, "_position", position)
        if len(self._space_by_key) != len(self.spaces) or len(self._space_by_id) != len(self.spaces):
            raise ValueError("space keys and ids must be unique")
        if len(self._page_by_id) != len(self.pages):
            raise ValueError("page ids must be unique")
        for page in self.pages:
            if page.space_key not in self._space_by_key:
                raise ValueError(f"page {page.id} is in unknown space {page.space_key!r}")
            if page.parent_id is not None and self._parent(page.parent_id) is None:
                raise ValueError(f"page {page.id} has unknown parent {page.parent_id}")
        for container in self.containers:
            if container.parent_id is not None and self._parent(container.parent_id) is None:
                raise ValueError(f"{container.type} {container.id} has unknown parent {container.parent_id}")
        if set(self._container_by_id) & set(self._page_by_id) or len(self._container_by_id) != len(self.containers):
            raise ValueError("container ids must be unique and differ from page ids")
        self._index_extras()

    def _index_extras(self) -> None:
        sort = lambda items: tuple(sorted(items, key=lambda x: int(x.id)))  # noqa: E731
        for name in ("blog_posts", "comments", "attachments"):
            object.__setattr__(self, name, sort(getattr(self, name)))
        extras: dict[str, dict[str, object]] = {
            "blog_post": {b.id: b for b in self.blog_posts},
            "comment": {c.id: c for c in self.comments},
            "attachment": {a.id: a for a in self.attachments},
        }
        object.__setattr__(self, "_extras", extras)
        ids = [*self._page_by_id, *extras["blog_post"], *extras["comment"], *extras["attachment"]]
        if len(set(ids)) != len(ids):
            raise ValueError("content ids (pages, blog posts, comments, attachments) must be unique")
        for post in self.blog_posts:
            if post.space_key not in self._space_by_key:
                raise ValueError(f"blog post {post.id} is in unknown space {post.space_key!r}")
        for child in (*self.comments, *self.attachments):
            if self.container(child.container_id) is None:
                raise ValueError(f"{child.id} is on unknown content {child.container_id}")
        for comment in self.comments:
            parent = extras["comment"].get(comment.parent_id) if comment.parent_id else None
            if comment.parent_id is not None and (parent is None or parent.kind != comment.kind):  # type: ignore[union-attr]
                raise ValueError(f"comment {comment.id} replies to unknown {comment.kind} comment {comment.parent_id}")

    # ---- look-ups -------------------------------------------------------------------------------------------
    def space(self, key: str) -> Space | None:
        return self._space_by_key.get(key)

    def space_by_id(self, space_id: str) -> Space | None:
        return self._space_by_id.get(space_id)

    def page(self, page_id: str) -> Page | None:
        return self._page_by_id.get(page_id)

    def all_pages(self) -> tuple[Page, ...]:
        """Every page, sorted by numeric id (the order both APIs serve)."""
        return self._pages_sorted

    def pages_in(self, space_key: str) -> list[Page]:
        return list(self._pages_by_space.get(space_key, []))

    def children(self, page: Page) -> list[Page]:
        return [p for p in self._pages_sorted if p.parent_id == page.id]

    def ancestors(self, page: Page | Container) -> list[Page | Container]:
        """Parents of `page`, root first (the order v1 `ancestors` and the `pages` record use), containers included."""
        chain: list[Page | Container] = []
        current: Page | Container = page
        while current.parent_id is not None:
            parent = self._parent(current.parent_id)
            if parent is None or parent in chain:
                raise ValueError(f"parent cycle or unknown parent at {current.id}")
            chain.append(parent)
            current = parent
        return list(reversed(chain))

    def v1_ancestors(self, page: Page) -> list[Page | Container]:
        """What v1 `ancestors` list: every ancestor, or only the pages (`v1_container_ancestors` False)."""
        chain = self.ancestors(page)
        return chain if self.v1_container_ancestors else [a for a in chain if isinstance(a, Page)]

    def _parent(self, content_id: str) -> Page | Container | None:
        return self._page_by_id.get(content_id) or self._container_by_id.get(content_id)

    def container_by_id(self, content_id: str) -> Container | None:
        return self._container_by_id.get(content_id)

    def parent_type(self, content_id: str) -> str:
        """REST v2 `parentType` of a child of `content_id`."""
        container = self._container_by_id.get(content_id)
        return container.type if container is not None else "page"

    def position(self, page: Page) -> int:
        """Index among its siblings (v2 `position`)."""
        return self._position[page.id]

    def homepage(self, space_key: str) -> Page | None:
        """The first root page of the space, as Confluence's space homepage."""
        return next((p for p in self._pages_by_space.get(space_key, []) if p.parent_id is None), None)

    def display_name(self, account_id: str) -> str:
        return self.users.get(account_id) or self.inactive_users.get(account_id) or account_id

    def user_ids(self) -> list[str]:
        """Every known account: named users, space and page authors (members of the default group)."""
        ids = set(self.users) | {s.author_id for s in self.spaces} | {p.author_id for p in self.pages}
        return sorted(ids)

    def blog_post(self, post_id: str) -> BlogPost | None:
        return self._extras["blog_post"].get(post_id)  # type: ignore[return-value]

    def comment(self, comment_id: str) -> Comment | None:
        return self._extras["comment"].get(comment_id)  # type: ignore[return-value]

    def attachment(self, attachment_id: str) -> Attachment | None:
        return self._extras["attachment"].get(attachment_id)  # type: ignore[return-value]

    def container(self, content_id: str) -> Page | BlogPost | None:
        """The page or blog post with this id (what comments and attachments hang on)."""
        return self._page_by_id.get(content_id) or self.blog_post(content_id)

    def blog_posts_in(self, space_key: str) -> list[BlogPost]:
        return [b for b in self.blog_posts if b.space_key == space_key]

    def comments_on(self, container_id: str, kind: str) -> list[Comment]:
        return [c for c in self.comments if c.container_id == container_id and c.kind == kind]

    def attachments_on(self, container_id: str) -> list[Attachment]:
        return [a for a in self.attachments if a.container_id == container_id]

    # ---- edits (each returns a new Site) --------------------------------------------------------------------
    def with_page_edited(
        self, page_id: str, *, body: str | None = None, title: str | None = None, when: str | None = None
    ) -> Site:
        """The page with a new body and/or title, version + 1 and `updated_at` = `when` (default: now)."""
        page = self._require(page_id)
        edited = replace(
            page,
            body=page.body if body is None else body,
            title=page.title if title is None else title,
            version=page.version + 1,
            updated_at=when or now_timestamp(),
        )
        return self._replacing(page_id, edited)

    def with_page_status(self, page_id: str, status: str) -> Site:
        """E.g. "trashed" or "archived": the page leaves the default (status=current) listings."""
        page = self._require(page_id)
        return self._replacing(page_id, replace(page, status=status, version=page.version + 1))

    def without_page(self, page_id: str) -> Site:
        """Hard delete; children move up to the deleted page's parent, as Confluence does, and the page's comments
        (with their replies) and attachments go with it."""
        page = self._require(page_id)
        kept = [
            replace(p, parent_id=page.parent_id) if p.parent_id == page_id else p for p in self.pages if p.id != page_id
        ]
        comments = tuple(c for c in self.comments if c.container_id != page_id)
        attachments = tuple(a for a in self.attachments if a.container_id != page_id)
        return replace(self, pages=tuple(kept), comments=comments, attachments=attachments)

    def with_page_added(self, page: Page) -> Site:
        return replace(self, pages=(*self.pages, page))

    def with_space_added(self, space: Space, pages: Iterable[Page] = ()) -> Site:
        return replace(self, spaces=(*self.spaces, space), pages=(*self.pages, *pages))

    def with_access(self, access: SiteAccess) -> Site:
        """Same content, other permissions (a restriction change leaves the page's version alone, as in Confluence)."""
        return replace(self, access=access)

    def next_page_id(self) -> str:
        ids = [int(x.id) for x in (*self.pages, *self.blog_posts, *self.comments, *self.attachments)]
        return str(max(ids, default=100000) + 1)

    def without_comment(self, comment_id: str) -> Site:
        """Hard delete of a comment and its replies."""
        gone = {comment_id} | {c.id for c in self.comments if c.parent_id == comment_id}
        return replace(self, comments=tuple(c for c in self.comments if c.id not in gone))

    def without_attachment(self, attachment_id: str) -> Site:
        return replace(self, attachments=tuple(a for a in self.attachments if a.id != attachment_id))

    def with_attachment_edited(self, attachment_id: str, data: bytes, when: str | None = None) -> Site:
        """A new file for the attachment: version + 1, `updated_at` = `when` (default: now)."""
        kept = []
        for a in self.attachments:
            if a.id == attachment_id:
                a = replace(a, data=data, generate=None, version=a.version + 1, updated_at=when or now_timestamp())
            kept.append(a)
        return replace(self, attachments=tuple(kept))

    def with_comment_edited(self, comment_id: str, body: str, when: str | None = None) -> Site:
        kept = [
            replace(c, body=body, version=c.version + 1, updated_at=when or now_timestamp())
            if c.id == comment_id
            else c
            for c in self.comments
        ]
        return replace(self, comments=tuple(kept))

    def _require(self, page_id: str) -> Page:
        page = self._page_by_id.get(page_id)
        if page is None:
            raise KeyError(f"no page {page_id}")
        return page

    def _replacing(self, page_id: str, new_page: Page) -> Site:
        pages = tuple(new_page if p.id == page_id else p for p in self.pages)
        return replace(self, pages=pages)


def now_timestamp() -> str:
    """Confluence's timestamp format: "YYYY-MM-DDTHH:mm:ss.sssZ"."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + "000Z"


def normalize_timestamp(value: str) -> str:
    """Accept any ISO 8601 timestamp in the site files; serve Confluence's millisecond UTC form."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}Z"


# ---- on-disk sample site ------------------------------------------------------------------------------------
def load_site(path: Path) -> Site:
    """Read a site folder: `users.json`, and per space `<KEY>/space.json`, `<KEY>/pages.json`, `<KEY>/*.xhtml`.

    See integration_tests/sample_site/README.md for the format. Bodies are read as UTF-8 and served byte for byte.
    """
    path = Path(path)
    users_file = path / "users.json"
    users: dict[str, str] = json.loads(users_file.read_text(encoding="utf-8")) if users_file.exists() else {}
    inactive_file = path / "inactive_users.json"  # deactivated accounts: {"<account id>": "<display name>"}
    inactive: dict[str, str] = json.loads(inactive_file.read_text(encoding="utf-8")) if inactive_file.exists() else {}
    emails_file = path / "emails.json"  # {"<account id>": "<address>"}: the people whose address the site shows
    emails: dict[str, str] = json.loads(emails_file.read_text(encoding="utf-8")) if emails_file.exists() else {}
    spaces: list[Space] = []
    pages: list[Page] = []
    posts: list[BlogPost] = []
    comments: list[Comment] = []
    attachments: list[Attachment] = []
    for space_dir in _space_dirs(path):
        meta = json.loads((space_dir / "space.json").read_text(encoding="utf-8"))
        space = Space(
            id=str(meta["id"]),
            key=meta["key"],
            name=meta["name"],
            type=meta.get("type", "global"),
            description=meta.get("description", ""),
            author_id=meta.get("author_id", Space.author_id),
            created_at=normalize_timestamp(meta.get("created_at", DEFAULT_TIMESTAMP)),
        )
        if space.key != space_dir.name:
            raise ValueError(f"{space_dir}: folder name must equal the space key {space.key!r}")
        spaces.append(space)
        index = json.loads((space_dir / "pages.json").read_text(encoding="utf-8"))
        pages.extend(_page_from_index(space, space_dir, entry) for entry in index)
        extra_posts, extra_comments, extra_attachments = load_space_extras(
            space.key, space_dir, space.author_id, normalize_timestamp
        )
        posts += extra_posts
        comments += extra_comments
        attachments += extra_attachments
    return Site(
        tuple(spaces),
        tuple(pages),
        users,
        inactive,
        load_access(path),
        blog_posts=tuple(posts),
        comments=tuple(comments),
        attachments=tuple(attachments),
        emails=emails,
    )


def _space_dirs(path: Path) -> Iterator[Path]:
    for child in sorted(path.iterdir()):
        if child.is_dir() and (child / "space.json").exists():
            yield child


def _page_from_index(space: Space, space_dir: Path, entry: dict[str, object]) -> Page:
    parent_id = None if entry.get("parent_id") is None else str(entry["parent_id"])
    fields = document_fields(entry, space.key, space_dir, space.author_id, normalize_timestamp)
    return Page(**fields, parent_id=parent_id)
