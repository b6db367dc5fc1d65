from pathlib import Path

import pytest
from pydantic import ValidationError

from destination_vectors.config import DestinationConfig, connection_specification


def test_defaults_are_local_and_safe():
    config = DestinationConfig()
    assert config.lancedb_uri == "./data/lancedb"
    assert config.default_visibility == "internal", "records without visibility must never be public by default"
    assert config.resolved_ledger_path.name == "confluence_chunks.ledger.duckdb"
    assert config.text_is_storage(), "body_storage must be read as storage XHTML by default"


@pytest.mark.parametrize("name", ["../evil", "a/b", "x'; DROP TABLE syncs; --", "", "1abc", "a" * 65, "a.b"])
def test_unsafe_table_names_are_refused(name):
    with pytest.raises(ValidationError):
        DestinationConfig(table_name=name)


@pytest.mark.parametrize("field", ["lancedb_uri", "ledger_path"])
def test_paths_with_parent_traversal_are_refused(field):
    with pytest.raises(ValidationError, match=r"\.\."):
        DestinationConfig(**{field: "data/../../etc"})


def test_remote_uri_passes_through_and_ledger_stays_local():
    config = DestinationConfig(lancedb_uri="s3://bucket/path")
    assert config.is_remote
    assert not str(config.resolved_ledger_path).startswith("s3:"), "DuckDB cannot write to s3; ledger must be local"


def test_overlap_must_leave_room_for_content():
    with pytest.raises(ValidationError, match="overlap"):
        DestinationConfig(chunking={"max_tokens": 64, "overlap_tokens": 32})


def test_spec_has_no_refs_and_orders_fields():
    spec = connection_specification()
    assert "$defs" not in spec and "$ref" not in str(spec), "Airbyte UIs do not follow $ref"
    assert spec["properties"]["embedding"]["properties"]["model"]["default"].endswith("all-MiniLM-L6-v2")
    assert all("order" in prop for prop in spec["properties"].values()), "every top-level field needs an order"


def test_local_folder_of_a_uri_is_resolved_once_the_way_lancedb_does(tmp_path, monkeypatch):
    from destination_vectors.config import local_folder

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert local_folder("~/idx") == tmp_path / "home" / "idx"
    assert local_folder("file://~/idx") == tmp_path / "home" / "idx"
    assert local_folder("file:///srv/idx") == Path("/srv/idx")
    assert local_folder("./data/lancedb") == Path("data/lancedb")
    assert local_folder("s3://bucket/idx") is None and local_folder("gs://b/x") is None
    config = DestinationConfig(lancedb_uri="~/idx")
    assert not config.is_remote and config.resolved_ledger_path == tmp_path / "home" / "idx" / (
        "confluence_chunks.ledger.duckdb"
    )


def test_check_with_a_tilde_uri_writes_in_the_home_folder_not_a_folder_named_tilde(tmp_path, monkeypatch):
    from airbyte_cdk.models import Status

    from destination_vectors.destination import DestinationVectors

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    config = {"lancedb_uri": "~/idx", "embedding": {"model": "test-hash-embedder"}}
    status = DestinationVectors().check(None, config)
    assert status.status == Status.SUCCEEDED, status.message
    assert (tmp_path / "home" / "idx").is_dir(), "check must create the folder the write will use"
    assert not (tmp_path / "~").exists(), "check created a literal '~' folder in the working directory"
