"""Children (comments, attachments) take their container's visibility, access and space, and carry its title/link."""

from __future__ import annotations

from destination_vectors.write.containers import container_of, joined_child

PAGE = {
    "id": "101004",
    "title": "Rollback",
    "webui_url": "https://w/wiki/spaces/ENG/pages/101004/Rollback",
    "visibility": "internal",
    "readers": ["group:eng"],
    "space_key": "ENG",
    "body_storage": "<p>x</p>",
}


def test_comment_inherits_container_access_and_carries_its_title_and_link() -> None:
    container = container_of("pages", PAGE)
    assert container is not None
    comment = {"id": "9", "container_id": "101004", "kind": "footer", "body_storage": "<p>purge</p>",
               "visibility": "public", "readers": ["anonymous"], "webui_url": "https://w/c9"}  # fmt: skip
    joined = joined_child("comments", comment, container)
    assert joined["visibility"] == "internal", "a comment kept its own visibility instead of its page's"
    assert joined["readers"] == ["group:eng"], "a comment kept its own readers instead of its page's"
    assert (joined["container_title"], joined["container_url"]) == ("Rollback", PAGE["webui_url"]), joined
    assert joined["title"] == "Rollback › comment" and joined["webui_url"] == "https://w/c9", joined


def test_attachment_takes_its_text_and_a_container_without_visibility_is_internal() -> None:
    container = container_of("blog_posts", {"id": "5", "title": "News", "webui_url": "u"})
    assert container is not None
    joined = joined_child("attachments", {"id": "att1", "title": "a.pdf", "container_id": "5"}, container, "hello")
    assert joined["text"] == "hello" and joined["title"] == "News › a.pdf", joined
    assert joined["visibility"] == "internal", "a child of a container without visibility must be internal"


def test_record_without_id_is_no_container() -> None:
    assert container_of("pages", {"title": "x"}) is None, "a record without id became a container"
