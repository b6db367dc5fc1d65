"""Both paging schemes (no duplicates, no gaps), the pages record shape and absolute links, Cloud and Data Center."""

from collections import Counter

import pytest

from unit_tests.source.conftest import cloud_config, dc_config, page_records, run_read
from unit_tests.source.fake_confluence import FakeConfluence, FakePage

CONTRACT_FIELDS = {
    "id",
    "title",
    "status",
    "space_id",
    "space_key",
    "space_name",
    "space_type",
    "visibility",
    "ancestors",
    "author_id",
    "created_at",
    "updated_at",
    "version",
    "body_storage",
    "webui",
    "webui_url",
}  # parent_id too, but the CDK's serializer drops top-level nulls, so root pages come without it


def _site(fake: FakeConfluence) -> None:
    fake.add_space("ENG", n_pages=23)
    fake.add_space("DOCS", n_pages=9)
    fake.add_space("EMPTY", n_pages=0)
    fake.add_space("~alice", name="Alice", type="personal", n_pages=4)


@pytest.mark.parametrize("page_size", [1, 7, 250])
@pytest.mark.parametrize("deployment", ["cloud", "data_center"])
def test_every_page_exactly_once(fake: FakeConfluence, page_size: int, deployment: str) -> None:
    _site(fake)
    config = (cloud_config if deployment == "cloud" else dc_config)(fake, page_size=page_size)
    output = run_read(config)
    ids = [record["id"] for record in page_records(output)]
    duplicates = [page_id for page_id, count in Counter(ids).items() if count > 1]
    assert not output.errors, f"{deployment} read failed: {output.errors}"
    assert not duplicates, f"{deployment} page_size={page_size}: duplicated pages {duplicates[:5]}"
    assert sorted(ids) == sorted(p.id for p in fake.pages), f"{deployment} page_size={page_size}: pages missing"


def test_v1_paging_survives_a_server_capping_limit(fake: FakeConfluence) -> None:
    _site(fake)
    fake.max_v1_limit = 5  # Data Center caps `limit` when bodies are expanded
    ids = [record["id"] for record in page_records(run_read(dc_config(fake, page_size=100)))]
    assert sorted(ids) == sorted(p.id for p in fake.pages), "pages lost when the server answered fewer than limit"


def test_cloud_follows_next_link_with_cursor_untouched_and_limit_unchanged(fake: FakeConfluence) -> None:
    fake.add_space("ENG", n_pages=10)
    run_read(cloud_config(fake, page_size=3))
    # the stream's requests (with bodies); access reading lists the page tree apart, without bodies
    page_requests = [r for r in fake.requests if r.path.endswith("/pages") and "body-format" in r.qs]
    assert len(page_requests) == 4, f"expected 4 requests for 10 pages at limit 3, got {len(page_requests)}"
    for request in page_requests:
        assert request.qs.get("limit") == ["3"], f"limit changed mid-pagination: {request.url}"
        assert request.qs.get("body-format") == ["storage"], f"body-format missing: {request.url}"
        assert "/wiki/wiki" not in request.url, f"/wiki/wiki built: {request.url}"
    # the fake asserts server-side that each cursor (which holds '+', '/', '=' and a literal '%2B') arrives unchanged
    cursors = [r.url.split("cursor=")[1].split("&")[0] for r in page_requests[1:]]
    assert cursors == ["c3%2B%2F%3D%252B", "c6%2B%2F%3D%252B", "c9%2B%2F%3D%252B"], f"cursors re-encoded: {cursors}"


def test_page_size_is_sent_as_limit(fake: FakeConfluence) -> None:
    fake.add_space("ENG", n_pages=2)
    run_read(dc_config(fake, page_size=42))
    content = [
        r for r in fake.requests if r.path.endswith("/rest/api/content") and "restrictions" not in r.qs["expand"][0]
    ]  # the access listing (restrictions expanded) pages by Confluence's own cap of 100
    assert content and all(r.qs["limit"] == ["42"] for r in content), "page_size not sent as limit"
    assert content[0].qs["expand"] == ["body.storage,version,space,ancestors,history"], "v1 expand wrong"


