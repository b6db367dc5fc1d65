"""The Airbyte destination: spec / check / write over the Airbyte protocol."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson
from airbyte_cdk.destinations import Destination
from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteMessageSerializer,
    ConfiguredAirbyteCatalog,
    ConnectorSpecification,
    DestinationSyncMode,
    Status,
    Type,
)
from airbyte_cdk.models.airbyte_protocol import AirbyteStateType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException, FailureType
from pydantic import ValidationError

from destination_vectors.config import DestinationConfig, config_problems, connection_specification
from destination_vectors.embedding.backends import EmbeddingSetupError, check_embedding
from destination_vectors.embedding.cache import ExportFailed
from destination_vectors.embedding.embedder import TEST_HASH_EMBEDDER, load_embedder
from destination_vectors.embedding.model import ModelNotFoundError, resolve_model
from destination_vectors.store.table import ChunkStore, describe_store_error
from destination_vectors.write.deletion_guard import MassDeletionRefused
from destination_vectors.write.sync import StreamPlan, SyncFailed, SyncWriter

DOCUMENTATION_URL = "https://github.com/confluence-vectors/confluence-vectors#destination-configuration"
_MODES = {
    DestinationSyncMode.overwrite: "overwrite",
    DestinationSyncMode.append: "append",
    DestinationSyncMode.append_dedup: "append_dedup",
}


def parse_config(config: Mapping[str, Any]) -> DestinationConfig:
    try:
        return DestinationConfig.model_validate(dict(config))
    except ValidationError as error:
        problems = config_problems(error)
        raise AirbyteTracedException(
            message=f"invalid configuration: {problems}",
            internal_message=problems,
            failure_type=FailureType.config_error,
        ) from None


class DestinationVectors(Destination):
    def __init__(self, allow_once: str | None = None) -> None:
        """`allow_once`: a refused run's id, as `write --allow-mass-deletion` gives it; overrides the config's."""
        self.allow_once = allow_once

    def _parse_input_stream(self, input_stream: io.TextIOWrapper) -> Iterable[AirbyteMessage]:
        """Like the CDK's, but a line orjson refuses (lone UTF-16 surrogates: valid JSON, invalid UTF-8) is parsed by
        the stdlib instead of being dropped, and an unparsable line is reported by number, never echoed."""
        logger = logging.getLogger("airbyte")
        for number, line in enumerate(input_stream, start=1):
            try:
                yield AirbyteMessageSerializer.load(orjson.loads(line))
                continue
            except orjson.JSONDecodeError:
                pass
            try:
                yield AirbyteMessageSerializer.load(json.loads(line))
            except (ValueError, TypeError, KeyError) as error:
                logger.warning(f"input line {number} is not an Airbyte message ({type(error).__name__}); ignored")

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        return ConnectorSpecification(
            documentationUrl=DOCUMENTATION_URL,
            connectionSpecification=connection_specification(),
            supportsIncremental=True,
            supported_destination_sync_modes=list(_MODES),
        )

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        try:
            parsed = parse_config(config)
            if parsed.embedding.model != TEST_HASH_EMBEDDER:
                model = resolve_model(parsed.embedding.model)
                check_embedding(parsed.embedding, model)
                limit = parsed.chunking.max_tokens
                if limit and limit > model.max_seq_length:
                    raise ValueError(
                        f"chunking.max_tokens {limit} exceeds the model's max_seq_length {model.max_seq_length}"
                    )
            if parsed.local_folder is None:
                _check_remote(parsed)
            else:
                ChunkStore.from_config(parsed).open_live()
                _check_writable(parsed.local_folder)
        except AirbyteTracedException as error:
            return AirbyteConnectionStatus(status=Status.FAILED, message=error.message)
        except (ModelNotFoundError, EmbeddingSetupError, ValueError, OSError) as error:
            return AirbyteConnectionStatus(status=Status.FAILED, message=str(error))
        except Exception as error:  # an unexpected failure still answers in one sentence
            return AirbyteConnectionStatus(status=Status.FAILED, message=f"{type(error).__name__}: {error}")
        return AirbyteConnectionStatus(status=Status.SUCCEEDED)

    def write(
        self,
        config: Mapping[str, Any],
        configured_catalog: ConfiguredAirbyteCatalog,
        input_messages: Iterable[AirbyteMessage],
    ) -> Iterable[AirbyteMessage]:
        parsed = parse_config(config)
        if self.allow_once:
            parsed = parse_config(
                {**dict(config), "mass_deletion": {**parsed.mass_deletion.model_dump(), "allow_once": self.allow_once}}
            )
        plans = stream_plans(configured_catalog)
        logger = logging.getLogger("airbyte")
        try:
            embedder = load_embedder(parsed.embedding)
        except (ModelNotFoundError, EmbeddingSetupError, ExportFailed) as error:
            raise AirbyteTracedException(message=str(error), failure_type=FailureType.config_error) from None
        try:
            writer = SyncWriter(parsed, plans, embedder, bar=sys.stderr.isatty())
        except (ValueError, OSError) as error:  # e.g. the object store refused the keys: nothing was written
            if not parsed.is_remote:
                raise
            message = describe_store_error(parsed.lancedb_uri, error)
            raise AirbyteTracedException(message=message, failure_type=FailureType.config_error) from None
        held: list[AirbyteMessage] = []
        try:
            with writer.session():
                for message in input_messages:
                    if message.type == Type.RECORD and message.record is not None:
                        record = message.record
                        writer.add_record(record.stream, record.data, getattr(record, "file_reference", None))
                    elif message.type == Type.STATE and message.state is not None:
                        stats = message.state.sourceStats
                        if writer.on_state(_state_streams(message), stats.recordCount if stats else None):
                            yield from held
                            held.clear()
                            yield message
                        else:
                            held.append(message)
                report = writer.commit(final=True)
        except MassDeletionRefused as refusal:  # the user decides: fix the source, or allow it (config)
            raise AirbyteTracedException(message=str(refusal), failure_type=FailureType.config_error) from None
        except SyncFailed as error:
            raise AirbyteTracedException(message=str(error), failure_type=FailureType.system_error) from None
        yield from held  # every state is released only after the commit that makes it true
        logger.info(report.summary() if report else "nothing to commit")


def stream_plans(catalog: ConfiguredAirbyteCatalog) -> list[StreamPlan]:
    """How each configured stream is written, or a config error naming every stream that cannot be written as asked.

    Airbyte's refresh protocol: `minimum_generation_id == generation_id` (> 0) asks to drop every earlier generation,
    i.e. the stream is replaced by this sync's records. That is how an overwrite stream is written anyway (staged,
    then one commit; the previous snapshot stays until it lands), so such a stream is written as overwrite whatever its
    destination sync mode. `minimum_generation_id` 0 or absent keeps earlier data, as the sync mode says.
    """
    logger = logging.getLogger("airbyte")
    plans, problems = [], []
    for configured in catalog.streams:
        name = configured.stream.name
        mode = _MODES.get(configured.destination_sync_mode)
        if mode is None:
            problems.append(
                f"stream {name}: destination sync mode {_mode_name(configured.destination_sync_mode)!r} is not "
                f"supported (supported: {', '.join(_MODES.values())})"
            )
            continue
        generation, minimum = configured.generation_id, configured.minimum_generation_id
        if minimum:
            if generation is None or minimum != generation:
                problems.append(
                    f"stream {name}: minimum_generation_id {minimum} with generation_id {generation} would keep some "
                    "earlier generations; this destination replaces a stream wholly (minimum = generation) or keeps "
                    "it (minimum 0)"
                )
                continue
            if mode != "overwrite":
                logger.info(f"stream {name}: refresh to generation {generation}: earlier data is replaced on commit")
            mode = "overwrite"
        primary_key = configured.primary_key or configured.stream.source_defined_primary_key
        plans.append(StreamPlan(name=name, mode=mode, primary_key=primary_key))
    if problems:
        message = "; ".join(problems) + ". Nothing was written."
        raise AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)
    return plans


def _mode_name(mode: Any) -> str:
    return str(getattr(mode, "value", mode))


def _state_streams(message: AirbyteMessage) -> list[str] | None:
    state = message.state
    if state.type == AirbyteStateType.STREAM and state.stream is not None:
        return [state.stream.stream_descriptor.name]
    if state.type == AirbyteStateType.GLOBAL and state.global_ is not None:
        return [s.stream_descriptor.name for s in state.global_.stream_states or []]
    return None


def _check_remote(config: DestinationConfig) -> None:
    """Reach the store, list the table and write and drop a probe: wrong keys, bucket or endpoint fail here."""
    try:
        store = ChunkStore.from_config(config)
        store.open_live()
        store.probe_writable()
    except (ValueError, OSError, RuntimeError) as error:
        raise ValueError(describe_store_error(config.lancedb_uri, error)) from None


def _check_writable(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    probe = folder / ".write-check"
    probe.write_text("ok")
    probe.unlink()
