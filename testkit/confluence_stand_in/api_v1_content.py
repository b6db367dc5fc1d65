"""Confluence REST v1 (Cloud and Data Center) for content beside pages: blog posts, comments, attachments, labels.

Served as Confluence does: `/content?type=blogpost`, `/content/{id}/child/comment` (`depth=all`, `location`),
`/content/{id}/child/attachment`, `/content/{id}/label`, `expand=metadata.labels` on pages and blog posts, and
`/content/search?cql=...` for `type = comment|attachment|blogpost`, optionally `and space in ("A","B")`, paged with
start/limit as Data Center pages it. Shapes follow swagger-v1-cloud-2021-11.json (Content, ContentArray, LabelArray).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from .api_v1 import _offset_page, _start_and_limit, content_v1, expansions_of, space_v1
from .api_v2_content import attachment_webui, comment_webui, container_webui, download_path
from .common import ApiResult, BadRequest, Query, query_value, query_values, v1_error
from .content import Attachment, BlogPost, Comment
from .site import Page, Site
from .v1_shapes import Links, content_restrictions_v1, label_array, user_v1

_CQL = re.compile(
    r"""^\s*type\s*=\s*"?(?P<type>page|blogpost|comment|attachment)"?"""
    r"""(?:\s+and\s+space\s*(?:=\s*"?(?P<one>[^"\s)]+)"?|in\s*\((?P<many>[^)]*)\)))?\s*$""",
    re.IGNORECASE,
)


def handle_v1_content(site: Site, subpath: str, query: Query, links: Links) -> ApiResult | None:
    """The answer for a path (or query) this module serves, or None (then api_v1 routes it)."""
    try:
        return _route(site, subpath, query, links)
    except BadRequest as error:
        return v1_error(400, str(error))


def _route(site: Site, subpath: str, query: Query, links: Links) -> ApiResult | None:
    if subpath == "/content" and query_value(query, "type") == "blogpost":
        keys = set(query_values(query, "spaceKey"))
        posts = [b for b in site.blog_posts if (not keys or b.space_key in keys) and b.status == "current"]
        return _window(site, "/content", query, links, posts)
    if subpath == "/content/search":
        return _search(site, query, links)
    if match := re.fullmatch(r"/content/(\d+)", subpath):
        post = site.blog_post(match.group(1))
        return None if post is None else ApiResult(200, content_item_v1(site, post, expansions_of(query), links))
    if match := re.fullmatch(r"/content/(\d+)/child/comment", subpath):
        container = site.container(match.group(1))
        if container is None:
            return v1_error(404, f"No content found with id: ContentId{{id={match.group(1)}}}")
        locations = set(query_values(query, "location")) or {"footer", "inline"}
        all_depths = query_value(query, "depth") == "all"
        comments = [
            c
            for c in site.comments
            if c.container_id == container.id and c.kind in locations and (all_depths or c.parent_id is None)
        ]
        return _window(site, f"/content/{container.id}/child/comment", query, links, comments)
    if match := re.fullmatch(r"/content/(\d+)/child/attachment", subpath):
        container = site.container(match.group(1))
        if container is None:
            return v1_error(404, f"No content found with id: ContentId{{id={match.group(1)}}}")
        return _window(
            site, f"/content/{container.id}/child/attachment", query, links, site.attachments_on(container.id)
        )
    if match := re.fullmatch(r"/content/(\d+)/label", subpath):
        container = site.container(match.group(1))
        if container is None:
            return v1_error(404, f"No content found with id: ContentId{{id={match.group(1)}}}")
        return ApiResult(200, label_array(container))
    return None


def _search(site: Site, query: Query, links: Links) -> ApiResult | None:
    cql = query_value(query, "cql")
    match = _CQL.match(cql or "")
    if match is None or match.group("type").lower() == "page":
        return None  # pages (and richer CQL) are the access module's search
    spaces = {match.group("one")} if match.group("one") else set()
    if match.group("many"):
        spaces = {s.strip().strip('"') for s in match.group("many").split(",") if s.strip()}
    kind = match.group("type").lower()
    items: list[object] = {
        "blogpost": [b for b in site.blog_posts if b.status == "current"],
        "comment": [c for c in site.comments if c.status == "current"],
        "attachment": [a for a in site.attachments if a.status == "current"],
    }[kind]
    if spaces:
        items = [i for i in items if _space_key(site, i) in spaces]
    return _window(site, "/content/search", query, links, items)


def _space_key(site: Site, item: object) -> str:
    if isinstance(item, Page | BlogPost):
        return item.space_key
    container = site.container(item.container_id)  # type: ignore[attr-defined]
    return container.space_key if container is not None else ""


def _window(site: Site, subpath: str, query: Query, links: Links, items: list) -> ApiResult:  # type: ignore[type-arg]
    start, limit = _start_and_limit(query)
    expansions = expansions_of(query)
    window = [content_item_v1(site, item, expansions, links) for item in items[start : start + limit]]
    return _offset_page(subpath, query, links, window, total=len(items), start=start, limit=limit)


def content_item_v1(site: Site, item: object, expansions: set[str], links: Links) -> dict[str, object]:
    if isinstance(item, Page):
        return content_v1(site, item, expansions, links)
    if isinstance(item, BlogPost):
        return _blog_post(site, item, expansions, links)
    if isinstance(item, Comment):
        return _comment(site, item, expansions, links)
    assert isinstance(item, Attachment)
    return _attachment(site, item, expansions, links)


