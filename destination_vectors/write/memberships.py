"""The writer's side of the `memberships` stream: who is in which group, gathered during the sync and stored with its
commit (store/memberships.py), never chunked or embedded.

The stream is a full refresh: the people of one complete pass replace the previous generation as a whole, so someone
who left a group loses what the group gave them at the next full re-pull. A pass that did not end with its STATE
changes nothing (the previous memberships stay, with a warning).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from destination_vectors.store.memberships import MEMBERSHIPS_STREAM, Generation, Member, MembershipTable
from destination_vectors.write.records import BadRecord

logger = logging.getLogger("airbyte")


def member_from_record(data: Mapping[str, Any]) -> Member:
    """A `memberships` record as a Member; BadRecord when it names nobody (the contract: docs/CONTRACTS.md)."""
    user_id = data.get("user_id")
    if not isinstance(user_id, str) or not user_id.strip():
        raise BadRecord(None, "a memberships record without user_id")
    groups = data.get("groups")
    if groups is None:
        groups = []
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise BadRecord(user_id, f"groups is {type(groups).__name__}, not a list of group names")
    email = data.get("email")
    return Member(
        user_id=user_id,
        groups=tuple(sorted({g for g in groups if g})),
        email=email.strip() if isinstance(email, str) and email.strip() else None,
        display_name=str(data.get("display_name") or ""),
        username=str(data.get("username") or ""),
    )


class Memberships:
    """One sync's `memberships` records, written in step with the sync's chunk commit."""

    def __init__(self, table: MembershipTable) -> None:
        self.table = table
        self._members: dict[str, Member] = {}
        self.written = False  # a generation was stored by this sync (its old table versions are then cleaned)

    def start(self, live_version: int | None) -> None:
        """At the start of a sync: drops what a sync whose chunk commit never landed wrote."""
        dropped = self.table.drop_orphans(live_version)
        if dropped:
            logger.info(f"dropped {dropped} memberships generation(s) written by a sync whose commit never landed")

    def add(self, data: Mapping[str, Any]) -> None:
        """Raises BadRecord for a record that names nobody; a person sent twice is kept once (the later record)."""
        member = member_from_record(data)
        if member.user_id in self._members:
            logger.warning(
                f"stream {MEMBERSHIPS_STREAM}: user {member.user_id} came twice in one sync; the last is kept"
            )
        self._members[member.user_id] = member

    def store(self, live_version: int | None, commit: bool = False) -> Generation:
        """Stores this pass as the new generation: read from the chunk version the coming commit makes (`commit`),
        else from the live one. Written before that commit: until it lands, no search reads it."""
        valid_from = (live_version or 0) + (1 if commit else 0)
        generation = self.table.replace(list(self._members.values()), valid_from, live_version)
        self.written = True
        groups = {group for member in self._members.values() for group in member.groups}
        logger.info(
            f"memberships: {generation.people} people in {len(groups)} groups stored (generation "
            f"{generation.number}, read from table version {valid_from} on)"
        )
        return generation

    def landed(self, generation: Generation | None, version: int) -> None:
        """After the chunk commit: a generation written for it follows it should it have made another version."""
        if generation is not None and generation.valid_from != version:
            logger.warning(
                f"the commit made table version {version}, not {generation.valid_from}: the memberships follow it"
            )
            self.table.restamp(generation, version)

    def finish(self, complete: bool, synced: bool, live_version: int | None) -> None:
        """At the final commit: a complete pass not yet stored (no chunk commit) applies from the live version; a
        pass that did not finish keeps the previous one."""
        if complete and not self.written:
            self.store(live_version)
        elif synced and not complete:
            logger.warning(
                f"stream {MEMBERSHIPS_STREAM} did not finish (no final STATE): the memberships of the previous full "
                "pass are kept"
            )

    def cleanup(self) -> None:
        """After the sync's housekeeping: the memberships table's old versions go too."""
        if self.written:
            self.table.cleanup()
