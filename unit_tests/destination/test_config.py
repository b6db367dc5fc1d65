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


S3 = {
    "lancedb_uri": "s3://bucket/confluence",
    "object_storage": {
        "endpoint": "http://127.0.0.1:9000",
        "region": "us-east-1",
        "access_key_id": "AKIDEXAMPLE",
        "secret_access_key": "s3-SECRET-9b1e",
        "session_token": "session-SECRET-77c0",
    },
}


def test_object_storage_becomes_lancedb_storage_options():
    options = DestinationConfig.model_validate(S3).storage_options()
    assert options == {
        "aws_endpoint": "http://127.0.0.1:9000",
        "allow_http": "true",
        "aws_region": "us-east-1",
        "aws_access_key_id": "AKIDEXAMPLE",
        "aws_secret_access_key": "s3-SECRET-9b1e",
        "aws_session_token": "session-SECRET-77c0",
    }, "the keys must be LanceDB's own spelling, or the store is reached without them"
    https = {**S3, "object_storage": {**S3["object_storage"], "endpoint": "https://minio.example:9000/"}}
    options = DestinationConfig.model_validate(https).storage_options()
    assert "allow_http" not in options and options["aws_endpoint"] == "https://minio.example:9000"
    assert DestinationConfig(lancedb_uri="s3://bucket/x").storage_options() == {}, "unset: LanceDB reads the env"
    assert DestinationConfig().storage_options() == {}, "a local folder takes no storage options"


def test_object_storage_secrets_are_masked_everywhere_but_the_storage_options():
    config = DestinationConfig.model_validate(S3)
    for text in (repr(config), str(config), config.model_dump_json()):
        assert "SECRET" not in text, f"a secret shows in {text[:200]}"
    spec = connection_specification()
    from airbyte_cdk.utils.airbyte_secrets_utils import get_secrets

    found = get_secrets(spec, S3)
    assert sorted(found) == ["s3-SECRET-9b1e", "session-SECRET-77c0"], (
        f"the CDK's log filter would not mask the object-storage secrets (found {found}): mark them airbyte_secret"
    )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"lancedb_uri": "./data/lancedb"}, "s3:// lancedb_uri only"),
        ({"object_storage": {"access_key_id": "AKIDEXAMPLE"}}, "both access_key_id and secret_access_key"),
        ({"object_storage": {"endpoint": "minio:9000"}}, "endpoint"),
        ({"object_storage": {"secret_key": "typo-SECRET-1"}}, "secret_key"),
    ],
)
def test_bad_object_storage_is_refused_without_echoing_values(change, problem):
    from destination_vectors.config import config_problems

    with pytest.raises(ValidationError) as caught:
        DestinationConfig.model_validate({**S3, **change})
    message = config_problems(caught.value)
    assert problem in message, f"the error does not name the problem: {message}"
    assert "SECRET" not in message, f"the error echoes a secret: {message}"


def test_lock_sits_in_the_table_folder_or_beside_a_remote_tables_ledger(tmp_path):
    local = DestinationConfig(lancedb_uri=str(tmp_path / "idx"))
    assert local.lock_path == tmp_path / "idx" / "confluence_chunks.lock"
    remote = DestinationConfig(lancedb_uri="s3://bucket/x", ledger_path=str(tmp_path / "state" / "l.duckdb"))
    assert remote.lock_path == tmp_path / "state" / "confluence_chunks.lock", "a remote table's lock must be local"


def test_the_mass_deletion_guard_is_on_by_default_and_allow_once_takes_a_run_id():
    from destination_vectors.config import config_problems

    guard = DestinationConfig().mass_deletion
    assert (guard.max_share, guard.min_pages, guard.allow_once, guard.allow_always) == (0.5, 20, None, False)
    assert DestinationConfig(mass_deletion={"allow_once": " 3f2a9c0d1b4e "}).mass_deletion.allow_once == "3f2a9c0d1b4e"
    for bad in ({"allow_once": "yes"}, {"max_share": 1}, {"min_pages": 0}):
        with pytest.raises(ValidationError) as error:
            DestinationConfig(mass_deletion=bad)
        assert "mass_deletion." in config_problems(error.value), f"{bad}: {config_problems(error.value)}"
    assert "12-character run id" in str(
        pytest.raises(ValidationError, DestinationConfig, mass_deletion={"allow_once": "x"}).value
    )
