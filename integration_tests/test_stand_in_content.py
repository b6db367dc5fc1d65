"""The stand-in's blog posts, comments, attachments, labels and downloads look like Confluence's (v2, v1, DC).

Every response is validated against Atlassian's published documents; the sample site holds the promised content.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from openapi_core import OpenAPI

from testkit.confluence_stand_in import DEFAULT_AUTH, StandIn, load_site
from testkit.openapi_specs import validate

SAMPLE_SITE = Path(__file__).resolve().parent / "sample_site"
BASIC = (DEFAULT_AUTH.username, DEFAULT_AUTH.api_token)
BEARER = {"Authorization": f"Bearer {DEFAULT_AUTH.bearer_token}"}


V2_STRICT = [
    "/wiki/api/v2/blogposts?body-format=storage",
    "/wiki/api/v2/blogposts?space-id=98305&limit=1",
    "/wiki/api/v2/spaces/98305/blogposts?body-format=storage",
    "/wiki/api/v2/pages/101004/footer-comments?body-format=storage",
    "/wiki/api/v2/blogposts/105002/footer-comments?body-format=storage",
    "/wiki/api/v2/pages/101005/inline-comments?body-format=storage",
    "/wiki/api/v2/pages/101005/inline-comments?resolution-status=resolved",
    "/wiki/api/v2/footer-comments/106001/children?body-format=storage",
    "/wiki/api/v2/attachments?limit=4",
    "/wiki/api/v2/attachments?mediaType=application/pdf",
    "/wiki/api/v2/pages/102002/attachments",
    "/wiki/api/v2/blogposts/105001/attachments",
    "/wiki/api/v2/pages/101004/labels",
    "/wiki/api/v2/blogposts/105001/labels",
]
V2_LENIENT = [
    # the site-wide comment models declare `properties` etc. as open objects: lenient validation
    "/wiki/api/v2/footer-comments?body-format=storage",
    "/wiki/api/v2/inline-comments?body-format=storage&limit=1",
    "/wiki/api/v2/blogposts/105001?body-format=storage",
    "/wiki/api/v2/attachments/att107101",
]


@pytest.mark.parametrize("path", V2_STRICT)
def test_v2_content_lists_match_the_openapi_document_exactly(
    sample: StandIn, specs: dict[str, OpenAPI], path: str
) -> None:
    validate(specs["v2-strict"], requests.get(sample.url + path, auth=BASIC, timeout=5))


@pytest.mark.parametrize("path", V2_LENIENT)
def test_v2_content_responses_match_the_openapi_document(sample: StandIn, specs: dict[str, OpenAPI], path: str) -> None:
    validate(specs["v2"], requests.get(sample.url + path, auth=BASIC, timeout=5))


V1_PATHS = [
    "/rest/api/content?type=blogpost&spaceKey=ENG&expand=body.storage,version,space,metadata.labels",
    "/rest/api/content?type=page&spaceKey=ENG&expand=metadata.labels&limit=5",
    "/rest/api/content/105001?expand=body.storage,version",
    "/rest/api/content/101004/child/comment?depth=all&expand=body.storage,version,container,ancestors",
    "/rest/api/content/101005/child/comment?location=inline&expand=body.storage",
    "/rest/api/content/102002/child/attachment?expand=version,container",
    "/rest/api/content/101004/label",
    '/rest/api/content/search?cql=type=comment and space in ("ENG","OPS")&expand=body.storage,version,container,space,ancestors&limit=2',
    "/rest/api/content/search?cql=type=attachment&expand=version,container,space",
]


@pytest.mark.parametrize("path", V1_PATHS)
def test_v1_cloud_and_data_center_content_match_the_swagger_document(
    sample: StandIn, specs: dict[str, OpenAPI], path: str
) -> None:
    validate(specs["v1"], requests.get(f"{sample.url}/wiki{path}", auth=BASIC, timeout=5))
    validate(specs["v1-dc"], requests.get(f"{sample.dc_url}{path}", headers=BEARER, timeout=5))


def _all_v2(sample: StandIn, path: str) -> list[dict]:
    url, results = f"{sample.url}{path}", []
    while url:
        body = requests.get(url, auth=BASIC, timeout=5).json()
        results += body["results"]
        url = sample.url + body["_links"]["next"] if "next" in body["_links"] else ""
    return results


def test_v2_comment_threads_replies_and_resolution(sample: StandIn) -> None:
    footer = {c["id"]: c for c in _all_v2(sample, "/wiki/api/v2/footer-comments?limit=1&body-format=storage")}
    assert footer["106002"]["parentCommentId"] == "106001", "the reply does not name its parent comment"
    assert footer["106005"]["blogPostId"] == "105002", "a blog post's comment lacks blogPostId"
    inline = _all_v2(sample, "/wiki/api/v2/pages/101005/inline-comments")
    by_id = {c["id"]: c for c in inline}
    assert by_id["106003"]["resolutionStatus"] == "resolved", "the resolved inline comment is not resolved"
    assert by_id["106003"]["properties"]["inlineOriginalSelection"] == "promote the replica", "highlight lost"
    on_page = [c["id"] for c in _all_v2(sample, "/wiki/api/v2/pages/101004/footer-comments")]
    assert on_page == ["106001"], f"a container's list must hold top-level comments only, got {on_page}"


def test_attachment_downloads_match_their_listing_and_are_counted(sample: StandIn) -> None:
    sample.stats.reset()
    listed = _all_v2(sample, "/wiki/api/v2/attachments?limit=5")
    assert len(listed) == len(sample.site.attachments), "the site-wide attachment list lost or duplicated files"
    total = 0
    for item in listed:
        response = requests.get(f"{sample.url}/wiki{item['downloadLink']}", auth=BASIC, timeout=30)
        assert response.status_code == 200, f"download of {item['title']} answered {response.status_code}"
        assert len(response.content) == item["fileSize"], f"{item['title']}: fileSize disagrees with the bytes"
        total += len(response.content)
    snapshot = sample.stats.snapshot()
    assert snapshot["download_bytes"] == total, f"stats counted {snapshot['download_bytes']} bytes, sent {total}"
    dc = requests.get(f"{sample.dc_url}/download/attachments/102002/vpn-quick-reference.pdf", headers=BEARER, timeout=5)
    assert dc.status_code == 200 and dc.content.startswith(b"%PDF"), "the Data Center download path failed"
    anonymous = requests.get(f"{sample.url}/wiki{listed[0]['downloadLink']}", timeout=5)
    assert anonymous.status_code == 401, "a download without credentials was served"


def test_comment_and_blog_links_open_in_the_web_ui(sample: StandIn) -> None:
    footer = _all_v2(sample, "/wiki/api/v2/footer-comments")
    link = next(c for c in footer if c["id"] == "106005")["_links"]["webui"]
    page = requests.get(f"{sample.url}/wiki{link}", timeout=5)
    assert page.status_code == 200 and "cache stampede" in page.text, f"comment link {link} does not open its post"


def test_sample_site_has_every_kind_of_content() -> None:
    site = load_site(SAMPLE_SITE)
    media = {a.media_type for a in site.attachments}
    for wanted in ("application/pdf", "text/csv", "text/plain", "text/markdown", "text/html", "application/json"):
        assert wanted in media, f"sample site has no {wanted} attachment"
    for suffix in (".docx", ".pptx", ".xlsx"):
        assert any(a.title.endswith(suffix) for a in site.attachments), f"sample site has no {suffix} attachment"
    titles = {a.title for a in site.attachments}
    assert {"old-architecture-diagram.pdf", "totally-normal-handbook.docx"} <= titles, "hostile files missing"
    assert any(c.parent_id for c in site.comments), "no reply in the sample comments"
    assert any(c.kind == "inline" and c.resolved for c in site.comments), "no resolved inline comment"
    assert site.blog_posts, "no blog posts in the sample site"


def test_deleting_and_editing_content_between_syncs(sample: StandIn) -> None:
    original = sample.site
    try:
        sample.site = original.without_comment("106001").with_attachment_edited("107104", b"New printer: PR-3-WEST")
        footer = {c["id"] for c in _all_v2(sample, "/wiki/api/v2/footer-comments")}
        assert not footer & {"106001", "106002"}, "a deleted comment (or its reply) is still listed"
        edited = requests.get(f"{sample.url}/wiki/api/v2/attachments/att107104", auth=BASIC, timeout=5).json()
        assert edited["version"]["number"] == 2 and edited["fileSize"] == 22, f"edit not visible: {edited['version']}"
    finally:
        sample.site = original