def _webui(site: Site, container: Page | BlogPost, links: Links) -> str:
    if links.flavor == "dc":
        return f"/pages/viewpage.action?pageId={container.id}"
    return container_webui(site, container)


def _version(site: Site, number: int, when: str, author_id: str, content_id: str, links: Links) -> dict[str, object]:
    return {
        "by": user_v1(site, author_id, links),
        "when": when,
        "friendlyWhen": when[:10],
        "message": "",
        "number": number,
        "minorEdit": False,
        "contentTypeModified": False,
        "_expandable": {"collaborators": "", "content": f"/rest/api/content/{content_id}"},
        "_links": {"self": f"{links.base}/rest/api/content/{content_id}/version/{number}"},
    }


def _container_ref(site: Site, container: Page | BlogPost, links: Links) -> dict[str, object]:
    kind = "page" if isinstance(container, Page) else "blogpost"
    return {
        "id": container.id,
        "type": kind,
        "status": container.status,
        "title": container.title,
        "_links": {"webui": _webui(site, container, links), "self": f"{links.base}/rest/api/content/{container.id}"},
    }


def _head(
    site: Site,
    item: BlogPost | Comment | Attachment,
    kind: str,
    content_id: str,
    title: str,
    space_key: str,
    expansions: set[str],
    links: Links,
) -> dict[str, object]:
    """What a blog post, a comment and an attachment start with: id, type, status and title, then their space,
    version and history when expanded (the same Content fields, filled from the same item fields)."""
    content: dict[str, object] = {"id": content_id, "type": kind, "status": item.status, "title": title}
    if "space" in expansions:
        space = site.space(space_key)
        assert space is not None
        content["space"] = space_v1(space, links)
    if "version" in expansions:
        content["version"] = _version(site, item.version, item.updated_at, item.author_id, content_id, links)
    if "history" in expansions:
        content["history"] = {
            "latest": True,
            "createdBy": user_v1(site, item.author_id, links),
            "createdDate": item.created_at,
        }
    return content


def _blog_post(site: Site, post: BlogPost, expansions: set[str], links: Links) -> dict[str, object]:
    self_link = f"{links.base}/rest/api/content/{post.id}"
    content = _head(site, post, "blogpost", post.id, post.title, post.space_key, expansions, links)
    if "body" in expansions:
        content["body"] = _storage(post.body, expansions, self_link)
    if "metadata" in expansions:
        content["metadata"] = {"labels": label_array(post)} if "metadata.labels" in expansions else {}
    if "restrictions" in expansions:  # a blog post's own read restriction (site.access, keyed by id like pages)
        content["restrictions"] = content_restrictions_v1(site, post, expansions, links)  # type: ignore[arg-type]
    content["_links"] = {"webui": _webui(site, post, links), "tinyui": f"/x/{post.id}", "self": self_link}
    return content


def _comment(site: Site, comment: Comment, expansions: set[str], links: Links) -> dict[str, object]:
    container = site.container(comment.container_id)
    assert container is not None
    self_link = f"{links.base}/rest/api/content/{comment.id}"
    title = f"Re: {container.title}"
    content = _head(site, comment, "comment", comment.id, title, container.space_key, expansions, links)
    if "ancestors" in expansions:
        parent = site.comment(comment.parent_id) if comment.parent_id else None
        content["ancestors"] = [] if parent is None else [{"id": parent.id, "type": "comment", "status": parent.status}]
    if "container" in expansions:
        content["container"] = _container_ref(site, container, links)
    if "body" in expansions:
        content["body"] = _storage(comment.body, expansions, self_link)
    extensions: dict[str, object] = {"location": comment.kind}
    if comment.kind == "inline":
        extensions["inlineProperties"] = {"originalSelection": comment.selection, "markerRef": f"marker-{comment.id}"}
        extensions["resolution"] = {"status": "resolved" if comment.resolved else "open"}
    content["extensions"] = extensions
    if links.flavor == "dc":
        webui = f"/pages/viewpage.action?pageId={container.id}&focusedCommentId={comment.id}#comment-{comment.id}"
    else:
        webui = comment_webui(site, comment)
    content["_links"] = {"webui": webui, "self": self_link}
    return content


def _attachment(site: Site, attachment: Attachment, expansions: set[str], links: Links) -> dict[str, object]:
    container = site.container(attachment.container_id)
    assert container is not None
    self_link = f"{links.base}/rest/api/content/{attachment.api_id}"
    content = _head(
        site, attachment, "attachment", attachment.api_id, attachment.title, container.space_key, expansions, links
    )
    if "container" in expansions:
        content["container"] = _container_ref(site, container, links)
    content["metadata"] = {"mediaType": attachment.media_type, "comment": attachment.comment}
    content["extensions"] = {
        "mediaType": attachment.media_type,
        "fileSize": len(attachment.content),
        "comment": attachment.comment,
    }
    if links.flavor == "dc":
        webui = f"/pages/viewpageattachments.action?pageId={container.id}&preview={quote('/' + container.id + '/' + attachment.id + '/' + attachment.title)}"
    else:
        webui = attachment_webui(site, attachment)
    content["_links"] = {"webui": webui, "download": download_path(attachment), "self": self_link}
    return content


def _storage(value: str, expansions: set[str], self_link: str) -> dict[str, object]:
    body: dict[str, object] = {}
    if "body.storage" in expansions:
        body["storage"] = {"value": value, "representation": "storage", "_expandable": {"content": self_link}}
    return body
