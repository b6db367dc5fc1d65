"""Shared helpers: configs for the fake site, and in-process runs of the connector's commands."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests_mock
from airbyte_cdk.models import ConfiguredAirbyteCatalog, SyncMode, Type
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, _run_command, make_file, read

from source_confluence.source import SourceConfluence
from unit_tests.source.fake_confluence import SECRET_PAT, SECRET_TOKEN, USERNAME, FakeConfluence

FAST_RETRIES = {"min_retry_seconds": 0.001, "max_retry_seconds": 0.01, "max_retries": 3}


def cloud_config(fake: FakeConfluence, **overrides: Any) -> dict[str, Any]:
    config = {
        "base_url": fake.origin,
        "credentials": {"auth_type": "basic", "username": USERNAME, "api_token": SECRET_TOKEN},
        **FAST_RETRIES,
    }
    config.update(overrides)
    return config


def dc_config(fake: FakeConfluence, **overrides: Any) -> dict[str, Any]:
    config = {
        "base_url": fake.origin + fake.dc_context,
        "deployment": "data_center",
        "credentials": {"auth_type": "bearer", "token": SECRET_PAT},
        **FAST_RETRIES,
    }
    config.update(overrides)
    return config


def catalog(*streams: str) -> ConfiguredAirbyteCatalog:
    builder = CatalogBuilder()
    for name in streams or ("spaces", "pages"):
        builder = builder.with_stream(name, SyncMode.full_refresh)
    return builder.build()


def run_read(config: dict[str, Any], *streams: str) -> EntrypointOutput:
    return read(SourceConfluence(config=config), config, catalog(*(streams or ("pages",))), expecting_exception=None)


def run_check(config: dict[str, Any]) -> tuple[str, str]:
    """(status, sentence) of `check`: the FAILED status's message, or on success the logged "Connected to ..."
    sentence (the CDK's check puts no message on a SUCCEEDED status)."""
    with tempfile.TemporaryDirectory() as directory:
        path = make_file(Path(directory) / "config.json", config)
        output = _run_command(SourceConfluence(config=config), ["check", "--config", path])
    status = output.connection_status_messages[0].connectionStatus
    connected = [m.log.message for m in output.logs if m.log.message.startswith("Connected to ")]
    return status.status.value, status.message or (connected[-1] if connected else "")


def page_records(output: EntrypointOutput) -> list[dict[str, Any]]:
    return [message.record.data for message in output.records if message.record.stream == "pages"]


def all_output_text(output: EntrypointOutput) -> str:
    every_type = [Type.LOG, Type.TRACE, Type.RECORD, Type.CONNECTION_STATUS, Type.CONTROL, Type.STATE]
    return "\n".join(str(message) for message in output.get_message_by_types(every_type))


@pytest.fixture
def fake() -> Iterator[FakeConfluence]:
    with requests_mock.Mocker() as mocker:
        yield FakeConfluence().install(mocker)


@pytest.fixture(autouse=True)
def no_real_sleep_over_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry waits in unit tests are milliseconds; a long sleep means a cap was not applied, so fail loudly."""
    import time

    real_sleep = time.sleep

    def guarded_sleep(seconds: float) -> None:
        assert seconds <= 1.0, f"a retry wait of {seconds}s escaped the configured max_retry_seconds"
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", guarded_sleep)
    return None
