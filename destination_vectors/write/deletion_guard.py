"""The mass-deletion guard: before an overwrite commit, what the sync would delete against what the live table holds.

A token that loses access to a space, or a listing that returns part of a space, looks to an overwrite sync exactly
like pages deleted in Confluence: one commit would drop them from the index. So, per stream and per space, the pages
the commit would delete are counted against the pages the table holds; past the thresholds (`MassDeletionConfig`:
more than `max_share` of them and at least `min_pages`) the commit is refused, unless the config allows it always or
once (the refused run's id), or the space left the source's `space_keys` (the `spaces` stream says so).

Comments and attachments that go because their page or blog post goes are not judged on their own: the page's
deletion is (they would otherwise make one deleted page with many comments look like a mass deletion).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from destination_vectors.config import MassDeletionConfig
from destination_vectors.store.ledger import Allowance, Ledger, MassDeletion, SeenPages
from destination_vectors.store.snapshot import Snapshot, quote
from destination_vectors.write.containers import CHILD_STREAMS, CONTAINER_STREAMS

logger = logging.getLogger("airbyte")

LISTING_STREAM = "spaces"  # the source's space listing: read by the guard, never indexed
_LIVE_COLUMNS = ("stream", "page_id", "space_key", "webui_url", "container_url")


class MassDeletionRefused(RuntimeError):
    """The commit would delete more than the thresholds allow; nothing was committed. The message says how to allow."""

    def __init__(self, message: str, deletions: Sequence[MassDeletion]) -> None:
        super().__init__(message)
        self.deletions = list(deletions)


@dataclass
class SpaceListing:
    """This sync's `spaces` stream: the spaces the source listed, and what it was asked for (`selection`)."""

    keys: set[str] = field(default_factory=set)
    space_keys: tuple[str, ...] | None = None  # the source's space_keys (empty: every readable space); None: unknown
    include_personal_spaces: bool = True

    def add(self, record: Mapping[str, Any]) -> None:
        key = record.get("key")
        if isinstance(key, str) and key:
            self.keys.add(key)
        selection = record.get("selection")
        if isinstance(selection, Mapping) and isinstance(selection.get("space_keys"), list):
            self.space_keys = tuple(str(k) for k in selection["space_keys"])
            self.include_personal_spaces = selection.get("include_personal_spaces") is not False

    def deselected(self, space_key: str) -> bool:
        """True when the source was asked not to read this space: space_keys names others, or personal spaces were
        switched off. Unknown selection (an older source, or no space listed at all): never."""
        if self.space_keys is None or not space_key:
            return False
        if self.space_keys:
            return space_key not in self.space_keys
        return not self.include_personal_spaces and space_key.startswith("~")


@dataclass(frozen=True)
class Verdict:
    """What the guard decided: `allowed` deletions commit (and are recorded), `refused` ones stop the sync."""

    allowed: list[MassDeletion]
    refused: list[MassDeletion]
    note: str = ""  # why an allow_once in the config did not apply


class DeletionGuard:
    """One sync's guard: notes the listing and the spaces of the pages sent, then `check`s the commit."""

    def __init__(self, config: MassDeletionConfig, ledger: Ledger, listed: bool) -> None:
        self.config = config
        self.ledger = ledger
        self.listing = SpaceListing() if listed else None  # None: the catalog has no spaces stream
        self.spaces: set[str] = set()  # the space of every page, blog post, comment and attachment sent
        self.allowed: list[MassDeletion] = []  # what the commit may delete past the thresholds, for the ledger

    def note_listing(self, stream: str, record: Mapping[str, Any]) -> None:
        if stream == LISTING_STREAM and self.listing is not None:
            self.listing.add(record)

    def note_space(self, space_key: Any) -> None:
        self.spaces.add(str(space_key or ""))

    def check(self, snapshot: Snapshot, replace: Sequence[str], seen: SeenPages, run_id: str) -> None:
        """Before the commit that replaces `replace`: raises MassDeletionRefused past the thresholds (the ledger's
        row is the caller's), else notes what it allowed."""
        streams = [name for name in replace if name != LISTING_STREAM]
        if not streams:
            return
        ids = {stream: {row[0] for row in rows} for stream, rows in seen.by_stream.items()}
        deletions = planned_deletions(live_pages(snapshot.dataset, streams), ids, self.spaces, self.listing)
        once = self.config.allow_once
        verdict = judge(deletions, self.config, self.ledger.allowance(once) if once else None)
        for d in verdict.allowed:
            logger.warning(
                f"mass deletion allowed ({d.allowed_by}): {d.deleted_pages} of {d.live_pages} {d.stream} of space "
                f"{d.space_key or '(none)'}"
            )
        self.allowed = verdict.allowed
        if verdict.refused:
            message = refusal_message(verdict, run_id, snapshot.version, self.config)
            logger.error(message)
            raise MassDeletionRefused(message, verdict.refused)


