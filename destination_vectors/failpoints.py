"""Named crash points for the kill tests: `DESTINATION_VECTORS_FAILPOINT=<name>[:<n>]` SIGKILLs the process the n-th
time (default first) the write passes that point. Unset (always, outside tests), a failpoint is one dict lookup."""

from __future__ import annotations

import os
import signal

ENV = "DESTINATION_VECTORS_FAILPOINT"
POINTS = (
    "record",  # after a record was converted and chunked
    "embed",  # after a batch was embedded, before it was staged
    "stage",  # after a batch was written to the staging table
    "before_commit",  # everything staged, live table untouched
    "after_commit",  # the new snapshot committed, ledger not yet updated
    "after_ledger",  # ledger updated, housekeeping not started
    "housekeeping",  # snapshot tagged, before compaction and cleanup
    "after_cleanup",  # old versions cleaned, staging not yet dropped
)
_seen: dict[str, int] = {}


def failpoint(name: str) -> None:
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _seen[name] = _seen.get(name, 0) + 1
    if _seen[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
