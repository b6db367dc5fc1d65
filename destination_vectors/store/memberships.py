"""The group memberships a sync was given (the source's `memberships` stream), as a table beside the chunk table.

Search as a person looks their groups up here (read/memberships.py), so `--as-user ID` alone is enough. The table
lives in the chunk table's own LanceDB database (`<table>__memberships`): wherever the index is (a folder, s3://),
every searcher that reads the index reads the memberships too, not only the machine holding the ledger.

Generations keep it in step with the chunks. Each full re-pull writes a new generation stamped `valid_from`: the
chunk-table version its sync's commit makes (the writer holds the table lock, so that is the live version + 1). A
search at chunk version V reads the newest generation with `valid_from <= V`: the groups it resolves always belong
to the chunks it reads, although LanceDB has no transaction across tables. The memberships are written just before
the chunk commit; if that commit never lands, its generation is never read, and the next sync drops it. Each write
is one overwrite commit holding the new generation and the few before it (searches still reading an older chunk
version), so a reader sees a whole generation or none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from destination_vectors.store.snapshot import quote

if TYPE_CHECKING:
    import lance

    from destination_vectors.store.table import ChunkStore

MEMBERSHIPS_STREAM = "memberships"  # the source stream; its records are stored here, never indexed as chunks
TABLE_SUFFIX = "__memberships"
KEEP_GENERATIONS = 3  # the newest and two before it: searches still reading an older chunk version find theirs
HEADER = ""  # the user_id of each generation's first row, so that a pass that listed nobody is a generation too

SCHEMA = pa.schema(
    [
        pa.field("generation", pa.int64(), nullable=False),
        pa.field("valid_from", pa.int64(), nullable=False),  # the chunk-table version from which it applies
        pa.field("user_id", pa.string(), nullable=False),  # as in `user:` tokens: Cloud account id / DC user key
        pa.field("groups", pa.list_(pa.string())),  # as in `group:` tokens
        pa.field("email", pa.string()),  # null where the site hides it
        pa.field("email_key", pa.string()),  # the e-mail address in lower case: what --as-email looks up
        pa.field("display_name", pa.string()),
        pa.field("username", pa.string()),  # Data Center only
    ]
)


@dataclass(frozen=True)
class Member:
    """One person the access tokens concern, as the `memberships` record gave them."""

    user_id: str
    groups: tuple[str, ...] = ()
    email: str | None = None
    display_name: str = ""
    username: str = ""


@dataclass(frozen=True, order=True)
class Generation:
    number: int
    valid_from: int
    people: int = 0


def email_key(email: str) -> str:
    """E-mail addresses are compared without case (Confluence and mail servers treat them so) and surrounding blanks."""
    return email.strip().lower()


def generation_for(generations: Iterable[Generation], chunk_version: int) -> Generation | None:
    """The generation a search at `chunk_version` reads: the newest that applies from that version or earlier."""
    applicable = [g for g in generations if g.valid_from <= chunk_version]
    return max(applicable, key=lambda g: g.number, default=None)


class MembershipTable:
    """`<table>__memberships` in the chunk table's database: written by the sync, read by searches."""

    def __init__(self, store: ChunkStore) -> None:
        self._store = store
        self.name = f"{store.table_name}{TABLE_SUFFIX}"

    def dataset(self, previous: lance.LanceDataset | None = None) -> lance.LanceDataset | None:
        """The newest version (`previous` itself when nothing was written since), or None before any was written."""
        if previous is not None:
            try:
                latest = previous.latest_version
            except Exception:  # dropped or unreachable: open afresh below
                latest = None
            if latest == previous.version:
                return previous
            if latest is not None:
                return previous.checkout_version(latest)
        return self._store.open_dataset(self.name)

    # -- writing (the sync, under the table lock) ------------------------------------------------------------------
    def replace(self, members: Sequence[Member], valid_from: int, live_version: int | None) -> Generation:
        """Writes `members` as a new generation applying from chunk version `valid_from`, in one commit that keeps
        the generations before it readable and drops any a failed sync left (valid_from past `live_version`)."""
        dataset = self.dataset()
        kept = _kept(dataset, live_version)
        number = max((g.number for g in _generations(dataset)), default=0) + 1
        fresh = _rows(members, number, valid_from)
        table = pa.concat_tables([kept, fresh]) if kept is not None else fresh
        self._store.overwrite_table(self.name, table)
        return Generation(number, valid_from, len(members))

    def drop_orphans(self, live_version: int | None) -> int:
        """Drops generations a sync wrote before a chunk commit that never landed (their valid_from is past the live
        version), so that no later commit makes them readable. One commit, only when there are some."""
        dataset = self.dataset()
        if dataset is None:
            return 0
        orphans = [g for g in _generations(dataset) if g.valid_from > (live_version or 0)]
        if not orphans:
            return 0
        kept = _kept(dataset, live_version, keep=len(_generations(dataset)))
        self._store.overwrite_table(self.name, kept if kept is not None else SCHEMA.empty_table())
        return len(orphans)

    def restamp(self, generation: Generation, valid_from: int) -> None:
        """Moves a generation to the version its commit actually made (only if a commit landed elsewhere than
        expected, which the table lock should prevent)."""
        dataset = self.dataset()
        if dataset is None:
            return
        table = dataset.to_table()
        mask = pc.equal(table.column("generation"), generation.number)
        valid = pc.if_else(mask, pa.scalar(valid_from, pa.int64()), table.column("valid_from"))
        table = table.set_column(table.schema.get_field_index("valid_from"), "valid_from", valid)
        self._store.overwrite_table(self.name, table)

    def cleanup(self) -> None:
        """Removes the table's old versions (one per sync with memberships), like the chunk table's housekeeping."""
        dataset = self.dataset()
        if dataset is not None:
            dataset.cleanup_old_versions(older_than=timedelta(0), delete_unverified=True)

    # -- reading ---------------------------------------------------------------------------------------------------
    @staticmethod
    def generations(dataset: lance.LanceDataset | None) -> list[Generation]:
        return _generations(dataset)

    @staticmethod
    def lookup(dataset: lance.LanceDataset, generation: Generation, column: str, value: str) -> list[dict]:
        """The rows of `generation` whose `column` (user_id or email_key) is `value`."""
        return dataset.to_table(
            columns=["user_id", "groups", "email", "display_name", "username"],
            filter=f"generation = {generation.number} AND {column} = {quote(value)}",
        ).to_pylist()

    @staticmethod
    def has_emails(dataset: lance.LanceDataset, generation: Generation) -> bool:
        """Whether the site gave any e-mail address in this generation (a Cloud site may hide them all)."""
        found = dataset.to_table(
            columns=["user_id"], filter=f"generation = {generation.number} AND email_key IS NOT NULL", limit=1
        )
        return found.num_rows > 0