def live_pages(dataset: Any, streams: Collection[str]) -> pa.Table:
    """The live table's pages of `streams`: one row per (stream, page_id) with its space and links."""
    present = [c for c in _LIVE_COLUMNS if c in dataset.schema.names]
    rows = dataset.to_table(columns=present, filter=f"stream IN ({', '.join(quote(s) for s in sorted(streams))})")
    for name in _LIVE_COLUMNS:
        if name not in present:
            rows = rows.append_column(name, pa.nulls(rows.num_rows, pa.string()))
    keys, values = list(_LIVE_COLUMNS[:2]), _LIVE_COLUMNS[2:]  # a page's rows share its space and links
    grouped = rows.group_by(keys).aggregate([(name, "max") for name in values])
    return pa.table({**{k: grouped.column(k) for k in keys}, **{v: grouped.column(f"{v}_max") for v in values}})


def planned_deletions(
    live: pa.Table,
    seen: Mapping[str, Collection[str]],
    sync_spaces: Collection[str],
    listing: SpaceListing | None,
) -> list[MassDeletion]:
    """Per (stream, space) of the live pages: how many there are, how many this sync would delete (not seen), how
    many of those are comments/attachments of a deleted page or blog post, and whether the space vanished."""
    columns = {name: live.column(name).to_pylist() for name in _LIVE_COLUMNS}
    deleted_containers = {
        url
        for stream, page_id, url in zip(columns["stream"], columns["page_id"], columns["webui_url"], strict=True)
        if stream in CONTAINER_STREAMS and url and page_id not in seen.get(stream, ())
    }
    tally: dict[tuple[str, str], list[int]] = {}
    for stream, page_id, space, container_url in zip(
        columns["stream"], columns["page_id"], columns["space_key"], columns["container_url"], strict=True
    ):
        counts = tally.setdefault((stream, space or ""), [0, 0, 0])
        counts[0] += 1
        if page_id not in seen.get(stream, ()):
            counts[1] += 1
            if stream in CHILD_STREAMS and container_url and container_url in deleted_containers:
                counts[2] += 1
    deletions = []
    for (stream, space), (held, deleted, followed) in sorted(tally.items()):
        if not deleted:
            continue
        vanished = bool(space) and space not in sync_spaces and (listing is None or space not in listing.keys)
        deletions.append(
            MassDeletion(
                stream=stream,
                space_key=space,
                live_pages=held,
                deleted_pages=deleted,
                followed_pages=followed,
                vanished=vanished,
                deselected=vanished and listing is not None and listing.deselected(space),
            )
        )
    return deletions


def past_threshold(deletion: MassDeletion, config: MassDeletionConfig) -> bool:
    """More than `max_share` of the space's pages of the stream, and at least `min_pages` of them, judged without
    the comments and attachments that go with their page."""
    judged = deletion.deleted_pages - deletion.followed_pages
    return judged >= config.min_pages and judged > config.max_share * deletion.live_pages


