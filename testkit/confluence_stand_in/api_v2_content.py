"""Confluence Cloud REST v2 for content beside pages: blog posts, footer/inline comments, attachments, labels.

Shapes follow openapi-v2.v3.json (BlogPostBulk, FooterCommentModel, InlineCommentModel, PageCommentModel,
PageInlineCommentModel, ChildrenCommentModel, AttachmentBulk, Label). As Confluence does: the site-wide comment lists
carry `pageId`/`blogPostId` and `parentCommentId`; a container's own comment lists hold top-level comments only (replies
come from `/{kind}-comments/{id}/children`); the highlighted text of an inline comment is in `properties` only on the
container's and the children's lists.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from .api_v2 import _body_format, _list_result, _paginate, _space_by_numeric_id
from .common import ApiResult, BadRequest, Query, query_value, query_values, title_slug, v2_error
from .content import Attachment, BlogPost, Comment
from .site import Page, Site


def handle_v2_content(site: Site, subpath: str, query: Query, root_url: str) -> ApiResult | None:
    """The answer for a path this module serves, or None (then api_v2 routes it)."""
    try:
        return _route(site, subpath, query, f"{root_url}/wiki")
    except BadRequest as error:
        return v2_error(400, "INVALID_REQUEST_PARAMETER", str(error))


def _route(site: Site, subpath: str, query: Query, base: str) -> ApiResult | None:
    if subpath == "/blogposts":
        space_ids = set(query_values(query, "space-id"))
        keys = {s.key for s in site.spaces if s.id in space_ids}
        posts = [b for b in site.blog_posts if not space_ids or b.space_key in keys]
        return _posts(site, subpath, query, base, posts)
    if match := re.fullmatch(r"/spaces/([^/]+)/blogposts", subpath):
        space = _space_by_numeric_id(site, match.group(1))
        if space is None:
            return v2_error(404, "NOT_FOUND", "Space not found")
        return _posts(site, subpath, query, base, site.blog_posts_in(space.key))
    if match := re.fullmatch(r"/blogposts/(\d+)", subpath):
        post = site.blog_post(match.group(1))
        if post is None:
            return v2_error(404, "NOT_FOUND", "Blog post not found")
        body = blog_post_v2(site, post, _body_format(query))
        body["_links"]["base"] = base  # type: ignore[index]
        return ApiResult(200, body)
    if match := re.fullmatch(r"/(footer|inline)-comments", subpath):
        comments = [c for c in site.comments if c.kind == match.group(1) and c.status == "current"]
        return _comments(site, subpath, query, base, comments, "site")
    if match := re.fullmatch(r"/(footer|inline)-comments/(\d+)/children", subpath):
        parent = site.comment(match.group(2))
        if parent is None or parent.kind != match.group(1):
            return v2_error(404, "NOT_FOUND", "Comment not found")
        replies = [c for c in site.comments if c.parent_id == parent.id]
        return _comments(site, subpath, query, base, replies, "children")
    if subpath == "/attachments":
        return _attachments(site, subpath, query, base, list(site.attachments))
    if match := re.fullmatch(r"/attachments/att(\d+)", subpath):
        attachment = site.attachment(match.group(1))
        if attachment is None:
            return v2_error(404, "NOT_FOUND", "Attachment not found")
        return ApiResult(200, attachment_v2(site, attachment))
    if match := re.fullmatch(r"/(pages|blogposts)/(\d+)/(footer-comments|inline-comments|attachments|labels)", subpath):
        container = site.page(match.group(2)) if match.group(1) == "pages" else site.blog_post(match.group(2))
        if container is None:
            return v2_error(404, "NOT_FOUND", "Content not found")
        return _of_container(site, container, match.group(3), subpath, query, base)
    return None


def _of_container(
    site: Site, container: Page | BlogPost, listing: str, subpath: str, query: Query, base: str
) -> ApiResult:
    """A page's or blog post's own comments (top-level only), attachments or labels."""
    if listing == "attachments":
        return _attachments(site, subpath, query, base, site.attachments_on(container.id))
    if listing == "labels":
        labels = [_Label(container.id, i, name) for i, name in enumerate(container.labels)]
        chunk, next_link = _paginate(labels, subpath, query)  # type: ignore[type-var]
        return _list_result([{"id": l.id, "name": l.name, "prefix": "global"} for l in chunk], next_link, base)  # noqa: E741
    kind = listing.removesuffix("-comments")
    comments = [c for c in site.comments_on(container.id, kind) if c.parent_id is None]
    if kind == "inline":
        wanted = set(query_values(query, "resolution-status")) or {"open", "reopened", "resolved", "dangling"}
        comments = [c for c in comments if ("resolved" if c.resolved else "open") in wanted]
    return _comments(site, subpath, query, base, comments, "container")


class _Label:
    """A label as a pageable item: ids are stable per (container, position)."""

    def __init__(self, container_id: str, position: int, name: str) -> None:
        self.id = str(int(container_id) * 1000 + position)
        self.name = name


def _posts(site: Site, subpath: str, query: Query, base: str, posts: list[BlogPost]) -> ApiResult:
    statuses = set(query_values(query, "status")) or {"current"}
    title = query_value(query, "title")
    posts = [p for p in posts if p.status in statuses and (title is None or p.title == title)]
    body_format = _body_format(query)
    chunk, next_link = _paginate(posts, subpath, query)  # type: ignore[type-var]
    return _list_result([blog_post_v2(site, p, body_format) for p in chunk], next_link, base)


def _comments(site: Site, subpath: str, query: Query, base: str, comments: list[Comment], listing: str) -> ApiResult:
    body_format = _body_format(query)
    chunk, next_link = _paginate(comments, subpath, query)  # type: ignore[type-var]
    return _list_result([comment_v2(site, c, body_format, listing) for c in chunk], next_link, base)


def _attachments(site: Site, subpath: str, query: Query, base: str, attachments: list[Attachment]) -> ApiResult:
    media_type = query_value(query, "mediaType")
    filename = query_value(query, "filename")
    kept = [
        a
        for a in attachments
        if a.status == "current"
        and (media_type is None or a.media_type == media_type)
        and (filename is None or a.title == filename)
    ]
    chunk, next_link = _paginate(kept, subpath, query)  # type: ignore[type-var]
    return _list_result([attachment_v2(site, a) for a in chunk], next_link, base)


def container_webui(site: Site, container: Page | BlogPost) -> str:
    space = site.space(container.space_key)
    assert space is not None
    kind = "pages" if isinstance(container, Page) else "blog"
    return f"/spaces/{space.key}/{kind}/{container.id}/{title_slug(container.title)}"


def _version(number: int, when: str, author_id: str) -> dict[str, object]:
    return {"createdAt": when, "message": "", "number": number, "minorEdit": False, "authorId": author_id}


def blog_post_v2(site: Site, post: BlogPost, body_format: str | None) -> dict[str, object]:
    space = site.space(post.space_key)
    assert space is not None
    body: dict[str, object] = {}
    if body_format == "storage":
        body = {"storage": {"representation": "storage", "value": post.body}}
    elif body_format is not None:
        body = {body_format: {"representation": body_format, "value": ""}}
    return {
        "id": post.id,
        "status": post.status,
        "title": post.title,
        "spaceId": space.id,
        "authorId": post.author_id,
        "createdAt": post.created_at,
        "version": _version(post.version, post.updated_at, post.author_id),
        "body": body,
        "_links": {
            "webui": container_webui(site, post),
            "editui": f"/pages/resumedraft.action?draftId={post.id}",
            "tinyui": f"/x/{post.id}",
        },
    }


def comment_webui(site: Site, comment: Comment) -> str:
    """Opens the container scrolled to the comment, as Confluence's comment links do."""
    container = site.container(comment.container_id)
    assert container is not None
    anchor = "comment" if comment.kind == "footer" else "inline-comment"
    return f"{container_webui(site, container)}?focusedCommentId={comment.id}#{anchor}-{comment.id}"