def test_cloud_record_shape_and_links(fake: FakeConfluence) -> None:
    fake.add_space("ENG", name="Engineering", n_pages=3)
    records = {r["id"]: r for r in page_records(run_read(cloud_config(fake)))}
    child = records[fake.pages[1].id]
    assert CONTRACT_FIELDS <= set(child) | {"parent_id"}, f"fields missing: {CONTRACT_FIELDS - set(child)}"
    assert child["space_key"] == "ENG" and child["space_name"] == "Engineering", "space fields not from parent space"
    assert child["space_type"] == "global" and child["space_id"] == fake.spaces[0].id, "space type/id wrong"
    assert child["parent_id"] == fake.pages[0].id, "parent_id wrong"
    assert child["version"] == 1 and isinstance(child["version"], int), "version must be an int"
    assert child["updated_at"] == "2024-02-01T00:00:00.000Z", "updated_at must be the version's date"
    assert child["webui_url"] == f"https://acme.atlassian.net/wiki/spaces/ENG/pages/{child['id']}/ENG+page+1", (
        "Cloud webui_url"
    )
    assert child["body_storage"] == "<p>x</p>", "body not copied"


def test_data_center_record_shape_ancestors_and_links(fake: FakeConfluence) -> None:
    fake.add_space("ENG", name="Engineering", n_pages=5)
    records = {r["id"]: r for r in page_records(run_read(dc_config(fake)))}
    deep = records[fake.pages[4].id]
    expected_titles = [a.title for a in fake._ancestors(fake.pages[4])]
    assert expected_titles and deep["ancestors"] == expected_titles, (
        f"ancestors not root-first titles: {deep['ancestors']}"
    )
    assert deep["parent_id"] == fake.pages[4].parent_id, "parent_id must be the last ancestor"
    assert deep["author_id"] == "u-1" and deep["created_at"] == "2024-01-01T00:00:00.000Z", "history fields"
    assert deep["space_id"] == fake.spaces[0].id and isinstance(deep["id"], str), "ids must be strings"
    assert deep["webui_url"] == f"https://acme.atlassian.net/confluence/pages/viewpage.action?pageId={deep['id']}", (
        "DC webui_url lost the context path"
    )


@pytest.mark.parametrize("deployment", ["cloud", "data_center"])
def test_page_without_body_is_empty_string_and_counted(fake: FakeConfluence, deployment: str) -> None:
    fake.add_space("ENG", n_pages=2)
    fake.add_space("NOB", n_pages=3, body=None)
    output = run_read((cloud_config if deployment == "cloud" else dc_config)(fake))
    bodies = {r["id"]: r["body_storage"] for r in page_records(output)}
    assert [bodies[p.id] for p in fake.pages if p.space_key == "NOB"] == ["", "", ""], "missing body not emitted as ''"
    summary = [m.log.message for m in output.logs if m.log.message.startswith("Sync summary")]
    assert summary and "3 pages had an empty body" in summary[0], f"summary does not count empty bodies: {summary}"


def test_body_is_copied_byte_for_byte_even_when_it_looks_like_a_literal(fake: FakeConfluence) -> None:
    fake.add_space("ENG", n_pages=0)
    bodies = ["123", "[1, 2]", "{'a': 1}", "None", "  <p>&amp; &#8212; ü</p>\n", "<![CDATA[x]]>"]
    for index, body in enumerate(bodies):
        fake.pages.append(FakePage(id=str(70000 + index), space_key="ENG", title=f"t{index}", body=body))
    got = {r["id"]: r["body_storage"] for r in page_records(run_read(cloud_config(fake)))}
    assert [got[str(70000 + i)] for i in range(len(bodies))] == bodies, "a body was altered in transit"


def test_root_pages_come_without_parent_id_and_the_schema_says_so(fake: FakeConfluence) -> None:
    """The CDK's serializer drops top-level nulls (nothing in a declarative source can keep them), so a root page has
    no `parent_id` key at all; the schema documents it and the destination reads records with `.get`."""
    from destination_vectors.config import DestinationConfig
    from destination_vectors.write.records import to_document
    from source_confluence.source import SourceConfluence

    fake.add_space("ENG", n_pages=4)
    records = {record["id"]: record for record in page_records(run_read(cloud_config(fake)))}
    root, child = records[fake.pages[0].id], records[fake.pages[1].id]
    assert "parent_id" not in root, f"root page: parent_id is {root.get('parent_id')!r}; update the schema description"
    assert child["parent_id"] == fake.pages[0].id, child
    assert CONTRACT_FIELDS <= set(root), f"root page lost other fields: {CONTRACT_FIELDS - set(root)}"

    schema = next(
        s
        for s in SourceConfluence(config=cloud_config(fake)).discover(None, cloud_config(fake)).streams
        if s.name == "pages"
    ).json_schema
    assert "absent" in schema["properties"]["parent_id"]["description"].lower(), schema["properties"]["parent_id"]
    assert "absent" in schema["description"] and ".get" in schema["description"], schema.get("description")

    document = to_document("pages", root, DestinationConfig(), [["id"]])
    assert document.page_id == root["id"] and document.title == root["title"], document