def judge(deletions: Iterable[MassDeletion], config: MassDeletionConfig, allowance: Allowance | None) -> Verdict:
    """Which deletions past the thresholds commit and which stop the sync.

    A space dropped from space_keys commits (`allowed_by` space_keys); the rest commit with `allow_always`, or with
    `allow_once` when it names a refused run that covers every one of them (its spaces and streams), that no sync has
    spent, and that no successful sync followed; otherwise every one of them is refused (the commit is one).
    """
    heavy = [d for d in deletions if past_threshold(d, config)]
    allowed = [d.decided("allowed", "space_keys") for d in heavy if d.deselected]
    rest = [d for d in heavy if not d.deselected]
    if not rest:
        return Verdict(allowed, [])
    if config.allow_always:
        return Verdict(allowed + [d.decided("allowed", "allow_always") for d in rest], [])
    note = ""
    if config.allow_once:
        problem = _once_problem(config.allow_once, allowance, rest)
        if problem is None:
            by = f"allow_once {config.allow_once}"
            return Verdict(allowed + [d.decided("allowed", by) for d in rest], [])
        note = f"mass_deletion.allow_once {config.allow_once!r} does not apply: {problem}"
    return Verdict(allowed, [d.decided("refused", None) for d in rest], note)


def _once_problem(token: str, allowance: Allowance | None, deletions: Sequence[MassDeletion]) -> str | None:
    if allowance is None or not allowance.refused:
        return "no sync of this index was refused with that run id"
    if allowance.spent_by:
        return f"run {allowance.spent_by} used it already"
    if allowance.succeeded_since:
        return f"run {allowance.succeeded_since} succeeded after the refusal, so it no longer stands"
    covered = {(d.stream, d.space_key) for d in allowance.refused}
    extra = [d for d in deletions if (d.stream, d.space_key) not in covered]
    if extra:
        return f"run {token} did not refuse deletions in {_names(extra)}"
    return None


def refusal_message(verdict: Verdict, run_id: str, table_version: int | None, config: MassDeletionConfig) -> str:
    """One message for the TRACE error and the log: the spaces and counts, that nothing changed, how to allow it."""
    stays = f"table version {table_version} stays live" if table_version is not None else "the table stays as it was"
    parts = [
        f"mass deletion refused, nothing committed: this sync would delete {_describe(verdict.refused)}.",
        f"The index is unchanged ({stays}; nothing was deleted).",
    ]
    if verdict.note:
        parts.append(verdict.note[0].upper() + verdict.note[1:] + ".")
    parts += [
        "If the source lost access to a space or listed only part of it, fix that and sync again.",
        f'If the deletion is intended, allow it once: set mass_deletion.allow_once to "{run_id}" in the destination '
        f"config (local pipe: destination-vectors write ... --allow-mass-deletion {run_id}), or always: "
        "mass_deletion.allow_always true.",
        f"Refused because more than {config.max_share:.0%} of a space's pages of a stream, and at least "
        f"{config.min_pages}, would go (mass_deletion.max_share, mass_deletion.min_pages); a space dropped from the "
        "source's space_keys is emptied without this when the catalog includes the spaces stream (docs/sync.md).",
    ]
    return " ".join(parts)


def _describe(deletions: Sequence[MassDeletion]) -> str:
    phrases = []
    for d in deletions:
        space = f"space {d.space_key}" if d.space_key else "rows without a space"
        count = f"all {d.live_pages}" if d.deleted_pages == d.live_pages else f"{d.deleted_pages} of {d.live_pages}"
        phrase = f"{count} {d.stream} of {space}"
        if d.vanished:
            phrase += " (the space is missing from the source's listing)"
        if d.followed_pages:
            phrase += f" ({d.followed_pages} of them with their page or blog post)"
        phrases.append(phrase)
    return ", ".join(phrases[:-1]) + (" and " if len(phrases) > 1 else "") + phrases[-1]


def _names(deletions: Sequence[MassDeletion]) -> str:
    return ", ".join(f"{d.stream} of space {d.space_key or '(none)'}" for d in deletions)
