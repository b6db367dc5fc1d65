"""Searching as a person: which index rows a principal may read, as a filter applied before ranking.

Each row carries `readers`, the tokens the source computed with Confluence's rule (docs/CONTRACTS.md, `pages`
record): `user:<account id>`, `group:<name>`, `anonymous`. A principal reads a row iff the row's `readers` share a
token with the principal's own: its account, the groups it names, and `anonymous` (what a space opens to everyone
is open to every person). An account the index has never seen therefore reads only what is open to anonymous users.
A row without `readers` (written before access was read) reads as readable by nobody: fail closed.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

ANYONE = "anonymous"
READERS_COLUMN = "readers"


class Principal(BaseModel):
    """A person searching: their Confluence account id (Data Center: user key) and group names. Search adds the
    groups the index's memberships give the account (read/memberships.py) to those named here. No account: a person
    the index does not know (e.g. an e-mail address nobody has), who reads what is open to anyone and to `groups`."""

    account_id: str | None = Field(None, min_length=1)
    groups: tuple[str, ...] = ()

    @field_validator("account_id")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("account_id must not be blank")
        return value

    def tokens(self) -> list[str]:
        """The tokens a row's `readers` must share with this principal for the principal to read it."""
        account = [f"user:{self.account_id}"] if self.account_id is not None else []
        return [*account, *(f"group:{group}" for group in self.groups), ANYONE]


def readable_filter(principal: Principal, column: str = READERS_COLUMN) -> str:
    """A LanceDB (DataFusion SQL) filter keeping the rows `principal` may read; values are quoted, never spliced."""
    values = ", ".join(_sql_string(token) for token in principal.tokens())
    return f"array_has_any({column}, [{values}])"


def may_read(principal: Principal, readers: list[str] | tuple[str, ...] | None) -> bool:
    """The same rule in Python (for rows already in memory, e.g. carry-over checks and tests)."""
    return bool(set(readers or ()) & set(principal.tokens()))


def _sql_string(value: str) -> str:
    if "\x00" in value:
        raise ValueError("a principal may not contain NUL characters")
    return "'" + value.replace("'", "''") + "'"