def _generations(dataset: lance.LanceDataset | None) -> list[Generation]:
    if dataset is None:
        return []
    table = dataset.to_table(columns=["generation", "valid_from"])
    if table.num_rows == 0:
        return []
    counted = table.group_by(["generation", "valid_from"]).aggregate([("generation", "count")])
    return sorted(
        Generation(number, valid_from, people)
        for number, valid_from, people in zip(
            counted.column("generation").to_pylist(),
            counted.column("valid_from").to_pylist(),
            (count - 1 for count in counted.column("generation_count").to_pylist()),  # the header is nobody
            strict=True,
        )
    )


def _kept(
    dataset: lance.LanceDataset | None, live_version: int | None, keep: int = KEEP_GENERATIONS - 1
) -> pa.Table | None:
    """The rows of the newest `keep` generations that a live chunk version can reach."""
    reachable = [g for g in _generations(dataset) if g.valid_from <= (live_version or 0)]
    wanted = sorted(g.number for g in reachable)[-keep:] if keep > 0 else []
    if dataset is None or not wanted:
        return None
    numbers = ", ".join(str(n) for n in wanted)
    return dataset.to_table(filter=f"generation IN ({numbers})").cast(SCHEMA)


def _rows(members: Sequence[Member], generation: int, valid_from: int) -> pa.Table:
    members = [Member(HEADER), *members]
    return pa.table(
        {
            "generation": [generation] * len(members),
            "valid_from": [valid_from] * len(members),
            "user_id": [m.user_id for m in members],
            "groups": [list(m.groups) for m in members],
            "email": [m.email for m in members],
            "email_key": [email_key(m.email) if m.email else None for m in members],
            "display_name": [m.display_name for m in members],
            "username": [m.username for m in members],
        },
        schema=SCHEMA,
    )