def comment_v2(site: Site, comment: Comment, body_format: str | None, listing: str) -> dict[str, object]:
    """`listing`: "site" (FooterCommentModel/InlineCommentModel), "container" (Page*CommentModel) or "children"."""
    container = site.container(comment.container_id)
    on_page = isinstance(container, Page)
    out: dict[str, object] = {"id": comment.id, "status": comment.status, "title": f"Re: {container.title}"}  # type: ignore[union-attr]
    if listing in ("site", "container"):
        out["pageId" if on_page else "blogPostId"] = comment.container_id
    if listing in ("site", "children") and comment.parent_id is not None:
        out["parentCommentId"] = comment.parent_id
    out["version"] = _version(comment.version, comment.updated_at, comment.author_id)
    if body_format == "storage":
        out["body"] = {"storage": {"representation": "storage", "value": comment.body}}
    elif body_format is not None:
        out["body"] = {body_format: {"representation": body_format, "value": ""}}
    else:
        out["body"] = {}
    if comment.kind == "inline":
        out["resolutionStatus"] = "resolved" if comment.resolved else "open"
        if listing != "site":  # only these models document the inline properties
            out["properties"] = {
                "inlineMarkerRef": f"marker-{comment.id}",
                "inlineOriginalSelection": comment.selection,
            }
    out["_links"] = {"webui": comment_webui(site, comment)}
    return out


def download_path(attachment: Attachment) -> str:
    """Relative to the site's base (`/wiki` on Cloud, the context path on Data Center)."""
    return (
        f"/download/attachments/{attachment.container_id}/{quote(attachment.title)}?version={attachment.version}&api=v2"
    )


def attachment_webui(site: Site, attachment: Attachment) -> str:
    container = site.container(attachment.container_id)
    assert container is not None
    return f"{container_webui(site, container)}?preview=/{attachment.container_id}/{attachment.api_id}/{quote(attachment.title)}"


def attachment_v2(site: Site, attachment: Attachment) -> dict[str, object]:
    container = site.container(attachment.container_id)
    on_page = isinstance(container, Page)
    webui = attachment_webui(site, attachment)
    return {
        "id": attachment.api_id,
        "status": attachment.status,
        "title": attachment.title,
        "createdAt": attachment.created_at,
        ("pageId" if on_page else "blogPostId"): attachment.container_id,
        "mediaType": attachment.media_type,
        "mediaTypeDescription": attachment.media_type.rsplit("/", 1)[-1].upper(),
        "comment": attachment.comment,
        "fileId": f"file-{attachment.id}",
        "fileSize": len(attachment.content),
        "webuiLink": webui,
        "downloadLink": download_path(attachment),
        "version": _version(attachment.version, attachment.updated_at, attachment.author_id),
        "_links": {"webui": webui, "download": download_path(attachment)},
    }
