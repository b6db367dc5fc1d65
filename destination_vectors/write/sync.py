"""One sync's writer: batches the rows of `page_rows`, embeds them, stages them, commits once, records in the ledger.

The write path is ordered so that a crash at any point leaves the previous snapshot whole: nothing touches the live
table until `commit`, and the ledger is brought up to date only after the commit landed.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from destination_vectors.config import DestinationConfig
from destination_vectors.embedding.embedder import Embedder, model_tokenizer_name
from destination_vectors.embedding.model import load_tokenizer
from destination_vectors.failpoints import failpoint
from destination_vectors.store.counts import SyncCounts
from destination_vectors.store.ledger import Ledger, SeenPages, utcnow
from destination_vectors.store.memberships import MEMBERSHIPS_STREAM, MembershipTable
from destination_vectors.store.row import chunk_schema
from destination_vectors.store.snapshot import Snapshot
from destination_vectors.store.table import ChunkStore, Staging, housekeeping_due, rows_to_arrow
from destination_vectors.text.chunks import validate_chunking
from destination_vectors.write.carry import CarriedPages, VectorLookup
from destination_vectors.write.children import Children
from destination_vectors.write.containers import CHILD_STREAMS, CONTAINER_STREAMS, FILE_STREAMS
from destination_vectors.write.deletion_guard import LISTING_STREAM, DeletionGuard, MassDeletionRefused
from destination_vectors.write.includes import IncludeIndex
from destination_vectors.write.memberships import Memberships
from destination_vectors.write.page_rows import PageRows, PageRowsBuilder
from destination_vectors.write.progress import Progress, SyncReport
from destination_vectors.write.records import BadRecord
from destination_vectors.write.vectors import announce_switch, embed_with_reuse

logger = logging.getLogger("airbyte")

EMBED_BATCH_ROWS = 256
# Streams a catalog may select whose records are never indexed (docs/searching.md, "What is indexed"): a space record
# is a key, a name and a type; every page's chunk carries its space already (`space_key`, the `--space` filter).
TEXTLESS_STREAMS = {"spaces": "a space record has no text of its own (its pages carry the space key)"}
CARRY_BATCH_PAGES = 500


class SyncFailed(RuntimeError):
    """The sync stopped; the previous snapshot is untouched. The message says why and what to do."""


@dataclass(frozen=True)
class StreamPlan:
    name: str
    mode: str  # overwrite | append | append_dedup
    primary_key: list[list[str]] | None


class SyncWriter:
    def __init__(
        self,
        config: DestinationConfig,
        streams: Sequence[StreamPlan],
        embedder: Embedder,
        bar: bool = False,
    ) -> None:
        self.config = config
        self.streams = {plan.name: plan for plan in streams}
        self.embedder = embedder
        self.counts = SyncCounts()
        self.progress = Progress(self.counts, bar=bar)  # displays the counts, a bar only when asked
        max_tokens = config.chunking.max_tokens or embedder.max_seq_length
        validate_chunking(max_tokens, config.chunking.overlap_tokens, embedder.max_seq_length)
        tokenizer = load_tokenizer(model_tokenizer_name(config.embedding))
        self.pages = PageRowsBuilder(config, tokenizer, max_tokens, embedder.name)
        self.run_id = uuid.uuid4().hex[:12]
        self.store = ChunkStore.from_config(config)
        self.ledger = Ledger(config.resolved_ledger_path)
        self._seen = SeenPages()
        self._seen_keys: dict[str, set[str]] = {}
        self._pending: list[dict[str, Any]] = []  # rows waiting for their vectors
        self._records_since_state: dict[str, int] = {}
        self._dedup_since_commit: dict[str, set[str]] = {}
        self._staging: Staging | None = None
        self._lookup = None
        self._snapshot: Snapshot | None = None  # the live table when the sync began (None: no table yet)
        self._carried: CarriedPages | None = None
        self._carry_pending: dict[str, list[str]] = {}  # carried pages since the last commit, copied only by one
        self._table_version: int | None = None
        self._committed = False
        self._deferred: list[tuple[str, Mapping[str, Any]]] = []  # pages that include others, built at the end
        self.children = Children(config)  # comments and attachments, joined to their containers at the end
        self.no_text: dict[str, int] = {}  # records that hold no text after conversion, by stream: never indexed
        self.memberships = Memberships(MembershipTable(self.store))  # stored with the final commit, never chunked
        self.guard = DeletionGuard(config.mass_deletion, self.ledger, listed=LISTING_STREAM in self.streams)

    # -- lifecycle ---------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def session(self) -> Iterator[SyncWriter]:
        """Holds the table lock for the whole sync; records the outcome in the ledger however the sync ends."""
        with _table_lock(self.config):
            self.ledger.start_sync(self.run_id, sorted(self.streams), self.embedder.name)
            self._snapshot = self.store.snapshot()
            live = self._snapshot.dataset if self._snapshot is not None else None
            self.memberships.start(self._snapshot.version if self._snapshot is not None else None)
            announce_switch(self._snapshot.embedding_model if self._snapshot is not None else None, self.embedder.name)
            self._staging = self.store.start_staging(self.embedder.dimension)
            self._lookup = VectorLookup(live, self.embedder.name)
            self._carried = CarriedPages(live, chunk_schema(self.embedder.dimension))
            self.pages.carry_check = self._carried.chunks_if_unchanged
            self.pages.includes = IncludeIndex()
            try:
                yield self
            except MassDeletionRefused as refusal:  # nothing committed: the staged rows go, the ledger says why
                self.store.drop_staging()
                self.ledger.refused(self.run_id, refusal.deletions, self.counts, self.progress.seconds, str(refusal))
                raise
            except BaseException as error:
                self.ledger.finish_sync(
                    self.run_id, "failed", self.counts, self.progress.seconds, error=str(error)[:2000]
                )
                raise
            finally:
                self.pages.includes.close()
                self.children.close()
                self.progress.close()

    # -- records ----------------------------------------------------------------------------------------------------
    def add_record(self, stream: str, data: Mapping[str, Any], file_reference: Any = None) -> None:
        plan = self.streams.get(stream)
        if plan is None:
            return
        self._records_since_state[stream] = self._records_since_state.get(stream, 0) + 1
        if stream == MEMBERSHIPS_STREAM:  # who is in which group: stored beside the chunks, never indexed as text
            try:
                self.memberships.add(data)
                self.counts.records += 1
            except Exception as error:
                self._bad_record(stream, data, error)
            return
        if stream in FILE_STREAMS:  # an attachment's bytes: extracted into the text cache, never indexed as such
            self.children.take_file(data, file_reference)
            self.progress.show()
            return
        if stream in CHILD_STREAMS:  # built at the end, when every page and blog post of the sync was seen
            self.children.hold(stream, data)
            return
        if stream in TEXTLESS_STREAMS:  # a space is a name and a key, which every page's chunk already carries
            self.guard.note_listing(stream, data)  # ... and the source's listing, for the mass-deletion guard
            self._no_text(stream)
            return
        if stream in CONTAINER_STREAMS:
            self.children.note_container(stream, data)
        try:
            page = self.pages(stream, data, plan.primary_key)
        except Exception as error:  # a bad record must not take the sync down unless the user asked for that
            self._bad_record(stream, data, error)
            return
        if self._textless(stream, page) or not self._first_time(stream, page, plan):
            return
        if page.deferred:  # it includes other pages: built after the last record, when all of them were seen
            self._deferred.append((stream, data))
            return
        self._add_page(stream, page)

    def _build_children(self) -> None:
        """Comments and attachments joined to their page or blog post (children.py, containers.py)."""
        for stream, joined in self.children.joined():
            plan = self.streams[stream]
            try:
                page = self.pages(stream, joined, plan.primary_key)
            except Exception as error:
                self._bad_record(stream, joined, error)
                continue
            if self._textless(stream, page) or not self._first_time(stream, page, plan):
                continue
            if page.deferred:
                self._deferred.append((stream, joined))
                continue
            self._add_page(stream, page)

    def _build_deferred(self) -> None:
        """The pages that include others, now that every page of the sync is known (includes.py)."""
        deferred, self._deferred = self._deferred, []
        for stream, data in deferred:
            try:
                page = self.pages(stream, data, self.streams[stream].primary_key, resolve_includes=True)
            except Exception as error:
                self._bad_record(stream, data, error)
                continue
            if not self._textless(stream, page):
                self._add_page(stream, page)

    def _add_page(self, stream: str, page: PageRows) -> None:
        if page.carried:
            self._carry(stream, page.document.page_id, page.carried)
        self._pending.extend(page.rows)
        self.counts.records += 1
        self.counts.chunks += page.chunks
        self.progress.show()
        failpoint("record")
        if len(self._pending) >= EMBED_BATCH_ROWS:
            self._flush()

    def _textless(self, stream: str, page: PageRows) -> bool:
        """True (and counted) for a record with no text after conversion: it would be an empty chunk, with no title
        or link, that vector search returns for anything."""
        if page.deferred or page.carried or page.rows:
            return False
        self._no_text(stream)
        return True

    def _no_text(self, stream: str) -> None:
        self.no_text[stream] = self.no_text.get(stream, 0) + 1
        self.counts.records += 1
        self.progress.show()

    def _first_time(self, stream: str, page: PageRows, plan: StreamPlan) -> bool:
        """Notes the page as seen; False (and a warning) when it already came in this sync."""
        document = page.document
        seen = self._seen_keys.setdefault(stream, set())
        if document.page_id in seen:
            logger.warning(f"stream {stream}: record {document.page_id} came twice in one sync; the first is kept")
            return False
        seen.add(document.page_id)
        if plan.mode == "append_dedup":
            self._dedup_since_commit.setdefault(stream, set()).add(document.page_id)
        self._seen.add(stream, document.page_id, document.version, document.content_hash, document.title)
        self.guard.note_space(document.columns.get("space_key"))
        return True

    def _carry(self, stream: str, page_id: str, chunks: int) -> None:
        """Notes a carried page; its rows are copied into staging only when a commit is needed (`commit`)."""
        self._carry_pending.setdefault(stream, []).append(page_id)
        self.counts.reused += chunks

    def _flush_carried(self) -> None:
        assert self._staging is not None and self._carried is not None
        for stream, page_ids in self._carry_pending.items():
            for start in range(0, len(page_ids), CARRY_BATCH_PAGES):
                self._staging.add(self._carried.rows(stream, page_ids[start : start + CARRY_BATCH_PAGES]))
        self._carry_pending = {}

    def _bad_record(self, stream: str, data: Mapping[str, Any], error: Exception) -> None:
        page_id = getattr(error, "page_id", None) or (data.get("id") if isinstance(data, Mapping) else None)
        reason = error.reason if isinstance(error, BadRecord) else f"{type(error).__name__}: {str(error)[:300]}"
        if self.config.on_bad_record == "fail":
            raise SyncFailed(
                f"stream {stream}: record {page_id} cannot be indexed ({reason}); "
                "set on_bad_record to skip to index the rest"
            )
        self.counts.records += 1
        self.counts.bad_records += 1
        self.progress.show()
        logger.warning(f"stream {stream}: skipped record {page_id}: {reason}")

    def _flush(self) -> None:
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        texts = [row["text"] for row in rows]
        hashes = [row["content_hash"] for row in rows]
        vectors = embed_with_reuse(texts, hashes, self.embedder, self._lookup, self.counts)
        failpoint("embed")
        assert self._staging is not None
        self._staging.add(rows_to_arrow(rows, vectors, chunk_schema(self.embedder.dimension)))
        self.progress.show()
        failpoint("stage")

    # -- states and the commit ------------------------------------------------------------------------------------
    def on_state(self, streams: Sequence[str] | None, source_record_count: float | None = None) -> bool:
        """A STATE says the source finished what came before it. Returns True when it may be emitted now.

        When the STATE carries the source's record count (`sourceStats.recordCount`), a mismatch means messages were
        lost between source and destination: the sync stops before anything is committed.
        """
        counted = source_record_count is not None and self.config.verify_record_counts
        if counted and streams is not None and len(streams) == 1:
            received = self._records_since_state.get(streams[0], 0)
            if received != int(source_record_count):
                raise SyncFailed(
                    f"stream {streams[0]}: the source reported {int(source_record_count)} records before this STATE "
                    f"but {received} arrived; messages were lost in between, so nothing is committed"
                )
        for name in streams if streams is not None else list(self._records_since_state):
            self._records_since_state[name] = 0
        if any(plan.mode == "overwrite" for plan in self.streams.values()):
            return False  # overwrite streams are all-or-nothing: states are released after the final commit
        self.commit(final=False)
        return True

    def incomplete_streams(self) -> list[str]:
        return sorted(name for name, count in self._records_since_state.items() if count)

    def commit(self, final: bool = True) -> SyncReport | None:
        if final:
            self._build_children()
            self._build_deferred()
        self._flush()
        incomplete = self.incomplete_streams()
        completed = self._completed()
        members = final and MEMBERSHIPS_STREAM in completed  # a full pass of the memberships: stored with the commit
        replace = [
            p.name
            for p in self.streams.values()
            if p.mode == "overwrite" and p.name in completed - {MEMBERSHIPS_STREAM}
        ]
        if final and incomplete and any(self.streams[name].mode == "overwrite" for name in incomplete):
            raise SyncFailed(
                f"the input ended without a final STATE for stream(s) {', '.join(incomplete)}: the source did not "
                "finish, so the previous snapshot is kept (nothing was deleted)"
            )
        if final and self._snapshot is not None:  # nothing is committed past the mass-deletion guard's thresholds
            self.guard.check(self._snapshot, replace, self._seen, self.run_id)
        assert self._staging is not None and self._carried is not None
        dedup, self._dedup_since_commit = self._dedup_since_commit, {}
        carried = any(self._carry_pending.values())
        if not self._staging.rows and self._carried.unchanged_by(self._carry_pending, replace, dedup):
            self._carry_pending = {}  # the snapshot already holds exactly these rows: no new version
            if self._table_version is None and (carried or replace or any(dedup.values())):
                self._table_version = self._snapshot.version if self._snapshot is not None else None
                logger.info(f"nothing changed: table version {self._table_version} stays live, nothing committed")
        elif self._staging.rows or carried or replace or any(dedup.values()):
            self._flush_carried()
            pending = self.memberships.store(self._live_version(), commit=True) if members else None
            failpoint("before_commit")
            result = self.store.commit(self._staging, replace, dedup)
            self._table_version = result.version
            self._committed = True
            self.memberships.landed(pending, result.version)
            logger.info(
                f"committed table version {result.version}: {result.inserted} chunks inserted, "
                f"{result.updated} updated, {result.deleted} deleted"
            )
        if final:  # with no chunk commit to go with them, they apply from the live version
            self.memberships.finish(members, MEMBERSHIPS_STREAM in self.streams, self._live_version())
        if not final:
            self._staging = self.store.start_staging(self.embedder.dimension)
            return None
        return self._finish(replace)

    def _live_version(self) -> int | None:
        """The chunk table's version now (this writer holds the table lock: no one else commits meanwhile)."""
        if self._committed:
            return self._table_version
        return self._snapshot.version if self._snapshot is not None else None

    def _housekeeping_needed(self) -> bool:
        """After a commit, always; after a sync that committed nothing, only to finish what an earlier sync's
        housekeeping left undone (it was stopped, or the vector index is due)."""
        if self._table_version is None:
            return False
        if self._committed:
            return True
        reason = housekeeping_due(self._snapshot, self.config.vector_index)
        if reason:
            logger.info(f"housekeeping of table version {self._table_version}: {reason}")
        return reason is not None

    def _completed(self) -> set[str]:
        return {name for name, count in self._records_since_state.items() if count == 0}

    def _finish(self, replaced: list[str]) -> SyncReport:
        failpoint("after_commit")
        seconds, version = self.progress.seconds, self._table_version
        self.ledger.succeeded(self.run_id, self._seen, replaced, self.counts, seconds, version, self.guard.allowed)
        failpoint("after_ledger")
        self.children.record_outcomes(self.run_id, utcnow().isoformat(), complete="attachments" in replaced)
        if self._housekeeping_needed():
            self.store.housekeeping(self._table_version, self.config.keep_snapshots, self.config.vector_index)
        self.memberships.cleanup()
        failpoint("after_cleanup")
        if "attachments" in replaced:
            self.children.forget_unlisted()
        self.store.drop_staging()
        for stream, count in sorted(self.no_text.items()):  # one line per stream, not one per record
            reason = TEXTLESS_STREAMS.get(stream, "their text is empty after conversion")
            logger.info(f"stream {stream}: {count} records not indexed: {reason}")
        return SyncReport(self.run_id, self.counts, self.progress.seconds, self._table_version, dict(self.no_text))


@contextlib.contextmanager
def _table_lock(config: DestinationConfig) -> Iterator[None]:
    """One writer per table at a time on this machine (beside the ledger for a remote table: writers on other
    machines are the scheduler's to keep apart)."""
    path = config.lock_path
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SyncFailed(
                f"another sync is writing table {config.table_name!r} of {config.lancedb_uri} (lock {path}); "
                "try again later"
            ) from None
        yield
