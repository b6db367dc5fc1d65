"""Who a searching person is: their groups (and, from an e-mail address, their account), looked up in the memberships
the index was given at sync time (store/memberships.py), at the chunk version being searched.

A front end names a person the way it knows them, an account id (`--as-user`) or an e-mail address (`--as-email`),
and may add groups it knows itself (`--group`). The resolved principal's groups are the stored ones plus those.
An account the memberships do not list is an unknown person: only what is open to anyone, plus any given groups.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from destination_vectors.read.access import Principal
from destination_vectors.store.memberships import Generation, MembershipTable, email_key, generation_for

if TYPE_CHECKING:
    import lance

logger = logging.getLogger("airbyte")


class IdentityError(ValueError):
    """A person that cannot be searched as, in a sentence the user can act on."""


class MembershipResolver:
    """Looks people up in the memberships table; answers are cached per (table version, chunk version, person)."""

    def __init__(self, table: MembershipTable) -> None:
        self._table = table
        self._lock = threading.Lock()
        self._dataset: lance.LanceDataset | None = None
        self._generations: dict[int, list[Generation]] = {}  # memberships version -> its generations
        self._cache: dict[tuple, tuple] = {}

    def principal(self, chunk_version: int, principal: Principal) -> Principal:
        """`principal` with the groups the memberships give its account at `chunk_version` added."""
        if principal.account_id is None:
            return principal
        dataset, generation = self._current(chunk_version)
        if generation is None:
            return principal
        key = (dataset.version, generation.number, "user_id", principal.account_id)
        groups = self._cached(key, lambda: _groups(self._table.lookup(dataset, generation, "user_id", key[3])))
        if not set(groups) - set(principal.groups):
            return principal
        return principal.model_copy(update={"groups": tuple(dict.fromkeys((*principal.groups, *groups)))})

    def account_for_email(self, chunk_version: int, email: str) -> str | None:
        """The account id the memberships give `email` (None: nobody has it). IdentityError when no memberships
        were synced, when the site hides e-mail addresses, or when two accounts share the address."""
        if not email or "@" not in email:
            raise IdentityError(f"{email!r} is not an e-mail address")
        dataset, generation = self._current(chunk_version)
        if generation is None:
            raise IdentityError(
                "this index holds no group memberships (the memberships stream was not synced), so it cannot tell "
                "whose e-mail address this is: sync the memberships stream, or search with --as-user ACCOUNT_ID"
            )
        has_emails = self._cached(
            (dataset.version, generation.number, "has_emails"), lambda: self._table.has_emails(dataset, generation)
        )
        if not has_emails:
            raise IdentityError(
                f"the Confluence site hides e-mail addresses (none of the {generation.people} "
                f"{'person' if generation.people == 1 else 'people'} in the memberships synced has one), so "
                "--as-email cannot be resolved: "
                "search with --as-user ACCOUNT_ID, or let the site show e-mail addresses to the token's user "
                "(Cloud: the profile visibility settings) and sync again"
            )
        key = (dataset.version, generation.number, "email_key", email_key(email))
        rows = self._cached(key, lambda: tuple(self._table.lookup(dataset, generation, "email_key", key[3])))
        accounts = sorted({row["user_id"] for row in rows})
        if len(accounts) > 1:
            raise IdentityError(
                f"the e-mail address {email} belongs to {len(accounts)} accounts ({', '.join(accounts)}): "
                "search with --as-user and the one you mean"
            )
        return accounts[0] if accounts else None

    def resolve(
        self,
        chunk_version: int,
        as_user: str | None = None,
        as_email: str | None = None,
        groups: Sequence[str] = (),
    ) -> Principal:
        """The principal a front end's flags name (exactly one of as_user, as_email): the account and the given
        groups only. The stored groups are added by `principal` at each search, never kept here: a long-running
        front end holding this principal follows the next re-pull."""
        if (as_user is None) == (as_email is None):
            raise IdentityError("name the person with exactly one of --as-user and --as-email")
        account = as_user
        if as_user is not None and self._current(chunk_version)[1] is None:
            logger.warning(
                "this index holds no group memberships (the memberships stream was not synced): only the groups "
                "given with --group count for this person"
            )
        if as_email is not None:
            account = self.account_for_email(chunk_version, as_email)
            if account is None:
                logger.warning(
                    f"no one with the e-mail address {as_email} is in the memberships synced: searching as an "
                    "unknown person (only what is open to anyone" + (", and the given groups)" if groups else ")")
                )
        return Principal(account_id=account, groups=tuple(groups))

    # -- helpers ---------------------------------------------------------------------------------------------------
    def _current(self, chunk_version: int) -> tuple[lance.LanceDataset | None, Generation | None]:
        with self._lock:
            self._dataset = self._table.dataset(self._dataset)
            dataset = self._dataset
            if dataset is None:
                return None, None
            if dataset.version not in self._generations:
                self._generations = {dataset.version: self._table.generations(dataset)}
                self._cache = {}
            return dataset, generation_for(self._generations[dataset.version], chunk_version)

    def _cached(self, key: tuple, compute):  # noqa: ANN001, ANN202 - a small memo, private
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        value = compute()
        with self._lock:
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[key] = value
        return value


def _groups(rows: list[dict]) -> tuple[str, ...]:
    return tuple(sorted({group for row in rows for group in row.get("groups") or ()}))
